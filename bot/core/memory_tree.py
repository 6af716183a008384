"""A RepoTree held in memory: files handed in by an adapter (e.g. paths given on a command line)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from bot.ports import EntryMode, TreeEntry


def blob_id(content: bytes) -> str:
    """git's blob hash, so entries compare equal to those of a git tree with the same bytes."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


class InMemoryTree:
    def __init__(self, files: Mapping[str, bytes], tree_id: str = "memory") -> None:
        self._files = dict(files)
        self._entries = {
            path: TreeEntry(blob_id(data), EntryMode.FILE, len(data))
            for path, data in self._files.items()
        }
        self._tree_id = tree_id

    @property
    def tree_id(self) -> str:
        return self._tree_id

    def entries(self) -> Mapping[str, TreeEntry]:
        return self._entries

    def read(self, path: str) -> bytes:
        return self._files[path]
