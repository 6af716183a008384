"""`.gitops-bot.yaml`, as read from the base branch."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.model.finding import Severity
from bot.model.render import HelmRelease

CONFIG_PATH = ".gitops-bot.yaml"

DEFAULT_IGNORED_LABELS = ("helm.sh/chart",)
DEFAULT_IGNORED_ANNOTATIONS = ("config.kubernetes.io/origin",)


@dataclass(frozen=True, slots=True)
class HelmReleaseConfig:
    """An explicit instantiation of a local chart, replacing the values-file convention."""

    chart: str
    release: HelmRelease


@dataclass(frozen=True, slots=True)
class RenderConfig:
    timeout_seconds: float = 120.0
    max_output_bytes: int = 64 * 1024 * 1024
    max_file_bytes: int = 2 * 1024 * 1024
    ignore: tuple[str, ...] = ()
    helm_releases: tuple[HelmReleaseConfig, ...] = ()


@dataclass(frozen=True, slots=True)
class DiffConfig:
    ignore_labels: tuple[str, ...] = DEFAULT_IGNORED_LABELS
    ignore_annotations: tuple[str, ...] = DEFAULT_IGNORED_ANNOTATIONS


@dataclass(frozen=True, slots=True)
class RepoConfig:
    """Everything the repository says about how it wants to be reviewed."""

    fail_on: Severity | None = Severity.ERROR  # None: never fail
    render: RenderConfig = field(default_factory=RenderConfig)
    diff: DiffConfig = field(default_factory=DiffConfig)
