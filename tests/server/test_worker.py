"""Worker + handler + reconciler with in-memory fakes and the real review()."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest

from bot.core.pipeline import Ports, review
from bot.core.report.format.check_run import APPROVAL_CHECK, REVIEW_CHECK
from bot.core.report.format.common import COMMENT_MARKER
from bot.core.report.format.explain import EXPLAIN_MARKER
from bot.model.approval import ForgeFacts, Review
from bot.model.job import Forge, Job, JobAction, JobState, PullRequestRef
from bot.ports import CheckState, CommentMode, PullRequestInfo
from bot.server.handler import ReviewCache
from bot.server.reconcile import KnownRepositories, Repository, reconcile, remembered_repositories
from bot.server.worker import Worker, backoff_seconds
from tests.core.fakes import FakeCatalog, FakePolicyEngine, FakeRunner, FakeTree, ok
from tests.server.fakes import FakeForge, FakeMirror, FakeQueue
from tests.server.helpers import EXAMPLES, server_settings

REPO = "acme/gitops"
BASE_SHA, SHA1, SHA2 = "a" * 40, "1" * 40, "2" * 40
REF = PullRequestRef(Forge.GITHUB, REPO, 7, "99")
CONFIG = """\
approval:
  rules:
    - name: platform
      requires: {count: 1, teams: [acme/platform]}
"""
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  k: '{value}'\n"
BASE_FILES = {".gitops-bot.yaml": CONFIG, "apps/cm.yaml": CM.format(value="1")}
CATALOG = FakeCatalog({"1.37": {("", "v1", "ConfigMap"): {"type": "object"}}})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Reviews:
    """review_change: the real review() on fake tools; counts calls; can run a hook mid-review."""

    def __init__(self) -> None:
        self.calls = 0
        self.during = lambda: None

    def __call__(self, change, base, head, log, facts, trusted):
        self.calls += 1
        self.during()
        ports = Ports(
            FakeRunner(lambda c, t: ok("")), CATALOG, FakePolicyEngine(), forge_facts=facts
        )
        return review(change, base, head, ports, trusted_tree=trusted)


def pull(sha=SHA1, state="open", number=7) -> PullRequestInfo:
    return PullRequestInfo(
        ref=replace(REF, number=number),
        title="Bump app",
        author="bob",
        state=state,
        draft=False,
        base_ref="main",
        base_sha=BASE_SHA,
        head_ref="feature",
        head_sha=sha,
        url=f"https://github.test/{REPO}/pull/{number}",
    )


def trees(value: str):
    return (
        FakeTree(BASE_FILES, "base"),
        FakeTree({**BASE_FILES, "apps/cm.yaml": CM.format(value=value)}, f"head-{value}"),
    )


@pytest.fixture
def env():
    clock = Clock()
    queue = FakeQueue(clock=clock)
    forge = FakeForge(team_members={"acme/platform": frozenset({"alice"})})
    forge.facts = ForgeFacts(author="bob", title="Bump app", target_branch="main")
    forge.add(pull())
    mirror = FakeMirror({SHA1: trees("2"), SHA2: trees("3")})
    reviews = Reviews()
    settings = server_settings(public_url="https://bot.example")

    def worker(**options):
        return Worker(queue, lambda ref: forge, mirror, reviews, settings, name="w1", **options)

    return clock, queue, forge, mirror, reviews, worker


def job(delivery, action=JobAction.REVIEW, sha=SHA1, requested_by="", number=7, body=b""):
    return Job(
        delivery_id=delivery,
        pull_request=replace(REF, number=number),
        action=action,
        event="test",
        head_sha=sha,
        requested_by=requested_by,
        body=body,
    )


def test_a_review_publishes_comment_checks_and_result(env):
    _, queue, forge, mirror, reviews, worker = env
    queue.enqueue(job("d1"))
    assert worker().run_once() is True
    assert queue.state("d1") is JobState.DONE
    assert forge.checks[0].state is CheckState.IN_PROGRESS  # first thing the PR shows
    [(ref, marker, body, mode)] = forge.comments
    assert (ref, marker, mode) == (REF, COMMENT_MARKER, CommentMode.UPDATE)
    assert body.startswith(COMMENT_MARKER) and "+0 ~1 -0 resource in 1 app" in body
    review_check = forge.latest(REVIEW_CHECK)
    assert (review_check.head_sha, review_check.state) == (SHA1, CheckState.COMPLETED)
    assert review_check.details_url == "https://bot.example"
    approval = forge.latest(APPROVAL_CHECK)
    assert approval.state is CheckState.IN_PROGRESS  # pending: nobody approved yet
    assert forge.teams_asked == [("acme/platform",)]  # the teams the base's rules name
    assert queue.has_result(REF, SHA1)
    assert (reviews.calls, mirror.fetched) == (1, [SHA1])
    assert worker().run_once() is False  # nothing left


def test_a_newer_head_supersedes_before_the_claim(env):
    _, queue, forge, _, reviews, worker = env
    forge.add(pull(SHA2))
    queue.enqueue(job("d1", sha=SHA1))
    queue.enqueue(job("d2", sha=SHA2))
    worker().run_once()
    assert (queue.state("d1"), queue.state("d2")) == (JobState.SUPERSEDED, JobState.DONE)
    assert {c.head_sha for c in forge.checks} == {SHA2}
    assert reviews.calls == 1


def test_a_newer_head_arriving_mid_review_means_nothing_is_written(env):
    _, queue, forge, _, reviews, worker = env
    queue.enqueue(job("d1", sha=SHA1))
    reviews.during = lambda: queue.enqueue(job("d2", sha=SHA2))
    worker().run_once()
    assert forge.comments == []
    assert [c.state for c in forge.checks] == [CheckState.IN_PROGRESS]  # written while current
    assert not queue.has_result(REF, SHA1)
    assert queue.state("d1") is JobState.DONE  # acked: there is nothing left to do for it


def test_a_head_the_pull_request_already_left_is_not_reviewed(env):
    _, queue, forge, mirror, reviews, worker = env
    forge.add(pull(SHA2))
    queue.enqueue(job("d1", sha=SHA1))
    worker().run_once()
    assert (forge.checks, forge.comments, reviews.calls, mirror.fetched) == ([], [], 0, [])
    assert queue.state("d1") is JobState.DONE


def test_cancel_supersedes_and_publishes_nothing(env):
    _, queue, forge, _, reviews, worker = env
    queue.enqueue(job("d1"))
    queue.enqueue(job("d2", JobAction.CANCEL, sha=""))
    worker().run_once()
    assert (queue.state("d1"), queue.state("d2")) == (JobState.SUPERSEDED, JobState.DONE)
    assert (forge.calls, reviews.calls) == ([], 0)


def test_a_closed_pull_request_is_left_alone(env):
    _, queue, forge, _, reviews, worker = env
    forge.add(pull(state="merged"))
    queue.enqueue(job("d1"))
    worker().run_once()
    assert (forge.checks, forge.comments, reviews.calls) == ([], [], 0)


@pytest.mark.parametrize(
    ("permission", "reviewed"),
    [
        ("none", False),
        ("read", False),
        ("triage", False),
        ("write", True),
        ("maintain", True),
        ("admin", True),
    ],
)
def test_commands_need_write_permission(env, permission, reviewed):
    _, queue, forge, _, reviews, worker = env
    forge.permissions["carol"] = permission
    queue.enqueue(job("c1", sha="", requested_by="carol"))
    worker().run_once()
    assert forge.calls[0] == "permission"
    assert (reviews.calls == 1) is reviewed
    assert bool(forge.comments) is reviewed
    assert queue.state("c1") is JobState.DONE


def test_explain_answers_in_its_own_comment(env):
    _, queue, forge, _, reviews, worker = env
    forge.permissions["carol"] = "write"
    w = worker()
    queue.enqueue(job("c1", JobAction.EXPLAIN, sha="", requested_by="carol"))
    w.run_once()
    markers = [marker for _, marker, _, _ in forge.comments]
    assert markers == [COMMENT_MARKER, EXPLAIN_MARKER]  # it had to review first
    queue.enqueue(job("c2", JobAction.EXPLAIN, sha="", requested_by="carol"))
    w.run_once()
    assert reviews.calls == 1  # the second explain reuses the review
    _, marker, body, _ = forge.comments[-1]
    assert marker == EXPLAIN_MARKER
    assert "`platform` (pending)" in body


def test_a_failure_is_retried_with_backoff_and_scrubbed(env):
    clock, queue, forge, mirror, _, worker = env
    mirror.fail = True
    queue.enqueue(job("d1"))
    worker(max_attempts=3).run_once()
    record = queue.records["d1"]
    assert (record.state, record.available_at) == (JobState.PENDING, clock.now + backoff_seconds(1))
    assert "ghs_secret" not in record.error and "***" in record.error
    assert all(c.state is not CheckState.COMPLETED for c in forge.checks)
    assert worker().run_once() is False  # not before the backoff


def test_the_last_failure_completes_both_checks_as_failures(env):
    clock, queue, forge, mirror, _, worker = env
    mirror.fail = True
    queue.enqueue(job("d1"))
    w = worker(max_attempts=2)
    w.run_once()
    clock.now += backoff_seconds(1)
    w.run_once()
    assert queue.state("d1") is JobState.FAILED
    review_check, approval_check = forge.latest(REVIEW_CHECK), forge.latest(APPROVAL_CHECK)
    for check in (review_check, approval_check):
        assert (check.state, check.conclusion, check.head_sha) == (
            CheckState.COMPLETED,
            "failure",
            SHA1,
        )
        assert "/gitops-bot review" in check.summary
        assert "after 2 attempts" in check.summary
        assert "ghs_secret" not in check.summary
    assert w.metrics.jobs.value(action="review", outcome="failed") == 1


def test_approval_is_re_decided_without_rendering_again(env):
    _, queue, forge, mirror, reviews, worker = env
    w = worker()
    queue.enqueue(job("d1"))
    w.run_once()
    assert forge.latest(APPROVAL_CHECK).state is CheckState.IN_PROGRESS
    comments = len(forge.comments)
    forge.facts = replace(forge.facts, reviews=(Review("alice", "approved", SHA1),))
    queue.enqueue(job("r1", JobAction.APPROVAL))
    w.run_once()
    assert (reviews.calls, mirror.fetched) == (1, [SHA1])
    approval = forge.latest(APPROVAL_CHECK)
    assert (approval.state, approval.conclusion) == (CheckState.COMPLETED, "success")
    assert len(forge.comments) == comments + 1  # the approval section changed
    assert "✅ `platform`" in forge.comments[-1][2]
    queue.enqueue(job("r2", JobAction.APPROVAL))  # nothing changed this time
    w.run_once()
    assert (reviews.calls, len(forge.comments)) == (1, comments + 1)


def test_approval_without_a_cached_review_reviews(env):
    _, queue, _forge, _, reviews, worker = env
    queue.enqueue(job("d1"))
    worker().run_once()
    queue.enqueue(job("r1", JobAction.APPROVAL))
    worker(cache=ReviewCache()).run_once()  # another process: empty cache
    assert reviews.calls == 2
    assert queue.state("r1") is JobState.DONE


def test_a_lost_lease_publishes_nothing_and_does_not_ack(env):
    clock, queue, forge, _, reviews, worker = env
    queue.enqueue(job("d1"))

    def slow():
        clock.now += 10_000  # longer than the lease: another worker may own the job now

    reviews.during = slow
    worker().run_once()
    assert forge.comments == []
    assert queue.state("d1") is JobState.RUNNING  # the queue recovers it at the next claim
    assert worker().run_once() is True
    assert queue.records["d1"].attempt == 2


def test_a_merge_group_is_reviewed_on_its_own_lane(env):
    _, queue, forge, mirror, _reviews, worker = env
    payload = EXAMPLES["merge_group"][0]
    group_sha = payload["merge_group"]["head_sha"]
    mirror.trees[group_sha] = trees("9")
    queue.enqueue(job("m1", sha=group_sha, number=-104, body=json.dumps(payload).encode()))
    worker().run_once()
    assert forge.comments == []  # no pull request to comment on
    assert "pull_request" not in forge.calls and "approval_facts" not in forge.calls
    review_check, approval = forge.latest(REVIEW_CHECK), forge.latest(APPROVAL_CHECK)
    assert review_check.head_sha == group_sha
    assert (approval.state, approval.conclusion) == (CheckState.COMPLETED, "success")
    assert queue.has_result(replace(REF, number=-104), group_sha)


def test_run_forever_stops_when_asked(env):
    _, queue, _forge, _, _, worker = env
    stop = threading.Event()
    w = worker()
    queue.enqueue(job("d1"))
    thread = threading.Thread(target=w.run_forever, args=(stop, 0.01))
    thread.start()
    for _ in range(500):
        if queue.state("d1") is JobState.DONE:
            break
        stop.wait(0.01)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert queue.state("d1") is JobState.DONE
    assert w.repositories() == [Repository(Forge.GITHUB, REPO, "99")]


def test_the_reconciler_queues_only_heads_without_a_result(env):
    clock, queue, forge, _, _, _ = env
    forge.add(pull(SHA1, number=7))
    forge.add(pull(SHA2, number=8))
    forge.add(pull("3" * 40, number=9, state="closed"))
    queue.record_result(replace(REF, number=7), SHA1, "success")
    repos = KnownRepositories([Repository(Forge.GITHUB, REPO, "99")])
    assert reconcile(queue, lambda ref: forge, repos(), clock=clock) == 1
    [record] = queue.records.values()
    assert record.job.delivery_id == f"reconcile:github:{REPO}#8:{SHA2}"
    assert (record.job.action, record.job.head_sha, record.job.event) == (
        JobAction.REVIEW,
        SHA2,
        "reconcile",
    )
    assert reconcile(queue, lambda ref: forge, repos(), clock=clock) == 0  # deduped


def test_one_failing_repository_does_not_stop_the_reconciler(env):
    clock, queue, forge, _, _, _ = env
    broken = FakeForge(fail_on={"open_pull_requests"})
    forge.add(pull(SHA2, number=8))
    repos = [Repository(Forge.GITHUB, "acme/broken"), Repository(Forge.GITHUB, REPO, "99")]
    chosen = {"acme/broken": broken, REPO: forge}
    assert reconcile(queue, lambda ref: chosen[ref.repo], repos, clock=clock) == 2


class UnfixableError(RuntimeError):
    retryable = False  # what forge adapters set on a 403/404


def test_an_error_no_retry_can_fix_fails_at_once(env):
    _, queue, forge, _mirror, reviews, worker = env

    def refuse():
        raise UnfixableError("GitHub: cannot fetch (acme/gitops#7): 404 Not Found")

    reviews.during = refuse
    queue.enqueue(job("d1"))
    worker(max_attempts=3).run_once()
    assert queue.state("d1") is JobState.FAILED
    assert forge.latest(REVIEW_CHECK).conclusion == "failure"
    assert "404 Not Found" in forge.latest(REVIEW_CHECK).summary


KEEP_CONFIG = """\
approval:
  rules:
    - name: platform
      requires: {count: 1, teams: [acme/platform], keep_if_rendered_unchanged: true}
"""


@pytest.mark.parametrize(
    ("new_head_value", "kept"),
    [("2", True), ("5", False)],
    ids=["same-render-kept", "other-render-dropped"],
)
def test_an_approval_survives_a_new_head_that_renders_the_same(env, new_head_value, kept):
    """Approve SHA1, then push SHA2: the worker remembers SHA1's rendered fingerprint and
    keeps the approval only when SHA2 renders to the same change."""
    _, queue, forge, mirror, _, worker = env
    base = {**BASE_FILES, ".gitops-bot.yaml": KEEP_CONFIG}

    def head(value, extra=None):
        return FakeTree({**base, "apps/cm.yaml": CM.format(value=value), **(extra or {})}, value)

    mirror.trees = {
        SHA1: (FakeTree(base, "base"), head("2")),
        # The new head also edits a file that renders to nothing (a README).
        SHA2: (FakeTree(base, "base"), head(new_head_value, {"apps/README.md": "notes\n"})),
    }
    w = worker()
    queue.enqueue(job("d1"))
    w.run_once()
    assert queue.fingerprints(REF)  # the first head's fingerprint is remembered
    forge.facts = replace(forge.facts, reviews=(Review("alice", "approved", SHA1),))
    forge.add(pull(SHA2))
    queue.enqueue(job("d2", sha=SHA2))
    w.run_once()
    approval = forge.latest(APPROVAL_CHECK)
    assert approval.head_sha == SHA2
    if kept:
        assert (approval.state, approval.conclusion) == (CheckState.COMPLETED, "success")
    else:
        assert approval.state is CheckState.IN_PROGRESS


def test_the_diff_starts_at_the_merge_base_and_the_rules_come_from_the_tip(env):
    """main moved on after the branch was cut (another ConfigMap changed, and the approval
    rules were tightened): the PR's diff shows only its own change, never main's newer commit
    reverted, while the approval rules are main's newest."""
    _, queue, forge, mirror, _, worker = env
    branched_from = "b" * 40
    old_main = {"apps/cm.yaml": CM.format(value="1"), "apps/other.yaml": CM.replace("app", "other")}
    tip = {
        **old_main,
        ".gitops-bot.yaml": CONFIG,
        "apps/other.yaml": CM.replace("app", "other").format(value="9"),
    }
    head = {**old_main, "apps/cm.yaml": CM.format(value="2")}
    mirror.trees[SHA1] = (FakeTree(tip, "tip"), FakeTree(head, "head"))
    mirror.merge_bases[SHA1] = branched_from
    mirror.base_trees[branched_from] = FakeTree(old_main, "branched-from")
    queue.enqueue(job("d1"))
    worker().run_once()
    [(_, _, body, _)] = forge.comments
    assert "+0 ~1 -0 resource in 1 app" in body  # only the PR's own ConfigMap
    assert forge.teams_asked == [("acme/platform",)]  # the tip's rules, not the branch point's
    assert forge.latest(APPROVAL_CHECK).state is CheckState.IN_PROGRESS


def test_a_github_delivery_without_an_installation_is_acked_and_ignored(env):
    """Older payload shapes are accepted by the web side (2xx), but without an installation
    no token can act on the repository: the job ends without a forge call or a retry loop."""
    _, queue, forge, mirror, reviews, worker = env
    queue.enqueue(replace(job("d1"), pull_request=replace(REF, installation="")))
    assert worker().run_once() is True
    assert queue.state("d1") is JobState.DONE
    assert (forge.checks, forge.comments, mirror.fetched, reviews.calls) == ([], [], [], 0)


def test_a_restarted_worker_reconciles_the_repositories_the_queue_remembers(env):
    _, queue, forge, _, _, _ = env
    queue.enqueue(job("d1"))
    queue.enqueue(replace(job("x1"), pull_request=PullRequestRef(Forge.GITHUB, "acme/old", 3)))
    known = remembered_repositories(queue)  # what a fresh process starts from
    assert known() == [Repository(Forge.GITHUB, REPO, "99")]  # no installation: left out
    assert reconcile(queue, lambda ref: forge, known()) == 1  # SHA1 has no result yet
    assert reconcile(queue, lambda ref: forge, known()) == 0  # one job per head SHA
    forge.add(pull(SHA2))  # the PR moved on while the bot was down
    assert reconcile(queue, lambda ref: forge, known()) == 1
