"""A revision's files and its commits, as the core reads them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class EntryMode(StrEnum):
    FILE = "file"
    EXECUTABLE = "executable"
    SYMLINK = "symlink"


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One file of a revision. `blob_id` is git's blob hash, so equal ids mean equal content."""

    blob_id: str
    mode: EntryMode
    size: int


class RepoTree(Protocol):
    """A read-only snapshot of the repository's files at one revision.

    Paths are repo-relative POSIX strings. Submodules and directories are not entries.
    """

    @property
    def tree_id(self) -> str:
        """Identifies the snapshot (commit SHA, or a content hash for a working tree)."""
        ...

    def entries(self) -> Mapping[str, TreeEntry]: ...

    def read(self, path: str) -> bytes:
        """The file's bytes; for a symlink, its target path. Raises KeyError when absent."""
        ...


@dataclass(frozen=True, slots=True)
class CommitObject:
    """A commit as git stores it: the raw object, and the fields the verdict needs."""

    sha: str
    raw: bytes
    parents: tuple[str, ...]
    author_email: str
    committer_name: str
    committer_email: str
    committed_at: int
    summary: str  # first line of the message


class CommitLog(Protocol):
    def commits(self, base: str, head: str) -> list[CommitObject]:
        """Every commit reachable from head and not from base, oldest first."""
        ...
