"""What discovery hands the Flux renderers: the static reading of one app, carried in
`RenderTarget.spec["flux"]` so rendering never rescans the repository."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.render.flux.charts import ChartPlan
from bot.core.render.flux.layout import BuildLayout
from bot.core.render.flux.objects import Declared
from bot.core.render.flux.sources import SourceResolution
from bot.model.render import RenderTarget

PLAN_KEY = "flux"


@dataclass(frozen=True, slots=True)
class KustomizationPlan:
    declared: Declared
    namespace: str  # where the object lives once applied
    source: SourceResolution
    directory: str | None  # spec.path in the repository; None when it is not in it
    layout: BuildLayout | None
    config_maps: Mapping[tuple[str, str], Declared] = field(default_factory=dict)
    secrets: Mapping[tuple[str, str], Declared] = field(default_factory=dict)
    standalone: bool = False  # the parent applies it exactly as written (see discovery)


@dataclass(frozen=True, slots=True)
class HelmReleasePlan:
    declared: Declared
    namespace: str
    chart: ChartPlan
    config_maps: Mapping[tuple[str, str], Declared] = field(default_factory=dict)
    standalone: bool = False


def plan_of(target: RenderTarget) -> KustomizationPlan | HelmReleasePlan | None:
    spec: Mapping[str, Any] = target.spec or {}
    plan = spec.get(PLAN_KEY)
    return plan if isinstance(plan, KustomizationPlan | HelmReleasePlan) else None
