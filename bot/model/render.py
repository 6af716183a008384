"""Render targets, their coverage, and the rendered desired state of one revision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.model.finding import Finding, Severity
from bot.model.resource import Location, Resource, ResourceKey


class TargetKind(StrEnum):
    PLAIN = "plain"
    KUSTOMIZE = "kustomize"
    HELM = "helm"
    FLUX_KUSTOMIZATION = "flux-kustomization"
    FLUX_HELMRELEASE = "flux-helmrelease"
    ARGO_APPLICATION = "argo-application"


@dataclass(frozen=True, slots=True)
class AppRef:
    """The GitOps object a target stands for (a Flux Kustomization or HelmRelease, an Argo CD
    Application): the unit a controller applies, and how the comment groups diffs.

    `source` says where its content comes from, in the user's words ("./apps/production",
    "chart podinfo 6.x from HelmRepository flux-system/podinfo"); `declared_in` is where the
    object itself is written (None when it only exists in another app's rendered output).
    """

    kind: str
    namespace: str
    name: str
    source: str = ""
    declared_in: Location | None = None
    depends_on: tuple[str, ...] = ()

    def display(self) -> str:
        return (
            f"{self.kind} {self.namespace}/{self.name}"
            if self.namespace
            else (f"{self.kind} {self.name}")
        )


@dataclass(frozen=True, slots=True)
class HelmRelease:
    """How one local chart is instantiated: release name, namespace and values files."""

    release_name: str
    namespace: str
    value_files: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RenderTarget:
    """Something that renders to Kubernetes objects, with every repo file its output depends on.

    `target_id` is stable across revisions so base and head targets pair up.
    `blocked_by` holds findings found before rendering (remote bases, path escapes, plugins):
    a blocked target is reported as failed and never handed to a tool. A target with a
    `skip_reason` is listed in the coverage as skipped, never rendered; `skip_unexpected` marks
    a skip of content this repository holds (a chart that may not be fetched), which fails the
    check when `render.fail_on_skipped` says so.
    """

    target_id: str
    kind: TargetKind
    path: str
    input_files: frozenset[str]
    helm: HelmRelease | None = None
    blocked_by: tuple[Finding, ...] = ()
    skip_reason: str = ""
    skip_unexpected: bool = False
    # GitOps apps (Flux, Argo CD): which app and cluster the rendered resources belong to, the
    # target whose rendered output holds the app object (after that target's patches) and the
    # object as declared, for the renderer.
    app: AppRef | None = None
    cluster: str = ""
    parent: str = ""
    spec: Mapping[str, Any] | None = field(default=None, compare=False)


class CoverageStatus(StrEnum):
    RENDERED = "rendered"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CoverageEntry:
    target_id: str
    kind: TargetKind
    status: CoverageStatus
    reason: str = ""
    base_resources: int = 0
    head_resources: int = 0
    app: str = ""  # AppRef.display() of the target's app, "" for plain/kustomize/helm targets
    cluster: str = ""


@dataclass(frozen=True, slots=True)
class TargetRender:
    """The outcome of rendering one target at one revision."""

    target_id: str
    resources: tuple[Resource, ...] = ()
    findings: tuple[Finding, ...] = ()
    # Set when the renderer decided not to render (a remote chart that may not be fetched): the
    # coverage lists the target as skipped with this reason, and it counts as unexpected.
    skipped: str = ""

    @property
    def failed(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)


@dataclass(frozen=True, slots=True)
class RenderedState:
    """Resources of one revision (only the targets that were rendered), keyed for pairing."""

    resources: Mapping[ResourceKey, Resource] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
