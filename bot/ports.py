"""What the pure core needs from the world, as Protocols. Implementations live in bot/engines."""

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


class CommandFailure(StrEnum):
    TOOL_MISSING = "tool-missing"
    TIMEOUT = "timeout"
    OUTPUT_TOO_LARGE = "output-too-large"
    EXIT_STATUS = "exit-status"


@dataclass(frozen=True, slots=True)
class Command:
    """A tool invocation as a plain value: argv without a shell, run inside a materialised tree.

    `tool` is a logical name ("helm", "kustomize") that the runner maps to a binary; `args`
    holds repo-relative paths; `cwd` is repo-relative ("" is the repository root).
    `inputs` are the only repo files the tool gets to see (None: the whole tree). Rendering from
    exactly the tracked inputs keeps input tracking honest: a file the core forgot to track is
    missing from the render (a loud failure), never a silently stale "unchanged".
    """

    tool: str
    args: tuple[str, ...]
    cwd: str = ""
    inputs: frozenset[str] | None = None
    timeout_seconds: float = 120.0
    max_output_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class CommandResult:
    stdout: bytes
    stderr: str
    exit_status: int | None
    failure: CommandFailure | None = None
    message: str = ""  # the runner's own explanation of a failure (which env var, which limit)

    @property
    def ok(self) -> bool:
        return self.failure is None


class CommandRunner(Protocol):
    """Runs Commands hermetically: no network, no shell, bounded time and output."""

    def run(self, command: Command, tree: RepoTree) -> CommandResult: ...
