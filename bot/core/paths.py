"""Repo-relative path arithmetic that never lets a path leave the repository."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable


def join_inside(base_dir: str, relative: str) -> str | None:
    """`base_dir/relative` normalised, or None when it leaves the repo (or is absolute)."""
    if relative.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(base_dir, relative)) if base_dir else relative
    joined = posixpath.normpath(joined)
    if joined == ".":
        return ""
    if joined == ".." or joined.startswith("../"):
        return None
    return joined


def parent_dir(path: str) -> str:
    return posixpath.dirname(path)


def is_under(path: str, directory: str) -> bool:
    return directory in ("", path) or path.startswith(directory + "/")


def files_under(directory: str, paths: Iterable[str]) -> frozenset[str]:
    return frozenset(p for p in paths if is_under(p, directory))


def has_ancestor_in(path: str, directories: set[str] | frozenset[str]) -> bool:
    """True when any parent directory of `path` (or the root "") is in `directories`."""
    directory = parent_dir(path)
    while True:
        if directory in directories:
            return True
        if not directory:
            return False
        directory = parent_dir(directory)
