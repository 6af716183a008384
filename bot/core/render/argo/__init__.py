"""Argo CD: Applications and ApplicationSets whose source is this repository.

Scaffolding for the Argo CD helper: replaced by the real implementation (issue 4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.render.app_context import AppTargets, RenderContext
from bot.model.render import RenderTarget, TargetRender

if TYPE_CHECKING:
    from bot.core.tree_view import TreeView
    from bot.model.repo_config import RenderConfig


def discover(view: TreeView, config: RenderConfig) -> AppTargets:
    return AppTargets(())


def render_application(target: RenderTarget, context: RenderContext) -> TargetRender:
    raise NotImplementedError(target.target_id)
