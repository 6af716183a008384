"""Which files a change touches, from two snapshots' blob ids (no git diff needed)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.model.change import FileChange, FileStatus
from bot.ports import TreeEntry


def changed_files(
    base: Mapping[str, TreeEntry], head: Mapping[str, TreeEntry]
) -> tuple[FileChange, ...]:
    changes = [
        FileChange(path, FileStatus.REMOVED if path not in head else FileStatus.MODIFIED)
        for path, entry in base.items()
        if path not in head or head[path] != entry
    ]
    changes += [FileChange(path, FileStatus.ADDED) for path in head if path not in base]
    return tuple(sorted(changes))
