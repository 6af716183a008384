"""What the server's workers need: the durable queue, a forge, a repository mirror."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.model.approval import ForgeFacts
from bot.model.job import ClaimedJob, Job, JobState, PullRequestRef
from bot.ports.repository import CommitLog, RepoTree


class JobQueue(Protocol):
    """The durable queue between the web process and the workers (SQLite or PostgreSQL).

    Semantics every backend passes (tests/engines/test_queue_conformance.py):
    - enqueue is idempotent per delivery id;
    - a job whose PR already has a newer job accepted is superseded, never run: claim returns
      the newest pending job of a PR and marks the older pending ones SUPERSEDED;
    - one PR is never worked on by two workers at once (per-PR serialisation);
    - a claimed job is acked only after publishing; a job whose lease expired (its worker died)
      is claimable again, with attempt + 1; after `max_attempts` it is FAILED.
    """

    def enqueue(self, job: Job) -> bool:
        """Persist the job durably before returning. False: this delivery id was seen before."""
        ...

    def claim(self, worker: str, lease_seconds: float) -> ClaimedJob | None:
        """The next job to run, leased to `worker`; None when nothing is claimable."""
        ...

    def extend(self, claim: ClaimedJob, lease_seconds: float) -> bool:
        """Keep a long job's lease; False when the lease was lost (stop publishing)."""
        ...

    def ack(self, claim: ClaimedJob) -> None: ...

    def fail(self, claim: ClaimedJob, error: str, retry_in_seconds: float | None) -> None:
        """Give the job back: retried after `retry_in_seconds`, or FAILED when None."""
        ...

    def is_current(self, job: Job) -> bool:
        """False once a newer job of the same PR with another head SHA (or a CANCEL) was
        accepted: nothing may be written for a stale SHA."""
        ...

    def record_result(
        self, pull_request: PullRequestRef, head_sha: str, conclusion: str, fingerprint: str = ""
    ) -> None:
        """Remember that this head SHA got a published result (for the reconciler), and the
        change's rendered fingerprint there (for keep_if_rendered_unchanged)."""
        ...

    def has_result(self, pull_request: PullRequestRef, head_sha: str) -> bool: ...

    def repositories(self) -> list[PullRequestRef]:
        """Every (forge, repository, installation) a job was ever accepted for, as refs with
        number 0: the reconciler's list of what to look at, kept across restarts."""
        ...

    def fingerprints(self, pull_request: PullRequestRef) -> Mapping[str, str]:
        """Head SHA -> rendered fingerprint of every result recorded with one for this PR."""
        ...

    def counts(self) -> Mapping[JobState, int]:
        """Jobs per state (for /readyz and /metrics). Raises when the store is unreachable."""
        ...


@dataclass(frozen=True, slots=True)
class PullRequestInfo:
    """A pull/merge request as the forge reports it now."""

    ref: PullRequestRef
    title: str
    author: str
    state: str  # "open" | "closed" | "merged"
    draft: bool
    base_ref: str
    base_sha: str
    head_ref: str
    head_sha: str
    labels: frozenset[str] = frozenset()
    url: str = ""


class CheckState(StrEnum):
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class CheckAnnotation:
    """A finding pinned to a file line (GitHub check-run annotation levels)."""

    path: str
    start_line: int
    end_line: int
    level: str  # "notice" | "warning" | "failure"
    message: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class CheckReport:
    """One required check on one head SHA: `gitops-bot/review` or `gitops-bot/approval`.

    GitHub publishes it as a check run (annotations in batches of 50, text split to fit);
    GitLab as a commit status (state + description ≤ 255 chars + target_url)."""

    name: str
    head_sha: str
    state: CheckState
    conclusion: str = ""  # success | failure | neutral | cancelled, when COMPLETED
    title: str = ""
    summary: str = ""
    text: str = ""
    annotations: tuple[CheckAnnotation, ...] = ()
    details_url: str = ""


class CommentMode(StrEnum):
    UPDATE = "update"
    MINIMIZE_AND_REPOST = "minimize-and-repost"
    DELETE_AND_REPOST = "delete-and-repost"


class ForgeClient(Protocol):
    """One forge (GitHub or GitLab) as the worker needs it. Adapters check their requests
    against the vendor's API contract in tests/contract/."""

    def pull_request(self, ref: PullRequestRef) -> PullRequestInfo: ...

    def open_pull_requests(self, repo: str, installation: str) -> list[PullRequestInfo]: ...

    def approval_facts(self, pr: PullRequestInfo, teams: Sequence[str]) -> ForgeFacts:
        """Reviews (with the commit each approved), committers, the members of `teams`
        ("org/team") and the permission of every reviewer and the author."""
        ...

    def permission(self, ref: PullRequestRef, user: str) -> str:
        """One of none, read, triage, write, maintain, admin."""
        ...

    def upsert_comment(self, ref: PullRequestRef, marker: str, body: str, mode: CommentMode) -> str:
        """Create or replace the one comment that contains `marker`; returns its URL."""
        ...

    def publish_check(self, ref: PullRequestRef, check: CheckReport) -> None: ...


class RepoMirror(Protocol):
    """Repository content for the worker: a per-repository bare mirror, fetched with the
    forge token passed out-of-band (never in a URL, argv or log)."""

    def fetch(self, pr: PullRequestInfo) -> tuple[RepoTree, RepoTree, CommitLog]:
        """Base and head trees of the PR (after fetching both SHAs) and its commit log."""
        ...

    def merge_base(self, pr: PullRequestInfo) -> str:
        """The commit the head branched from (after `fetch`): the diff is taken from there, as
        the forge's own "Files changed" does, while trusted inputs stay at the base branch's
        tip. "" when the two histories share no commit."""
        ...
