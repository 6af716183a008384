"""Renderer tools run as plain Command values, and remote Helm charts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.ports.repository import RepoTree


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


class ChartFetchStatus(StrEnum):
    FETCHED = "fetched"
    NOT_ALLOWED = "not-allowed"  # the operator did not allow-list the repository
    UNSUPPORTED = "unsupported"  # allowed, but of a scheme never fetched (not http(s)/oci)
    FAILED = "failed"  # allowed, but the index, version or archive could not be had


@dataclass(frozen=True, slots=True)
class ChartArchive:
    """A packaged chart (.tgz), verified against the repository index, named by its sha256."""

    digest: str  # sha256 hex of `data`
    filename: str  # e.g. podinfo-6.14.1.tgz
    version: str  # the version the constraint resolved to
    data: bytes


@dataclass(frozen=True, slots=True)
class ChartFetch:
    status: ChartFetchStatus
    archive: ChartArchive | None = None
    message: str = ""  # why it was not fetched, in the user's words


class ChartSource(Protocol):
    """Remote Helm charts, fetched only from repositories the operator allow-lists, into a
    content-addressed cache. Never raises for a chart it cannot give: it says why."""

    def fetch(self, repo_url: str, chart: str, version: str) -> ChartFetch:
        """`repo_url`: a HelmRepository URL (https://, http://, oci://); `chart`: the chart's
        name in that repository ("" when the URL names the chart, as OCIRepository does);
        `version`: a semver constraint ("" or "*": the newest stable version)."""
        ...
