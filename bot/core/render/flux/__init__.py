"""Flux: Kustomizations and HelmReleases rendered as the controllers would apply them.

`discover` reads a revision statically (flux/discovery.py); `render_kustomization` and
`render_helm_release` render one app at a time through the RenderContext, parents first."""

from __future__ import annotations

from bot.core.render.flux.build import render_kustomization
from bot.core.render.flux.discovery import discover
from bot.core.render.flux.helmrelease import render_helm_release

__all__ = ["discover", "render_helm_release", "render_kustomization"]
