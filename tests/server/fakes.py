"""In-memory JobQueue, ForgeClient and RepoMirror that keep the Protocols' promises (no mocks)."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.model.approval import ForgeFacts
from bot.model.job import ClaimedJob, Job, JobAction, JobState, PullRequestRef
from bot.ports import (
    CheckReport,
    CommentMode,
    CommitLog,
    CommitObject,
    PullRequestInfo,
    RepoTree,
)


@dataclass
class _Record:
    seq: int
    job: Job
    state: JobState = JobState.PENDING
    attempt: int = 0
    available_at: float = 0.0
    token: str = ""
    lease_expires_at: float = 0.0
    error: str = ""


class FakeQueue:
    """The JobQueue semantics of ports.py: dedupe per delivery id, coalescing (claim takes a PR's
    newest pending job and supersedes the older ones), one running job per PR, leases with
    tokens, attempts, is_current, results."""

    def __init__(self, clock: Callable[[], float] = lambda: 0.0, max_attempts: int = 5) -> None:
        self.clock = clock
        self.max_attempts = max_attempts
        self.records: dict[str, _Record] = {}
        self.results: dict[tuple[str, str], str] = {}
        self.fingerprint_of: dict[tuple[str, str], str] = {}
        self.broken = False  # every call raises, like an unreachable database
        self._seq = itertools.count()
        self._tokens = itertools.count(1)

    def _check(self) -> None:
        if self.broken:
            raise ConnectionError("queue store unreachable: postgresql://bot:hunter2@db/bot")

    def enqueue(self, job: Job) -> bool:
        self._check()
        if job.delivery_id in self.records:
            return False
        self.records[job.delivery_id] = _Record(next(self._seq), job)
        return True

    def _recover(self, now: float) -> None:
        for record in self.records.values():
            if record.state is JobState.RUNNING and record.lease_expires_at <= now:
                record.token = ""
                record.error = "lease expired"
                failed = record.attempt >= self.max_attempts
                record.state = JobState.FAILED if failed else JobState.PENDING

    def claim(self, worker: str, lease_seconds: float) -> ClaimedJob | None:
        self._check()
        now = self.clock()
        self._recover(now)
        running = {
            r.job.pull_request.key for r in self.records.values() if r.state is JobState.RUNNING
        }
        pending = sorted(
            (r for r in self.records.values() if r.state is JobState.PENDING),
            key=lambda r: r.seq,
        )
        for first in pending:
            key = first.job.pull_request.key
            if key in running or first.available_at > now:
                continue
            same = [r for r in pending if r.job.pull_request.key == key]
            newest = same[-1]
            if newest.available_at > now:
                continue
            for older in same[:-1]:
                older.state = JobState.SUPERSEDED
            newest.state = JobState.RUNNING
            newest.attempt += 1
            newest.token = f"t{next(self._tokens)}"
            newest.lease_expires_at = now + lease_seconds
            return ClaimedJob(newest.job, newest.token, newest.attempt, newest.lease_expires_at)
        return None

    def _held(self, claim: ClaimedJob) -> _Record | None:
        record = self.records.get(claim.job.delivery_id)
        if record is None or record.token != claim.token or record.state is not JobState.RUNNING:
            return None
        return record

    def extend(self, claim: ClaimedJob, lease_seconds: float) -> bool:
        self._check()
        record = self._held(claim)
        if record is None or record.lease_expires_at <= self.clock():
            return False
        record.lease_expires_at = self.clock() + lease_seconds
        return True

    def ack(self, claim: ClaimedJob) -> None:
        self._check()
        record = self._held(claim)
        if record is not None:
            record.state = JobState.DONE
            record.token = ""

    def fail(self, claim: ClaimedJob, error: str, retry_in_seconds: float | None) -> None:
        self._check()
        record = self._held(claim)
        if record is None:
            return
        record.token = ""
        record.error = error
        if retry_in_seconds is None or record.attempt >= self.max_attempts:
            record.state = JobState.FAILED
        else:
            record.state = JobState.PENDING
            record.available_at = self.clock() + retry_in_seconds

    def is_current(self, job: Job) -> bool:
        self._check()
        me = self.records.get(job.delivery_id)
        if me is None:
            return False
        return not any(
            r.seq > me.seq
            and r.job.pull_request.key == job.pull_request.key
            and (
                r.job.action is JobAction.CANCEL
                or (r.job.head_sha and r.job.head_sha != job.head_sha)
            )
            for r in self.records.values()
        )

    def record_result(
        self, pull_request: PullRequestRef, head_sha: str, conclusion: str, fingerprint: str = ""
    ) -> None:
        self._check()
        self.results[(pull_request.key, head_sha)] = conclusion
        if fingerprint:
            self.fingerprint_of[(pull_request.key, head_sha)] = fingerprint

    def repositories(self) -> list[PullRequestRef]:
        self._check()
        found = {
            (r.job.pull_request.forge, r.job.pull_request.repo, r.job.pull_request.installation)
            for r in self.records.values()
        }
        return [PullRequestRef(forge, repo, 0, inst) for forge, repo, inst in sorted(found)]

    def fingerprints(self, pull_request: PullRequestRef) -> Mapping[str, str]:
        self._check()
        return {
            sha: fp for (key, sha), fp in self.fingerprint_of.items() if key == pull_request.key
        }

    def has_result(self, pull_request: PullRequestRef, head_sha: str) -> bool:
        self._check()
        return (pull_request.key, head_sha) in self.results

    def counts(self) -> Mapping[JobState, int]:
        self._check()
        counted = Counter(r.state for r in self.records.values())
        return {state: counted[state] for state in JobState}

    def state(self, delivery_id: str) -> JobState:
        return self.records[delivery_id].state


@dataclass
class FakeForge:
    """A forge holding pull requests, reviews and permissions; records every write."""

    pulls: dict[tuple[str, int], PullRequestInfo] = field(default_factory=dict)
    facts: ForgeFacts = field(default_factory=ForgeFacts)
    team_members: dict[str, frozenset[str]] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)
    fail_on: set[str] = field(default_factory=set)
    comments: list[tuple[PullRequestRef, str, str, CommentMode]] = field(default_factory=list)
    checks: list[CheckReport] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    teams_asked: list[tuple[str, ...]] = field(default_factory=list)

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail_on:
            raise RuntimeError(f"{name} failed: token ghs_{'x' * 36} rejected")

    def add(self, pr: PullRequestInfo) -> PullRequestInfo:
        self.pulls[(pr.ref.repo, pr.ref.number)] = pr
        return pr

    def pull_request(self, ref: PullRequestRef) -> PullRequestInfo:
        self._call("pull_request")
        return self.pulls[(ref.repo, ref.number)]

    def open_pull_requests(self, repo: str, installation: str) -> list[PullRequestInfo]:
        self._call("open_pull_requests")
        return [p for (r, _), p in sorted(self.pulls.items()) if r == repo and p.state == "open"]

    def approval_facts(self, pr: PullRequestInfo, teams: Sequence[str]) -> ForgeFacts:
        self._call("approval_facts")
        self.teams_asked.append(tuple(teams))
        members = {t: self.team_members.get(t, frozenset()) for t in teams}
        return replace(self.facts, teams=members)

    def permission(self, ref: PullRequestRef, user: str) -> str:
        self._call("permission")
        return self.permissions.get(user, "read")

    def upsert_comment(self, ref: PullRequestRef, marker: str, body: str, mode: CommentMode) -> str:
        self._call("upsert_comment")
        self.comments.append((ref, marker, body, mode))
        return f"https://github.test/{ref.repo}/pull/{ref.number}#comment"

    def publish_check(self, ref: PullRequestRef, check: CheckReport) -> None:
        self._call("publish_check")
        self.checks.append(check)

    def latest(self, name: str) -> CheckReport:
        return [c for c in self.checks if c.name == name][-1]


class EmptyLog:
    def commits(self, base: str, head: str) -> list[CommitObject]:
        return []


@dataclass
class FakeMirror:
    """Serves trees per head SHA: {head_sha: (base_tree, head_tree)}; `merge_bases` maps a
    head SHA to the commit it branched from, whose tree is `base_trees[that commit]`."""

    trees: dict[str, tuple[RepoTree, RepoTree]] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)
    fail: bool = False
    merge_bases: dict[str, str] = field(default_factory=dict)
    base_trees: dict[str, RepoTree] = field(default_factory=dict)

    def fetch(self, pr: PullRequestInfo) -> tuple[RepoTree, RepoTree, CommitLog]:
        if self.fail:
            raise OSError("git fetch https://x-access-token:ghs_secret123456@github.com failed")
        base, head = self.trees[pr.head_sha]
        if pr.base_sha in self.base_trees:
            return self.base_trees[pr.base_sha], head, EmptyLog()
        self.fetched.append(pr.head_sha)
        return base, head, EmptyLog()

    def merge_base(self, pr: PullRequestInfo) -> str:
        return self.merge_bases.get(pr.head_sha, pr.base_sha)
