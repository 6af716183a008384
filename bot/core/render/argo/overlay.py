"""A revision's tree with a few generated files on top: how Argo CD's in-place edits (a
kustomization rewritten by `kustomize edit`, a values file written from `values:`) reach a tool
without ever touching the repository."""

from __future__ import annotations

from bot.core.overlay_tree import OverlayTree
from bot.ports import RepoTree

__all__ = ["GENERATED_DIR", "OverlayTree", "generated_path"]

GENERATED_DIR = ".gitops-bot-argocd"


def generated_path(tree: RepoTree, name: str) -> str:
    """A path for a generated file that no file of the revision already uses."""
    entries = tree.entries()
    candidate, n = f"{GENERATED_DIR}/{name}", 0
    while candidate in entries or any(p.startswith(candidate + "/") for p in entries):
        n += 1
        candidate = f"{GENERATED_DIR}/{n}-{name}"
    return candidate
