"""A RepoTree that is another tree plus generated files (Flux's kustomization.yaml, a fetched
chart, merged values): what the controllers would see, without touching the real revision."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from bot.core.memory_tree import blob_id
from bot.ports import EntryMode, RepoTree, TreeEntry


class OverlayTree:
    def __init__(self, base: RepoTree, files: Mapping[str, bytes]) -> None:
        self._base = base
        self._files = dict(files)
        entries = dict(base.entries())
        for path, data in self._files.items():
            entries[path] = TreeEntry(blob_id(data), EntryMode.FILE, len(data))
        self._entries = entries
        digest = hashlib.sha256(base.tree_id.encode())
        for path, data in sorted(self._files.items()):
            digest.update(b"\0" + path.encode() + b"\0" + hashlib.sha256(data).digest())
        # A distinct id per content: runners cache materialised trees by id.
        self._tree_id = f"{base.tree_id}+{digest.hexdigest()[:16]}"

    @property
    def tree_id(self) -> str:
        return self._tree_id

    def entries(self) -> Mapping[str, TreeEntry]:
        return self._entries

    def read(self, path: str) -> bytes:
        if path in self._files:
            return self._files[path]
        return self._base.read(path)

    @property
    def generated(self) -> frozenset[str]:
        return frozenset(self._files)
