"""GitOps apps (Flux, Argo CD) on top of the generic targets: discovery and render dispatch.

An app renders content the generic discovery also finds (the folder a Flux Kustomization points
at is a kustomize root too). The app is what the controller applies, so a generic target whose
every input is rendered by some app is dropped: nothing is rendered or diffed twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.core.render import argo, flux
from bot.core.render.app_context import RenderContext
from bot.core.tree_view import TreeView
from bot.model.finding import Finding
from bot.model.render import RenderTarget, TargetKind, TargetRender
from bot.model.repo_config import RenderConfig

APP_KINDS = frozenset(
    {TargetKind.FLUX_KUSTOMIZATION, TargetKind.FLUX_HELMRELEASE, TargetKind.ARGO_APPLICATION}
)

AppRenderer = Callable[[RenderTarget, RenderContext], TargetRender]

RENDERERS: Mapping[TargetKind, AppRenderer] = {
    TargetKind.FLUX_KUSTOMIZATION: flux.render_kustomization,
    TargetKind.FLUX_HELMRELEASE: flux.render_helm_release,
    TargetKind.ARGO_APPLICATION: argo.render_application,
}


def combine_with_apps(
    view: TreeView, config: RenderConfig, generic: tuple[RenderTarget, ...]
) -> tuple[tuple[RenderTarget, ...], tuple[Finding, ...]]:
    """Generic targets not rendered by any app, then every app target."""
    found = [flux.discover(view, config), argo.discover(view, config)]
    apps = tuple(t for d in found for t in d.targets)
    findings = tuple(f for d in found for f in d.findings)
    covered = frozenset(
        f
        for d in found
        for f in (
            d.covers if d.covers is not None else (f for t in d.targets for f in t.input_files)
        )
    )
    kept = tuple(t for t in generic if not (t.input_files and t.input_files <= covered))
    return (*kept, *apps), findings
