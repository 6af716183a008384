"""Which cluster an app deploys to, from `clusters.<name>.paths` in .gitops-bot.yaml."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.paths import is_under
from bot.model.repo_config import RenderConfig


def cluster_of(
    paths: Iterable[str], config: RenderConfig, destination_name: str = "", inherited: str = ""
) -> str:
    """The cluster whose directory holds the first of `paths` (the Application's file, then
    its sources) most specifically; else the parent app's; else the cluster named like
    `spec.destination.name`; else none."""
    for path in paths:
        best, depth = "", -1
        for cluster, directories in config.cluster_paths.items():
            for directory in directories:
                clean = directory.strip("/")
                if is_under(path, clean) and clean.count("/") + bool(clean) > depth:
                    best, depth = cluster, clean.count("/") + bool(clean)
        if best:
            return best
    if inherited:
        return inherited
    return destination_name if destination_name in config.cluster_paths else ""
