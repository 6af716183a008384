"""The change under review: two revisions of one repository."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Revision:
    """A named state of the repository: the ref the user gave and what it resolved to."""

    ref: str
    commit: str  # full SHA, or "" for a working tree

    def short(self) -> str:
        return self.commit[:7] if self.commit else self.ref


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    """A pull/merge request, or its local equivalent (two refs of a checkout)."""

    base: Revision
    head: Revision
    title: str = ""
    number: int | None = None


class FileStatus(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"


@dataclass(frozen=True, slots=True, order=True)
class FileChange:
    path: str
    status: FileStatus
