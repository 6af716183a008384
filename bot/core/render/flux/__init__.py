"""Flux: Kustomizations and HelmReleases rendered as the controllers would apply them.

Scaffolding for the Flux helper: `discover` and the two renderers are replaced by the real
implementation (issue 4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.render.app_context import AppTargets, RenderContext
from bot.model.render import RenderTarget, TargetRender

if TYPE_CHECKING:
    from bot.core.tree_view import TreeView
    from bot.model.repo_config import RenderConfig


def discover(view: TreeView, config: RenderConfig) -> AppTargets:
    return AppTargets(())


def render_kustomization(target: RenderTarget, context: RenderContext) -> TargetRender:
    raise NotImplementedError(target.target_id)


def render_helm_release(target: RenderTarget, context: RenderContext) -> TargetRender:
    raise NotImplementedError(target.target_id)
