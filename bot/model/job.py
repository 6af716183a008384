"""Work for the server's workers: one accepted webhook delivery, routed to a pull request."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Forge(StrEnum):
    GITHUB = "github"
    GITLAB = "gitlab"


class JobAction(StrEnum):
    """What the worker does for a pull request.

    REVIEW renders, validates, evaluates and publishes everything. APPROVAL re-evaluates only the
    approval gate (a review was submitted or dismissed): the worker reuses the review of that
    head SHA when it has one, else it reviews. CANCEL (the PR was closed) supersedes every
    pending job of the PR and publishes nothing. EXPLAIN answers a `/gitops-bot explain`.
    """

    REVIEW = "review"
    APPROVAL = "approval"
    CANCEL = "cancel"
    EXPLAIN = "explain"


@dataclass(frozen=True, slots=True)
class PullRequestRef:
    """Which pull/merge request: forge, repository (GitHub `owner/name`, GitLab project path or
    id), number (GitLab: the MR iid), and the account the bot acts for there (GitHub App
    installation id; "" on GitLab)."""

    forge: Forge
    repo: str
    number: int
    installation: str = ""

    @property
    def key(self) -> str:
        """Jobs with the same key are serialised and coalesced."""
        return f"{self.forge.value}:{self.repo}#{self.number}"


@dataclass(frozen=True, slots=True)
class Job:
    """One accepted delivery, routed: the raw body is kept so nothing the forge sent is lost.

    `head_sha` is "" when the event does not name it (a comment command): the worker asks the
    forge. `requested_by` is the user whose comment asked for the job (commands only).
    """

    delivery_id: str
    pull_request: PullRequestRef
    action: JobAction
    event: str
    head_sha: str = ""
    requested_by: str = ""
    body: bytes = field(default=b"", repr=False)
    received_at: float = 0.0


class JobState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    SUPERSEDED = "superseded"  # a newer job of the same PR made it pointless
    FAILED = "failed"  # gave up after the last attempt


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A job leased to one worker until `lease_expires_at` (Unix seconds).

    `token` identifies this lease: ack/fail/extend with a stale token (the lease expired and
    another worker took the job) change nothing."""

    job: Job
    token: str
    attempt: int
    lease_expires_at: float
