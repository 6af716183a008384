"""JobQueue on an embedded SQLite lease table: the default backend, one file on local disk.

Several processes (gunicorn web workers, worker processes) share the file. WAL lets readers run
beside the one writer; every write is `BEGIN IMMEDIATE`, which takes the write lock up front
and so waits (busy_timeout) for another writer, where a read transaction upgraded to a write
would fail at once with SQLITE_BUSY; `synchronous=FULL` makes a commit survive power loss, not
just a crash. The file must be on a local filesystem: WAL needs shared memory between processes.
Claims use `UPDATE … RETURNING`: SQLite 3.35 or later (Python 3.11 here bundles 3.40).

Time comes from the injected clock, so the tests can expire leases without sleeping; leases are
recovered lazily, at the start of a claim (a job is late by at most one poll interval).
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping

from bot.engines.queue_common import (
    LEASE_EXPIRED,
    PerThreadConnections,
    job_from_row,
    job_values,
)
from bot.model.job import ClaimedJob, Forge, Job, JobAction, JobState, PullRequestRef

_BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- acceptance order (AUTOINCREMENT: never reused)
    delivery_id TEXT NOT NULL UNIQUE,
    pr_key TEXT NOT NULL,
    forge TEXT NOT NULL,
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    installation TEXT NOT NULL,
    action TEXT NOT NULL,
    event TEXT NOT NULL,
    head_sha TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    body BLOB NOT NULL,
    received_at REAL NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,  -- claims so far: the attempt number of the last one
    available_at REAL NOT NULL,  -- not claimable before (a retry's delay)
    worker TEXT,
    token TEXT,
    lease_expires_at REAL,
    error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_key ON jobs (pr_key, state, id);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, id);
-- Covers the claim's scan of the pending jobs, which otherwise reads every pending row (past its
-- body BLOB's overflow pages) while holding the write lock: 30 ms per claim at 3,000 pending.
CREATE INDEX IF NOT EXISTS jobs_claimable ON jobs (state, pr_key, id, available_at);
CREATE TABLE IF NOT EXISTS results (
    pr_key TEXT NOT NULL,
    head_sha TEXT NOT NULL,
    conclusion TEXT NOT NULL,
    fingerprint TEXT NOT NULL DEFAULT '',
    recorded_at REAL NOT NULL,
    PRIMARY KEY (pr_key, head_sha)
);
"""

_INSERT = """
INSERT INTO jobs (delivery_id, pr_key, forge, repo, number, installation, action, event, head_sha,
                  requested_by, body, received_at, state, available_at)
VALUES (:delivery_id, :pr_key, :forge, :repo, :number, :installation, :action, :event, :head_sha,
        :requested_by, :body, :received_at, 'pending', :now)
ON CONFLICT (delivery_id) DO NOTHING
"""

_RECOVER = """
UPDATE jobs SET
    state = CASE WHEN attempts >= :max_attempts THEN 'failed' ELSE 'pending' END,
    available_at = :now, worker = NULL, token = NULL, lease_expires_at = NULL, error = :error
WHERE state = 'running' AND lease_expires_at <= :now
"""

# The newest pending job of the PR whose oldest pending job is the oldest of all, among PRs with
# nothing running and whose newest job is due. Recovery ran first: every running lease is alive.
_CLAIM = """
UPDATE jobs SET
    state = 'running', attempts = attempts + 1, worker = :worker, token = :token,
    lease_expires_at = :expires, error = NULL
WHERE id = (
    SELECT n.id FROM jobs AS n
    WHERE n.state = 'pending' AND n.available_at <= :now
      AND NOT EXISTS (SELECT 1 FROM jobs AS x
                      WHERE x.pr_key = n.pr_key AND x.state = 'pending' AND x.id > n.id)
      AND NOT EXISTS (SELECT 1 FROM jobs AS r WHERE r.pr_key = n.pr_key AND r.state = 'running')
    ORDER BY (SELECT min(o.id) FROM jobs AS o WHERE o.pr_key = n.pr_key AND o.state = 'pending')
    LIMIT 1
)
RETURNING *
"""

_SUPERSEDE = """
UPDATE jobs SET state = 'superseded', error = 'superseded by delivery ' || :delivery_id
WHERE pr_key = :pr_key AND state = 'pending' AND id < :id
"""

_FAIL = """
UPDATE jobs SET
    state = CASE WHEN :retry IS NULL OR attempts >= :max_attempts THEN 'failed' ELSE 'pending' END,
    available_at = :now + coalesce(:retry, 0),
    worker = NULL, token = NULL, lease_expires_at = NULL, error = :error
WHERE delivery_id = :delivery_id AND token = :token
"""

_IS_CURRENT = """
SELECT EXISTS (SELECT 1 FROM jobs WHERE delivery_id = :delivery_id)
   AND NOT EXISTS (
       SELECT 1 FROM jobs AS me JOIN jobs AS later ON later.pr_key = me.pr_key AND later.id > me.id
       WHERE me.delivery_id = :delivery_id
         AND (later.action = :cancel OR (later.head_sha != '' AND later.head_sha != me.head_sha)))
"""


class SqliteJobQueue:
    """The durable job queue in one SQLite file (see the module docstring)."""

    def __init__(
        self, path: str, max_attempts: int = 5, clock: Callable[[], float] = time.time
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.path = path
        self._max_attempts = max_attempts
        self._clock = clock
        self._conns = PerThreadConnections(self._connect, sqlite3.Connection.close)
        conn = self._conns.get()
        # WAL is a property of the file: set once, it holds for every later connection.
        conn.execute("PRAGMA journal_mode=WAL")
        try:
            conn.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} COMMIT;")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions, only the BEGIN IMMEDIATE below.
        conn = sqlite3.connect(
            self.path,
            timeout=_BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,  # used by its own thread only; close() runs elsewhere
        )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conns.get()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def enqueue(self, job: Job) -> bool:
        with self._write() as conn:
            return conn.execute(_INSERT, {**job_values(job), "now": self._clock()}).rowcount == 1

    def claim(self, worker: str, lease_seconds: float) -> ClaimedJob | None:
        token = secrets.token_hex(16)
        with self._write() as conn:
            now = self._clock()  # after BEGIN IMMEDIATE, which may have waited for the lock
            conn.execute(
                _RECOVER, {"now": now, "max_attempts": self._max_attempts, "error": LEASE_EXPIRED}
            )
            row = conn.execute(
                _CLAIM,
                {"now": now, "worker": worker, "token": token, "expires": now + lease_seconds},
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                _SUPERSEDE,
                {"pr_key": row["pr_key"], "id": row["id"], "delivery_id": row["delivery_id"]},
            )
        return ClaimedJob(
            job=job_from_row(row),
            token=token,
            attempt=int(row["attempts"]),
            lease_expires_at=now + lease_seconds,
        )

    def extend(self, claim: ClaimedJob, lease_seconds: float) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE jobs SET lease_expires_at = ? WHERE delivery_id = ? AND token = ?",
                (self._clock() + lease_seconds, claim.job.delivery_id, claim.token),
            )
            return cursor.rowcount == 1

    def ack(self, claim: ClaimedJob) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE jobs SET state = 'done', worker = NULL, token = NULL, "
                "lease_expires_at = NULL WHERE delivery_id = ? AND token = ?",
                (claim.job.delivery_id, claim.token),
            )

    def fail(self, claim: ClaimedJob, error: str, retry_in_seconds: float | None) -> None:
        with self._write() as conn:
            conn.execute(
                _FAIL,
                {
                    "retry": retry_in_seconds,
                    "max_attempts": self._max_attempts,
                    "now": self._clock(),
                    "error": error,
                    "delivery_id": claim.job.delivery_id,
                    "token": claim.token,
                },
            )

    def is_current(self, job: Job) -> bool:
        params = {"delivery_id": job.delivery_id, "cancel": JobAction.CANCEL.value}
        row = self._conns.get().execute(_IS_CURRENT, params).fetchone()
        return bool(row[0])

    def record_result(
        self, pull_request: PullRequestRef, head_sha: str, conclusion: str, fingerprint: str = ""
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO results (pr_key, head_sha, conclusion, fingerprint, recorded_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (pr_key, head_sha) "
                "DO UPDATE SET conclusion = excluded.conclusion, "
                "fingerprint = excluded.fingerprint, recorded_at = excluded.recorded_at",
                (pull_request.key, head_sha, conclusion, fingerprint, self._clock()),
            )

    def repositories(self) -> list[PullRequestRef]:
        rows = (
            self._conns.get()
            .execute("SELECT DISTINCT forge, repo, installation FROM jobs ORDER BY 1, 2, 3")
            .fetchall()
        )
        return [PullRequestRef(Forge(f), str(r), 0, str(i)) for f, r, i in rows]

    def fingerprints(self, pull_request: PullRequestRef) -> Mapping[str, str]:
        rows = (
            self._conns.get()
            .execute(
                "SELECT head_sha, fingerprint FROM results WHERE pr_key = ? AND fingerprint != ''",
                (pull_request.key,),
            )
            .fetchall()
        )
        return {str(sha): str(fp) for sha, fp in rows}

    def has_result(self, pull_request: PullRequestRef, head_sha: str) -> bool:
        row = (
            self._conns.get()
            .execute(
                "SELECT 1 FROM results WHERE pr_key = ? AND head_sha = ?",
                (pull_request.key, head_sha),
            )
            .fetchone()
        )
        return row is not None

    def counts(self) -> Mapping[JobState, int]:
        rows = self._conns.get().execute("SELECT state, count(*) FROM jobs GROUP BY state")
        found = {JobState(state): int(n) for state, n in rows}
        return {state: found.get(state, 0) for state in JobState}

    def close(self) -> None:
        self._conns.close_all()
