"""RepoTree for a working directory as it is on disk, uncommitted changes included."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType

from bot.engines.git_tree import run_git
from bot.model.errors import RepositoryError
from bot.ports import EntryMode, TreeEntry

_SKIPPED_DIRS = frozenset({".git"})


def git_blob_id(data: bytes) -> str:
    """git's object id for a blob, so a working-tree file compares equal to a committed one."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _is_relative(path: str) -> bool:
    return bool(path) and not path.startswith("/") and ".." not in path.split("/")


def _inside(root: Path, rel: str) -> bool:
    # The file itself may be a symlink (an entry of its own), but no directory on the way to
    # it may lead out of root: otherwise a symlinked directory would let us read anything.
    real_parent = Path(os.path.realpath((root / rel).parent))
    return real_parent == root or root in real_parent.parents


def _read_nofollow(full: Path) -> bytes:
    fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def _entry(root: Path, rel: str) -> tuple[TreeEntry, bytes] | None:
    full = root / rel
    try:
        info = os.lstat(full)
    except (FileNotFoundError, NotADirectoryError):
        return None  # tracked but deleted in the working tree
    if not _inside(root, rel):
        return None
    if stat.S_ISLNK(info.st_mode):
        target = os.fsencode(full.readlink())  # git stores the target, never follows it
        return TreeEntry(git_blob_id(target), EntryMode.SYMLINK, len(target)), target
    if not stat.S_ISREG(info.st_mode):
        return None  # directories (nested repositories), fifos, sockets
    data = _read_nofollow(full)
    mode = EntryMode.EXECUTABLE if info.st_mode & stat.S_IXUSR else EntryMode.FILE
    return TreeEntry(git_blob_id(data), mode, len(data)), data


def _git_paths(root: Path) -> list[str] | None:
    try:
        probe = run_git(root, "rev-parse", "--is-inside-work-tree")
    except RepositoryError:
        return None  # no git binary: a plain directory walk is still correct
    if probe.returncode != 0 or probe.stdout.strip() != b"true":
        return None
    # Run from root, ls-files lists only root's subtree, relative to root.
    listing = run_git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if listing.returncode != 0:
        detail = listing.stderr.decode("utf-8", "replace").strip()
        raise RepositoryError(f"cannot list files of {root}: {detail}")
    paths = {raw.decode("utf-8", "surrogateescape") for raw in listing.stdout.split(b"\0")}
    # Merge conflicts list a path once per stage; --others lists nested repositories as "dir/".
    return sorted(path for path in paths if path and not path.endswith("/"))


def _walk_paths(root: Path) -> list[str]:
    paths: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [name for name in dirnames if name not in _SKIPPED_DIRS]
        # os.walk reports a symlink to a directory among dirnames and never descends into it.
        linked_dirs = [name for name in dirnames if Path(dirpath, name).is_symlink()]
        for name in (*filenames, *linked_dirs):
            paths.append(Path(dirpath, name).relative_to(root).as_posix())
    return sorted(paths)


def _tree_id(entries: Iterable[tuple[str, TreeEntry]]) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    for path, entry in sorted(entries):
        line = f"{path}\0{entry.blob_id}\0{entry.mode.value}\n"
        digest.update(line.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


class LocalTree:
    """A directory's files now. `read` re-checks each file so a snapshot stays consistent."""

    def __init__(self, root: Path, entries: Mapping[str, TreeEntry]) -> None:
        self._root = root
        self._entries: Mapping[str, TreeEntry] = MappingProxyType(dict(entries))
        self._tree_id = _tree_id(self._entries.items())

    @classmethod
    def open(cls, root: str | Path) -> LocalTree:
        base = Path(root).resolve()
        if not base.is_dir():
            raise RepositoryError(f"{root} is not a directory", hint="pass a repository checkout")
        paths = _git_paths(base)
        if paths is None:
            paths = _walk_paths(base)
        entries: dict[str, TreeEntry] = {}
        for rel in paths:
            found = _entry(base, rel)
            if found is not None:
                entries[rel] = found[0]
        return cls(base, entries)

    @property
    def tree_id(self) -> str:
        return self._tree_id

    @property
    def root(self) -> Path:
        return self._root

    def entries(self) -> Mapping[str, TreeEntry]:
        return self._entries

    def read(self, path: str) -> bytes:
        if not _is_relative(path):
            raise KeyError(path)
        entry = self._entries[path]
        try:
            found = _entry(self._root, path)
        except OSError as exc:
            raise RepositoryError(f"cannot read {path} in {self._root}: {exc}") from exc
        if found is None or found[0] != entry:
            raise RepositoryError(
                f"{path} changed on disk while it was being reviewed",
                hint="leave the working tree alone during a review and run it again",
            )
        return found[1]

    def __repr__(self) -> str:
        return f"LocalTree({str(self._root)!r})"
