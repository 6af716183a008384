"""One claimed job, handled: ask the forge, fetch, review, and publish only while the job is
still current and its lease held. Raises on the bot's own failures (the worker retries)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from bot.core.approval.rules import ApprovalConfig
from bot.core.report.format.check_run import (
    REVIEW_CHECK,
    approval_check,
    in_progress_check,
    merge_group_approval_check,
    review_check,
)
from bot.core.report.format.common import COMMENT_MARKER
from bot.core.report.format.explain import EXPLAIN_MARKER, format_explain
from bot.core.report.format.markdown import format_markdown
from bot.core.webhooks.github import merge_group_target
from bot.model.approval import ForgeFacts
from bot.model.change import ChangeRequest, Revision
from bot.model.job import ClaimedJob, Forge, JobAction, PullRequestRef
from bot.model.report import Report
from bot.ports import (
    CommentMode,
    CommitLog,
    ForgeClient,
    JobQueue,
    PullRequestInfo,
    RepoMirror,
    RepoTree,
)
from bot.server.approval_refresh import approval_teams, redecide_approval, trusted_approval
from bot.server.gitlab_push import refresh_branch
from bot.server.worker_metrics import WorkerMetrics, timed
from bot.settings import ServerSettings

# review(change, base_tree, head_tree, commit_log, forge_facts, trusted_tree) with the worker's
# tools; trusted_tree (config, policies, signers) is the base branch's tip, base_tree the merge
# base the diff starts from.
ReviewChange = Callable[
    [ChangeRequest, RepoTree, RepoTree, CommitLog, ForgeFacts | None, RepoTree], Report
]
ForgeFor = Callable[[PullRequestRef], ForgeClient]
WRITERS = frozenset({"write", "maintain", "admin"})


class Outcome(StrEnum):
    PUBLISHED = "published"
    STALE = "stale"  # a newer head SHA (or a close) came in: nothing written
    CLOSED = "closed"  # the PR is closed or merged
    CANCELLED = "cancelled"
    IGNORED = "ignored"  # a command from someone without write permission
    LEASE_LOST = "lease-lost"  # another worker owns the job now: do not ack


@dataclass(frozen=True, slots=True)
class CachedReview:
    report: Report
    approval: ApprovalConfig | None


class ReviewCache:
    """The last few Reports of this process, per (PR, base SHA, head SHA): a review event then
    re-decides approval without rendering again. Small: a cache miss only costs a review."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str, str], CachedReview] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(pr: PullRequestInfo) -> tuple[str, str, str]:
        return (pr.ref.key, pr.base_sha, pr.head_sha)

    def get(self, pr: PullRequestInfo) -> CachedReview | None:
        with self._lock:
            item = self._items.get(self._key(pr))
            if item is not None:
                self._items.move_to_end(self._key(pr))
            return item

    def put(self, pr: PullRequestInfo, item: CachedReview) -> None:
        with self._lock:
            self._items[self._key(pr)] = item
            self._items.move_to_end(self._key(pr))
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def merge_group_info(ref: PullRequestRef, body: bytes) -> PullRequestInfo | None:
    target = merge_group_target(body)
    if target is None:
        return None
    return PullRequestInfo(
        ref=ref,
        title=f"merge group {target.head_ref}",
        author="",
        state="open",
        draft=False,
        base_ref=target.base_ref,
        base_sha=target.base_sha,
        head_ref=target.head_ref,
        head_sha=target.head_sha,
    )


class JobHandler:
    def __init__(
        self,
        queue: JobQueue,
        forge_for: ForgeFor,
        mirror: RepoMirror,
        review_change: ReviewChange,
        settings: ServerSettings,
        *,
        cache: ReviewCache | None = None,
        metrics: WorkerMetrics | None = None,
    ) -> None:
        self._queue = queue
        self._forge_for = forge_for
        self._mirror = mirror
        self._review_change = review_change
        self._settings = settings
        self._cache = cache or ReviewCache()
        self._metrics = metrics
        self._mode = CommentMode(settings.comment_mode)
        self._url = settings.public_url

    def handle(self, claim: ClaimedJob) -> Outcome:
        job = claim.job
        if job.action is JobAction.CANCEL:
            return Outcome.CANCELLED  # the queue already superseded the PR's pending jobs
        if job.pull_request.forge is Forge.GITHUB and not job.pull_request.installation:
            # Only App deliveries name the installation whose token may act on the repository
            # (older payload shapes, repository webhooks): nothing can be read or written.
            return Outcome.IGNORED
        forge = self._forge_for(job.pull_request)
        pr = self._target(claim, forge)
        if isinstance(pr, Outcome):
            return pr
        if job.action in (JobAction.APPROVAL, JobAction.EXPLAIN):
            cached = self._cache.get(pr)
            if cached is not None:
                return self._refresh(claim, forge, pr, cached)
        return self._review(claim, forge, pr)

    def _target(self, claim: ClaimedJob, forge: ForgeClient) -> PullRequestInfo | Outcome:
        """The pull request (or merge group) to work on now, or why there is none."""
        job, ref = claim.job, claim.job.pull_request
        if job.requested_by and forge.permission(ref, job.requested_by) not in WRITERS:
            return Outcome.IGNORED
        if ref.number < 0 and ref.forge is Forge.GITLAB:
            # A pushed branch's lane (bot/core/webhooks/gitlab.py): fan out to its open MRs.
            return Outcome.PUBLISHED if refresh_branch(job, forge, self._queue) else Outcome.IGNORED
        # A negative GitHub number is a merge group's lane (bot/core/webhooks/github.py).
        pr = merge_group_info(ref, job.body) if ref.number < 0 else forge.pull_request(ref)
        if pr is None:
            return Outcome.IGNORED
        if pr.state != "open":
            return Outcome.CLOSED
        if job.action is JobAction.REVIEW and job.head_sha and job.head_sha != pr.head_sha:
            # The PR moved on; the delivery for the new head (or the reconciler) reviews it.
            return Outcome.STALE
        return pr

    def _gate(self, claim: ClaimedJob) -> Outcome | None:
        """None while the job may still write; else why it must stop."""
        if not self._queue.is_current(claim.job):
            return Outcome.STALE
        if not self._queue.extend(claim, self._settings.lease_seconds):
            return Outcome.LEASE_LOST
        return None

    def _review(self, claim: ClaimedJob, forge: ForgeClient, pr: PullRequestInfo) -> Outcome:
        stop = self._gate(claim)
        if stop is not None:
            return stop
        ref, group = pr.ref, pr.ref.number < 0
        # A head with a published result keeps its completed checks until new ones replace
        # them: marked in progress again, it would stay pending for good should this job never
        # finish (a crash loop ends it FAILED, and the reconciler skips heads with a result).
        if not self._queue.has_result(ref, pr.head_sha):
            forge.publish_check(ref, in_progress_check(REVIEW_CHECK, pr.head_sha, self._url))
        trusted, head, log = self._mirror.fetch(pr)
        base, since = self._diff_base(pr, trusted)
        config = trusted_approval(trusted)
        # Merge groups: approval was enforced on each PR before it entered the queue.
        facts = None if group else self._facts(forge, pr, config)
        change = ChangeRequest(
            base=Revision(pr.base_ref, since),
            head=Revision(pr.head_ref, pr.head_sha),
            title=pr.title,
            number=None if group else ref.number,
        )
        stop = self._gate(claim)  # the fetch may have taken a while
        if stop is not None:
            return stop
        report = timed(
            self._metrics,
            lambda: self._review_change(change, base, head, log, facts, trusted),
        )
        self._cache.put(pr, CachedReview(report, config))
        stop = self._gate(claim)
        if stop is not None:
            return stop
        if not group:
            forge.upsert_comment(ref, COMMENT_MARKER, format_markdown(report), self._mode)
        forge.publish_check(ref, review_check(report, pr.head_sha, self._url))
        forge.publish_check(
            ref,
            merge_group_approval_check(pr.head_sha, self._url)
            if group
            else approval_check(report, pr.head_sha, self._url),
        )
        if claim.job.action is JobAction.EXPLAIN:
            forge.upsert_comment(ref, EXPLAIN_MARKER, format_explain(report), self._mode)
        self._queue.record_result(
            ref, pr.head_sha, report.conclusion().value, report.rendered_fingerprint
        )
        return Outcome.PUBLISHED

    def _diff_base(self, pr: PullRequestInfo, tip: RepoTree) -> tuple[RepoTree, str]:
        """The tree the diff starts from and its commit: the merge base when the base branch
        moved on since the head branched, so the base's newer commits never show up reverted."""
        since = self._mirror.merge_base(pr) or pr.base_sha
        if since == pr.base_sha:
            return tip, pr.base_sha
        base, _, _ = self._mirror.fetch(replace(pr, base_sha=since))
        return base, since

    def _facts(
        self, forge: ForgeClient, pr: PullRequestInfo, config: ApprovalConfig | None
    ) -> ForgeFacts:
        """The forge's facts plus the rendered fingerprints of the heads reviewed before, so
        keep_if_rendered_unchanged can keep an approval made on an earlier commit."""
        facts = forge.approval_facts(pr, approval_teams(config))
        remembered = self._queue.fingerprints(pr.ref)
        if not remembered:
            return facts
        return replace(facts, rendered_fingerprints={**remembered, **facts.rendered_fingerprints})

    def _refresh(
        self, claim: ClaimedJob, forge: ForgeClient, pr: PullRequestInfo, cached: CachedReview
    ) -> Outcome:
        report = cached.report
        if cached.approval is not None:
            facts = self._facts(forge, pr, cached.approval)
            report = redecide_approval(report, cached.approval, facts)
        self._cache.put(pr, CachedReview(report, cached.approval))
        stop = self._gate(claim)
        if stop is not None:
            return stop
        if claim.job.action is JobAction.EXPLAIN:
            forge.upsert_comment(pr.ref, EXPLAIN_MARKER, format_explain(report), self._mode)
            return Outcome.PUBLISHED
        if report.approval != cached.report.approval:
            # The comment shows the approval tree; rewrite it only when that changed.
            forge.upsert_comment(pr.ref, COMMENT_MARKER, format_markdown(report), self._mode)
        forge.publish_check(pr.ref, approval_check(report, pr.head_sha, self._url))
        return Outcome.PUBLISHED
