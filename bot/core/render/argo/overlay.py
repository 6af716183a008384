"""A revision's tree with a few generated files on top: how Argo CD's in-place edits (a
kustomization rewritten by `kustomize edit`, a values file written from `values:`) reach a tool
without ever touching the repository."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from bot.core.memory_tree import blob_id
from bot.ports import EntryMode, RepoTree, TreeEntry

GENERATED_DIR = ".gitops-bot-argocd"


class OverlayTree:
    def __init__(self, base: RepoTree, files: Mapping[str, bytes]) -> None:
        self._base = base
        self._files = dict(files)
        entries = dict(base.entries())
        entries.update(
            (path, TreeEntry(blob_id(data), EntryMode.FILE, len(data)))
            for path, data in self._files.items()
        )
        self._entries = entries
        digest = hashlib.sha256(base.tree_id.encode())
        for path, data in sorted(self._files.items()):
            digest.update(b"\0" + path.encode() + b"\0" + hashlib.sha256(data).digest())
        # The runner caches materialised trees by id: generated content must be part of it.
        self._tree_id = f"{base.tree_id}+argocd-{digest.hexdigest()[:16]}"

    @property
    def tree_id(self) -> str:
        return self._tree_id

    def entries(self) -> Mapping[str, TreeEntry]:
        return self._entries

    def read(self, path: str) -> bytes:
        if path in self._files:
            return self._files[path]
        return self._base.read(path)


def generated_path(tree: RepoTree, name: str) -> str:
    """A path for a generated file that no file of the revision already uses."""
    entries = tree.entries()
    candidate, n = f"{GENERATED_DIR}/{name}", 0
    while candidate in entries or any(p.startswith(candidate + "/") for p in entries):
        n += 1
        candidate = f"{GENERATED_DIR}/{n}-{name}"
    return candidate
