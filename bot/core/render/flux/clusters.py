"""Which cluster a Flux root belongs to: configured directories first, then the convention."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.paths import is_under
from bot.model.repo_config import RenderConfig


def cluster_of(paths: Iterable[str], config: RenderConfig) -> str:
    """The cluster of the first path that says: a `clusters.<name>.paths` directory containing
    it (the most specific wins), else a `clusters/<name>/` directory on its way."""
    candidates = [p for p in paths if p is not None]
    for path in candidates:
        best = ""
        best_len = -1
        for name, directories in sorted(config.cluster_paths.items()):
            for written in directories:
                directory = written.removeprefix("./").strip("/")
                if is_under(path, directory) and len(directory) > best_len:
                    best, best_len = name, len(directory)
        if best_len >= 0:
            return best
    for path in candidates:
        parts = path.split("/")
        for i, part in enumerate(parts[:-1]):
            if part == "clusters" and i + 1 < len(parts) - 1:
                return parts[i + 1]
    return ""
