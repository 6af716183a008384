"""Private per-job temp directories, and RepoTrees written out for tools that need real files."""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import stat
import sys
import tempfile
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from bot.ports import EntryMode, RepoTree


def _force_remove(function: Callable[..., Any], path: str, _exc: object) -> None:
    # Tools may leave read-only directories in their HOME; make them writable and retry once.
    with contextlib.suppress(OSError):
        failed = Path(path)
        failed.parent.chmod(stat.S_IRWXU)
        if failed.is_dir() and not failed.is_symlink():
            failed.chmod(stat.S_IRWXU)
        function(path)


def remove_tree(path: Path) -> None:
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=_force_remove)
    else:  # onerror is deprecated from 3.12 on
        shutil.rmtree(path, onerror=_force_remove)


def safe_parts(path: str) -> tuple[str, ...] | None:
    """The components of a repo-relative path, or None if writing it could leave the root.

    `.git` is refused too: a planted .git/config would configure any git a tool runs here.
    """
    if not path or path.startswith("/") or "\0" in path:
        return None
    parts = tuple(path.split("/"))
    if any(part in ("", ".", "..") or part.lower() == ".git" for part in parts):
        return None
    return parts


def link_stays_inside(path: str, target: str) -> bool:
    if not target or target.startswith("/"):
        return False
    normal = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    return normal != ".." and not normal.startswith(("../", "/"))


def _within(root: Path, candidate: str) -> bool:
    real = Path(candidate)
    return real == root or root in real.parents


class Workspace:
    """Owns one 0700 temp directory; everything tools see or write lives below it."""

    def __init__(self, base_dir: str | None = None) -> None:
        # resolve(): tools print real paths, and the runner scrubs exactly this prefix.
        self.root = Path(tempfile.mkdtemp(prefix="gitops-bot-", dir=base_dir)).resolve()
        self.root.chmod(stat.S_IRWXU)
        self._trees: dict[tuple[str, frozenset[str] | None], Path] = {}
        self._skipped: dict[tuple[str, frozenset[str] | None], tuple[str, ...]] = {}
        self._count = 0
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, remove_tree, self.root)

    def new_dir(self, prefix: str) -> Path:
        """A fresh private directory (e.g. a tool's HOME) that close() removes."""
        return Path(tempfile.mkdtemp(prefix=prefix, dir=self.root))

    def materialize(self, tree: RepoTree, only: frozenset[str] | None = None) -> Path:
        """Write `tree` (or just the paths in `only`) out once and return its directory.

        Cached by (tree_id, only): renders of one target at one revision share a directory.
        """
        key = (tree.tree_id, only)
        with self._lock:
            if not self._finalizer.alive:
                raise ValueError("materialize on a closed Workspace")
            cached = self._trees.get(key)
            if cached is not None:
                return cached
            self._count += 1
            dest = self.root / str(self._count) / "repo"
            dest.mkdir(parents=True)
            try:
                skipped = _write_tree(tree, dest, only)
            except BaseException:
                remove_tree(dest.parent)
                raise
            self._trees[key] = dest
            self._skipped[key] = skipped
            return dest

    def skipped(self, tree: RepoTree, only: frozenset[str] | None = None) -> tuple[str, ...]:
        """Paths of a materialised tree that were not written: unsafe paths, escaping links."""
        with self._lock:
            return self._skipped.get((tree.tree_id, only), ())

    def close(self) -> None:
        with self._lock:
            self._finalizer()
            self._trees.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _write_file(dest: Path, parts: tuple[str, ...], data: bytes, executable: bool) -> None:
    target = dest.joinpath(*parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = 0o755 if executable else 0o644
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(target, flags, mode)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(fd, mode)  # the umask must not drop the executable bit
        handle.write(data)


def _write_tree(tree: RepoTree, dest: Path, only: frozenset[str] | None) -> tuple[str, ...]:
    skipped: list[str] = []
    links: list[tuple[str, tuple[str, ...]]] = []
    entries = tree.entries()
    selected = entries.items() if only is None else ((p, entries[p]) for p in only if p in entries)
    # Files first: while no symlink exists yet, creating directories cannot follow one.
    for path, entry in sorted(selected):
        parts = safe_parts(path)
        if parts is None:
            skipped.append(path)
        elif entry.mode is EntryMode.SYMLINK:
            links.append((path, parts))
        else:
            try:
                _write_file(dest, parts, tree.read(path), entry.mode is EntryMode.EXECUTABLE)
            except (FileExistsError, NotADirectoryError, IsADirectoryError):
                skipped.append(path)  # a file and a directory of the same name
    created: list[str] = []
    for path, parts in links:
        target = os.fsdecode(tree.read(path))
        link = dest.joinpath(*parts)
        if not link_stays_inside(path, target):
            skipped.append(path)
            continue
        try:
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(target)
        except (FileExistsError, NotADirectoryError):
            skipped.append(path)
            continue
        created.append(path)
    skipped.extend(_drop_escaping_links(dest, created))
    return tuple(sorted(skipped))


def _drop_escaping_links(dest: Path, created: list[str]) -> list[str]:
    """The lexical check misses chains ("a/d -> .." then "a/e -> d/../.."); ask the kernel.

    Removing a link only makes others dangle, never escape, so repeat until nothing changes.
    """
    dropped: list[str] = []
    remaining = list(created)
    changed = True
    while changed:
        changed = False
        for path in list(remaining):
            if not _within(dest, os.path.realpath(dest / path)):
                (dest / path).unlink()
                remaining.remove(path)
                dropped.append(path)
                changed = True
    return dropped
