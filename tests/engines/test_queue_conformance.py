"""The JobQueue conformance suite: every backend passes the same tests (bot/ports.py JobQueue).

SQLite runs on an injected clock (time advances without sleeping); PostgreSQL uses the
database's clock, so its leases are short and real. Each PostgreSQL test gets a fresh database
on the session's server. The process tests use real processes and the real clock on both.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bot.engines.queue_common import PerThreadConnections
from bot.engines.queue_factory import open_queue
from bot.engines.queue_postgres import ProcrastinateJobQueue
from bot.engines.queue_sqlite import SqliteJobQueue
from bot.model.errors import UsageError
from bot.model.job import Forge, Job, JobAction, JobState, PullRequestRef

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_ATTEMPTS = 3
LONG = 60.0  # a lease that outlives the test
SHORT = 0.5  # a lease the test lets expire
PAST_SHORT = 0.7

PR1 = PullRequestRef(Forge.GITHUB, "acme/deploy", 1, installation="42")
PR2 = PullRequestRef(Forge.GITHUB, "acme/deploy", 2, installation="42")
MR1 = PullRequestRef(Forge.GITLAB, "group/sub/project", 1)


def job(
    delivery: str,
    pr: PullRequestRef = PR1,
    action: JobAction = JobAction.REVIEW,
    sha: str | None = None,
    **extra: Any,
) -> Job:
    head = f"sha-{delivery}" if sha is None else sha
    return Job(delivery, pr, action, extra.pop("event", "pull_request"), head_sha=head, **extra)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Backend:
    name: str
    url: str  # for other processes: real clock, default max_attempts
    make: Callable[..., Any]  # max_attempts -> a queue on this store, on the test's clock
    advance: Callable[[float], None]
    opened: list[Any] = field(default_factory=list)

    def open(self, max_attempts: int = MAX_ATTEMPTS) -> Any:
        queue = self.make(max_attempts)
        self.opened.append(queue)
        return queue


@contextlib.contextmanager
def fresh_database(server_dsn: str) -> Iterator[str]:
    name = f"queue_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        # FILE_COPY: 20 ms instead of PostgreSQL 15's default WAL_LOG, 270 ms here.
        admin.execute(f'CREATE DATABASE "{name}" STRATEGY FILE_COPY')
    try:
        yield server_dsn.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(server_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            clock = FakeClock()
            path = tmp_path / "queue.sqlite3"
            chosen = Backend(
                "sqlite",
                f"sqlite:///{path}",
                lambda n: SqliteJobQueue(str(path), max_attempts=n, clock=clock),
                clock.advance,
            )
        else:
            dsn = stack.enter_context(fresh_database(request.getfixturevalue("postgres_dsn")))
            chosen = Backend(
                "postgres", dsn, lambda n: ProcrastinateJobQueue(dsn, max_attempts=n), time.sleep
            )
        yield chosen
        for queue in chosen.opened:
            queue.close()


@pytest.fixture
def queue(backend: Backend) -> Any:
    return backend.open()


def states(queue: Any) -> dict[str, int]:
    """Only the non-zero counts, by name: compact to compare."""
    return {state.value: n for state, n in queue.counts().items() if n}


# --- enqueue: durable, idempotent per delivery id ------------------------------------------


def test_enqueue_is_idempotent_per_delivery_id_even_after_done(queue: Any) -> None:
    assert queue.enqueue(job("d1")) is True
    assert queue.enqueue(job("d1")) is False
    assert queue.enqueue(job("d1", PR2, sha="other")) is False  # the id decides, not the content
    queue.ack(queue.claim("w", LONG))
    assert queue.enqueue(job("d1")) is False
    assert states(queue) == {"done": 1}


@pytest.mark.parametrize("shared", [True, False], ids=["one-queue-object", "ten-queue-objects"])
def test_concurrent_enqueues_of_one_delivery_accept_exactly_one(
    backend: Backend, shared: bool
) -> None:
    # One object: a threaded web worker (a connection per thread); ten: ten processes, which on
    # PostgreSQL also race to apply the schema to the fresh database.
    queues = [backend.open()] * 10 if shared else [backend.open() for _ in range(10)]
    start = threading.Barrier(len(queues))
    results: list[bool] = []

    def enqueue(q: Any) -> None:
        start.wait()
        results.append(q.enqueue(job("same")))

    threads = [threading.Thread(target=enqueue, args=(q,)) for q in queues]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 9 + [True]
    assert states(queues[0]) == {"pending": 1}


def test_a_forked_child_opens_its_own_connection(queue: Any) -> None:
    queue.enqueue(job("parent-1"))  # the parent's connection exists before the fork
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status only
        ok = False
        with contextlib.suppress(BaseException):
            ok = queue.enqueue(job("child"))
        os._exit(0 if ok else 1)
    assert os.waitpid(pid, 0)[1] == 0
    assert queue.enqueue(job("parent-2")) is True  # still usable: the child left it alone
    assert states(queue) == {"pending": 3}


def test_after_fork_connections_are_new_and_the_parent_s_are_never_closed() -> None:
    closed: list[object] = []
    conns = PerThreadConnections(object, closed.append)
    parents = conns.get()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status only
        child = conns.get()
        conns.close_all()
        os._exit(0 if child is not parents and closed == [child] else 1)
    assert os.waitpid(pid, 0)[1] == 0
    assert conns.get() is parents


def test_enqueue_is_visible_to_another_connection_at_once(backend: Backend) -> None:
    writer, reader = backend.open(), backend.open()
    writer.enqueue(job("d1"))
    writer.close()
    assert reader.claim("w", LONG).job.delivery_id == "d1"


@pytest.mark.parametrize(
    "body",
    [b"", b'{"action":"synchronize"}', bytes(range(256)), b"\xff\xfe\x00not utf-8\xc3\x28"],
    ids=["empty", "json", "every-byte", "invalid-utf8"],
)
def test_the_whole_job_round_trips_exactly(queue: Any, body: bytes) -> None:
    sent = Job(
        "d-1",
        MR1,
        JobAction.EXPLAIN,
        "note",
        head_sha="",
        requested_by="alice",
        body=body,
        received_at=1_700_000_123.25,
    )
    queue.enqueue(sent)
    claimed = queue.claim("w", LONG)
    assert claimed.job == sent
    assert claimed.job.body == body and type(claimed.job.body) is bytes


# --- coalescing: only the newest job of a PR runs -----------------------------------------


@pytest.mark.parametrize(
    ("sent", "runs"),
    [
        ([("a", JobAction.REVIEW), ("b", JobAction.REVIEW), ("c", JobAction.REVIEW)], "c"),
        ([("a", JobAction.REVIEW), ("b", JobAction.APPROVAL), ("c", JobAction.CANCEL)], "c"),
        ([("a", JobAction.REVIEW), ("b", JobAction.CANCEL), ("c", JobAction.REVIEW)], "c"),
        ([("a", JobAction.CANCEL), ("b", JobAction.CANCEL)], "b"),
        ([("a", JobAction.REVIEW)], "a"),
    ],
    ids=["three-pushes", "cancel-last", "reopened-after-cancel", "two-cancels", "single"],
)
def test_claim_runs_the_newest_job_and_supersedes_the_older(
    queue: Any, sent: list[tuple[str, JobAction]], runs: str
) -> None:
    for delivery, action in sent:
        queue.enqueue(job(delivery, action=action))
    claimed = queue.claim("w", LONG)
    assert (claimed.job.delivery_id, claimed.attempt) == (runs, 1)
    superseded = len(sent) - 1
    assert states(queue) == {"running": 1, **({"superseded": superseded} if superseded else {})}
    queue.ack(claimed)
    assert queue.claim("w", LONG) is None
    assert states(queue) == {"done": 1, **({"superseded": superseded} if superseded else {})}


def test_claim_serves_the_pr_waiting_longest_first(queue: Any) -> None:
    for delivery, pr in [("a1", PR1), ("b1", PR2), ("a2", PR1), ("m1", MR1)]:
        queue.enqueue(job(delivery, pr))
    order = []
    while (claimed := queue.claim("w", LONG)) is not None:
        order.append(claimed.job.delivery_id)
        queue.ack(claimed)
    assert order == ["a2", "b1", "m1"]
    assert states(queue) == {"done": 3, "superseded": 1}


def test_a_job_accepted_while_its_pr_runs_waits_and_then_supersedes(queue: Any) -> None:
    queue.enqueue(job("a1"))
    first = queue.claim("w1", LONG)
    queue.enqueue(job("a2"))
    queue.enqueue(job("a3"))
    assert queue.claim("w2", LONG) is None
    queue.ack(first)
    assert queue.claim("w2", LONG).job.delivery_id == "a3"
    assert states(queue) == {"done": 1, "running": 1, "superseded": 1}


# --- per-PR serialisation ------------------------------------------------------------------


def test_one_pr_never_runs_on_two_workers_but_other_prs_do(backend: Backend) -> None:
    one, two = backend.open(), backend.open()
    one.enqueue(job("a1"))
    held = one.claim("w1", LONG)
    one.enqueue(job("a2"))
    one.enqueue(job("b1", PR2))
    assert two.claim("w2", LONG).job.delivery_id == "b1"
    assert two.claim("w2", LONG) is None  # a2 waits: PR1's lease is alive
    one.ack(held)
    assert two.claim("w2", LONG).job.delivery_id == "a2"


# --- leases ----------------------------------------------------------------------------------


def test_an_expired_lease_is_claimed_again_with_a_new_token(backend: Backend, queue: Any) -> None:
    queue.enqueue(job("d1"))
    first = queue.claim("w1", SHORT)
    assert queue.claim("w2", SHORT) is None
    backend.advance(PAST_SHORT)
    second = queue.claim("w2", LONG)
    assert (second.job.delivery_id, second.attempt) == ("d1", 2)
    assert second.token != first.token
    # The first worker comes back late: nothing it does counts.
    assert queue.extend(first, LONG) is False
    queue.ack(first)
    queue.fail(first, "late", None)
    assert states(queue) == {"running": 1}
    assert queue.extend(second, LONG) is True
    queue.ack(second)
    assert states(queue) == {"done": 1}


def test_an_expired_lease_loses_to_a_newer_job_of_its_pr(backend: Backend, queue: Any) -> None:
    queue.enqueue(job("d1"))
    queue.claim("w1", SHORT)
    queue.enqueue(job("d2"))
    backend.advance(PAST_SHORT)
    claimed = queue.claim("w2", LONG)
    assert (claimed.job.delivery_id, claimed.attempt) == ("d2", 1)
    assert states(queue) == {"running": 1, "superseded": 1}


def test_a_job_whose_lease_keeps_expiring_fails_after_max_attempts(
    backend: Backend, queue: Any
) -> None:
    queue.enqueue(job("d1"))
    attempts = []
    while (claimed := queue.claim("w", SHORT)) is not None:
        attempts.append(claimed.attempt)
        backend.advance(PAST_SHORT)
    assert attempts == list(range(1, MAX_ATTEMPTS + 1))
    assert states(queue) == {"failed": 1}


def test_extend_keeps_the_lease(backend: Backend, queue: Any) -> None:
    queue.enqueue(job("d1"))
    claimed = queue.claim("w1", SHORT)
    assert queue.extend(claimed, LONG) is True
    backend.advance(PAST_SHORT)
    assert queue.claim("w2", LONG) is None
    queue.ack(claimed)
    assert states(queue) == {"done": 1}


# --- fail ------------------------------------------------------------------------------------


def test_fail_with_retry_runs_again_after_the_delay(backend: Backend, queue: Any) -> None:
    queue.enqueue(job("d1"))
    queue.fail(queue.claim("w", LONG), "forge said 502", retry_in_seconds=SHORT)
    assert states(queue) == {"pending": 1}
    assert queue.claim("w", LONG) is None  # not due yet
    backend.advance(PAST_SHORT)
    again = queue.claim("w", LONG)
    assert (again.job.delivery_id, again.attempt) == ("d1", 2)


@pytest.mark.parametrize(
    ("retries", "end"),
    [
        ([None], "failed"),
        ([0.0, None], "failed"),
        ([0.0] * MAX_ATTEMPTS, "failed"),
        ([0.0] * (MAX_ATTEMPTS - 1), "pending"),
    ],
    ids=["final", "retry-then-final", "retries-exhausted", "retries-left"],
)
def test_fail_ends_in_failed_when_final_or_out_of_attempts(
    queue: Any, retries: list[float | None], end: str
) -> None:
    queue.enqueue(job("d1"))
    for expected_attempt, retry in enumerate(retries, start=1):
        claimed = queue.claim("w", LONG)
        assert claimed.attempt == expected_attempt
        queue.fail(claimed, "boom", retry)
    assert states(queue) == {end: 1}
    assert (queue.claim("w", LONG) is None) == (end == "failed")


def test_a_retry_waiting_job_is_superseded_by_a_newer_one(queue: Any) -> None:
    queue.enqueue(job("d1"))
    queue.fail(queue.claim("w", LONG), "boom", retry_in_seconds=LONG)
    queue.enqueue(job("d2"))
    assert queue.claim("w", LONG).job.delivery_id == "d2"
    assert states(queue) == {"running": 1, "superseded": 1}


# --- is_current ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("later", "current"),
    [
        ([], True),
        ([job("n", sha="sha-2")], False),
        ([job("n", sha="sha-1")], True),
        ([job("n", action=JobAction.EXPLAIN, sha="")], True),
        ([job("n", action=JobAction.CANCEL, sha="sha-1")], False),
        ([job("n", action=JobAction.CANCEL, sha="")], False),
        ([job("n", PR2, sha="sha-2"), job("m", MR1, action=JobAction.CANCEL)], True),
        ([job("n", sha="sha-2"), job("m", sha="sha-1")], False),
    ],
    ids=[
        "alone",
        "new-head",
        "same-head",
        "command-without-head",
        "cancel",
        "cancel-no-head",
        "other-prs",
        "moved-and-back",
    ],
)
def test_is_current(queue: Any, later: list[Job], current: bool) -> None:
    mine = job("mine", sha="sha-1")
    queue.enqueue(mine)
    for other in later:
        queue.enqueue(other)
    assert queue.is_current(mine) is current


def test_an_earlier_job_never_makes_a_later_one_stale(queue: Any) -> None:
    queue.enqueue(job("old", sha="sha-0"))
    queue.enqueue(job("new", sha="sha-1"))
    assert queue.is_current(job("new", sha="sha-1")) is True


def test_an_unknown_job_is_not_current(queue: Any) -> None:
    assert queue.is_current(job("never-enqueued")) is False


# --- results and counts --------------------------------------------------------------------


def test_results_are_remembered_per_pr_and_head_sha(queue: Any) -> None:
    assert queue.has_result(PR1, "sha-1") is False
    queue.record_result(PR1, "sha-1", "failure")
    queue.record_result(PR1, "sha-1", "success")  # a re-review: still one result
    assert queue.has_result(PR1, "sha-1") is True
    assert queue.has_result(PR1, "sha-2") is False
    assert queue.has_result(PR2, "sha-1") is False


def test_rendered_fingerprints_are_kept_per_head_for_keep_if_rendered_unchanged(
    queue: Any,
) -> None:
    assert dict(queue.fingerprints(PR1)) == {}
    queue.record_result(PR1, "sha-1", "success", "fp-1")
    queue.record_result(PR1, "sha-2", "failure")  # no fingerprint (the review failed)
    queue.record_result(PR1, "sha-3", "success", "fp-old")
    queue.record_result(PR1, "sha-3", "success", "fp-3")  # re-reviewed: the newest counts
    queue.record_result(PR2, "sha-9", "success", "fp-9")
    assert dict(queue.fingerprints(PR1)) == {"sha-1": "fp-1", "sha-3": "fp-3"}
    assert dict(queue.fingerprints(PR2)) == {"sha-9": "fp-9"}


def test_repositories_are_every_repo_a_job_was_accepted_for(queue: Any) -> None:
    assert queue.repositories() == []
    for delivery, pr in [("a1", PR1), ("a2", PR1), ("b1", PR2), ("c1", MR1)]:
        queue.enqueue(job(delivery, pr))
    queue.ack(queue.claim("w", LONG))  # done jobs still count: the repository is known
    expected = sorted({(p.forge, p.repo, p.installation) for p in (PR1, PR2, MR1)}, key=lambda t: t)
    assert [(r.forge, r.repo, r.installation) for r in queue.repositories()] == expected
    assert {r.number for r in queue.repositories()} == {0}


def test_counts_name_every_state(queue: Any) -> None:
    assert dict(queue.counts()) == dict.fromkeys(JobState, 0)
    for delivery, pr in [("a1", PR1), ("a2", PR1), ("b1", PR2), ("c1", MR1)]:
        queue.enqueue(job(delivery, pr))
    queue.ack(queue.claim("w", LONG))
    queue.fail(queue.claim("w", LONG), "boom", None)
    queue.claim("w", LONG)
    assert dict(queue.counts()) == {
        JobState.PENDING: 0,
        JobState.RUNNING: 1,
        JobState.DONE: 1,
        JobState.SUPERSEDED: 1,
        JobState.FAILED: 1,
    }


def test_counts_raise_when_the_store_is_unreachable(backend: Backend, tmp_path: Path) -> None:
    if backend.name == "sqlite":
        gone = tmp_path / "gone"
        gone.mkdir()
        queue = SqliteJobQueue(str(gone / "queue.sqlite3"))
        queue.close()
        (gone / "queue.sqlite3").unlink()
        gone.rmdir()
    else:
        queue = ProcrastinateJobQueue("postgresql://postgres:s3cret@127.0.0.1:1/none")
    with pytest.raises(Exception) as raised:
        queue.counts()
    assert "s3cret" not in str(raised.value)
    queue.close()


def test_the_sqlite_file_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite3"
    SqliteJobQueue(str(path)).close()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# --- the factory -------------------------------------------------------------------------


def test_open_queue_builds_the_named_backend(backend: Backend) -> None:
    queue = open_queue(backend.url)
    try:
        expected = SqliteJobQueue if backend.name == "sqlite" else ProcrastinateJobQueue
        assert isinstance(queue, expected)
        assert queue.counts()[JobState.PENDING] == 0
    finally:
        queue.close()


def test_open_queue_creates_the_sqlite_parent_dir(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "queue.sqlite3"
    for url in (f"sqlite://{path}", f"sqlite:///{path}"):  # sqlite:///abs and sqlite:////abs
        queue = open_queue(url)
        assert queue.enqueue(job(url)) is True
        queue.close()
    assert path.exists()


@pytest.mark.parametrize(
    "url", ["redis://localhost/0", "sqlite://relative/queue.db", "", "mysql://u:hunter2@h/db"]
)
def test_open_queue_refuses_unknown_urls(url: str) -> None:
    with pytest.raises(UsageError, match="GITOPS_BOT_QUEUE") as raised:
        open_queue(url)
    assert "hunter2" not in raised.value.diagnostics()


# --- real processes ----------------------------------------------------------------------------


def spawn(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.engines.queue_proc", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_a_killed_worker_s_job_is_claimed_again_after_its_lease(backend: Backend) -> None:
    queue = open_queue(backend.url)  # the real clock, like the worker process
    queue.enqueue(job("d1"))
    holder = spawn("hold", backend.url, "2.0")
    try:
        assert holder.stdout is not None
        held = json.loads(holder.stdout.readline())
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert held["delivery_id"] == "d1"
    assert queue.claim("w", LONG) is None  # the dead worker's lease still holds
    time.sleep(max(0.0, held["lease_expires_at"] - time.time()) + 0.2)
    again = queue.claim("w", LONG)
    assert (again.job.delivery_id, again.attempt) == ("d1", 2)
    assert again.token != held["token"]
    queue.ack(again)
    assert queue.counts()[JobState.DONE] == 1
    queue.close()


def test_concurrent_worker_processes_serialise_prs_and_lose_nothing(
    backend: Backend, tmp_path: Path
) -> None:
    prs = [PullRequestRef(Forge.GITHUB, "acme/deploy", n) for n in range(50)]
    (tmp_path / "running").mkdir()
    workers = [spawn("drain", backend.url, str(tmp_path), f"w{i}") for i in range(4)]
    queue = open_queue(backend.url)
    try:
        while len(list(tmp_path.glob("ready-*"))) < len(workers):
            time.sleep(0.01)
        # A PR's pushes come while its earlier jobs run (a worker must not take them) or wait
        # (they are superseded).
        for pr in prs:
            for push in range(4):
                assert queue.enqueue(job(f"{pr.number}-{push}", pr))
                time.sleep(random.uniform(0, 0.004))
        (tmp_path / "enqueued").touch()
        acked = [json.loads(w.communicate(timeout=120)[0]) for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
    done = [d for per_worker in acked for d in per_worker]
    assert not (tmp_path / "overlaps").exists()
    assert len(done) == len(set(done))  # no job ran twice
    assert {f"{pr.number}-3" for pr in prs} <= set(done)  # every PR's newest job ran
    assert len(done) > len(prs)  # and some older ones, run before the next push came
    counts = queue.counts()
    assert counts[JobState.DONE] == len(done)
    assert counts[JobState.DONE] + counts[JobState.SUPERSEDED] == 200
    queue.close()
