"""JobQueue on PostgreSQL, for several hosts: procrastinate's jobs table plus two small tables.

What procrastinate does here: its schema (applied once, under an advisory lock, when missing),
its `procrastinate_jobs` rows as the job states (todo, doing, succeeded, cancelled = superseded,
failed), `lock` = the PR key, whose unique index allows one `doing` job per PR (per-PR
serialisation enforced by the database itself), deferring through its JobManager, and its SQL
functions for every transition but one: finish (ack, final failure), retry (a retry, and a
stalled job whose lease expired) and cancel (a superseded job).

What it has no equivalent for, in `gitops_bot_jobs`: the delivery id (its `queueing_lock` only
dedupes while a job waits; a delivery seen before is a duplicate forever), the Job itself with
its raw body (bytea), and a per-claim lease with a token (its stalled-job detection is per
worker heartbeat). Results are in `gitops_bot_results`.

The claim is our own SQL, not `procrastinate_fetch_job_v2`: that one hands out the OLDEST
waiting job of a lock, and coalescing needs the NEWEST (older ones are superseded). Claims are
serialised by a transaction advisory lock: each is a few statements, and it makes "pick the
PR, supersede its older jobs, start the newest" one consistent step. The todo -> doing update is
the only statement that writes procrastinate's table directly (what its fetch function does).
Time is the database's `now()`, the same clock for every host.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import psycopg
from procrastinate import jobs as procrastinate_jobs
from procrastinate import sql as procrastinate_sql
from procrastinate.manager import JobManager
from procrastinate.schema import SchemaManager
from procrastinate.sync_psycopg_connector import SyncPsycopgConnector
from psycopg.rows import DictRow, dict_row

from bot.engines import queue_postgres_sql as sql
from bot.engines.queue_common import (
    LEASE_EXPIRED,
    PerThreadConnections,
    job_from_row,
    job_values,
    redact,
)
from bot.model.job import ClaimedJob, Forge, Job, JobAction, JobState, PullRequestRef

T = TypeVar("T")
Conn = psycopg.Connection[DictRow]

_TASK = "gitops_bot.run_job"  # procrastinate's task name; no procrastinate worker runs it
_SCHEMA_LOCK = 0x6769746F7073_01  # pg_advisory_xact_lock keys, any constant bigint
_CLAIM_LOCK = 0x6769746F7073_02
_QUERIES = procrastinate_sql.queries

_STATES = {
    "todo": JobState.PENDING,
    "doing": JobState.RUNNING,
    "succeeded": JobState.DONE,
    "cancelled": JobState.SUPERSEDED,
    "failed": JobState.FAILED,
    "aborting": JobState.RUNNING,
    "aborted": JobState.FAILED,
}


class ProcrastinateJobQueue:
    """The durable job queue in PostgreSQL (see the module docstring)."""

    def __init__(
        self,
        dsn: str,
        max_attempts: int = 5,
        queue_name: str = "gitops-bot",
        connect_timeout: float = 10.0,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._dsn = dsn
        self._max_attempts = max_attempts
        self._queue = queue_name
        self._connect_timeout = connect_timeout
        # Only used with our own connection (defer_job(connection=...)): its pool stays closed.
        self._manager = JobManager(SyncPsycopgConnector())
        self._conns = PerThreadConnections(self._connect, psycopg.Connection.close)
        self._schema_ready = False

    def __repr__(self) -> str:
        return f"ProcrastinateJobQueue({redact(self._dsn)!r}, queue_name={self._queue!r})"

    def _connect(self) -> Conn:
        return psycopg.connect(
            self._dsn,
            autocommit=True,  # transactions only where `_transact` opens one
            row_factory=dict_row,
            connect_timeout=max(1, round(self._connect_timeout)),
        )

    def _transact(self, work: Callable[[Conn], T]) -> T:
        """Run `work` in one transaction; once more on a fresh connection when a kept one broke
        (the server restarted). Safe, as each transaction is all or nothing; only a claim whose
        COMMIT was lost on the wire leaves its job leased to nobody until the lease expires."""
        for attempt in (1, 2):
            conn = self._conns.get()
            try:
                if not self._schema_ready:
                    self._ensure_schema(conn)
                with conn.transaction():
                    return work(conn)
            except psycopg.OperationalError:
                if not (conn.broken or conn.closed):
                    raise
                self._conns.discard()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _ensure_schema(self, conn: Conn) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            found = conn.execute(_QUERIES["check_connection"]).fetchone()
            if found is None or found["check"] is None:
                # procrastinate's schema.sql is not idempotent (CREATE TYPE): only when missing.
                conn.execute(SchemaManager.get_schema())
            conn.execute(sql.OWN_SCHEMA)
        self._schema_ready = True

    def enqueue(self, job: Job) -> bool:
        def work(conn: Conn) -> bool:
            if conn.execute(sql.INSERT, job_values(job)).fetchone() is None:
                return False
            key = job.pull_request.key
            deferred = self._manager.defer_job(
                procrastinate_jobs.Job(
                    queue=self._queue,
                    lock=key,
                    queueing_lock=None,
                    task_name=_TASK,
                    task_kwargs={"delivery_id": job.delivery_id, "pr_key": key},
                ),
                connection=conn,
            )
            conn.execute(
                "UPDATE gitops_bot_jobs SET job_id = %s WHERE delivery_id = %s",
                (deferred.id, job.delivery_id),
            )
            return True

        return self._transact(work)

    def claim(self, worker: str, lease_seconds: float) -> ClaimedJob | None:
        return self._transact(lambda conn: self._claim(conn, worker, lease_seconds))

    def _claim(self, conn: Conn, worker: str, lease_seconds: float) -> ClaimedJob | None:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_CLAIM_LOCK,))
        for stalled in conn.execute(sql.EXPIRE, {"error": LEASE_EXPIRED}).fetchall():
            self._end_attempt(conn, stalled["job_id"], stalled["attempts"], None)
        picked = conn.execute(sql.PICK, {"queue": self._queue}).fetchone()
        if picked is None:
            return None
        started = conn.execute(
            "UPDATE procrastinate_jobs SET status = 'doing' WHERE id = %s AND status = 'todo' "
            "RETURNING attempts",
            (picked["id"],),
        ).fetchone()
        assert started is not None  # claims hold _CLAIM_LOCK, and only a claim starts a job
        token = secrets.token_hex(16)
        row = conn.execute(
            sql.LEASE,
            {"worker": worker, "token": token, "lease": lease_seconds, "id": picked["id"]},
        ).fetchone()
        assert row is not None
        params = {"lock": picked["lock"], "queue": self._queue, "id": picked["id"]}
        conn.execute(sql.SUPERSEDE, {**params, "delivery_id": row["delivery_id"]})
        return ClaimedJob(
            job=job_from_row(row),
            token=token,
            attempt=int(started["attempts"]) + 1,  # procrastinate counts finished attempts
            lease_expires_at=float(row["lease_epoch"]),
        )

    def _end_attempt(self, conn: Conn, job_id: int, attempts: int, retry_at: Any) -> None:
        """Retry the job at `retry_at` (None: now), or fail it when that was the last attempt."""
        if attempts + 1 >= self._max_attempts:
            conn.execute(
                _QUERIES["finish_job"], {"job_id": job_id, "status": "failed", "delete_job": False}
            )
            return
        retry = {"new_priority": None, "new_queue_name": None, "new_lock": None}
        conn.execute(_QUERIES["retry_job"], {"job_id": job_id, "retry_at": retry_at, **retry})

    def extend(self, claim: ClaimedJob, lease_seconds: float) -> bool:
        return bool(
            self._fetch(
                "UPDATE gitops_bot_jobs SET lease_expires_at = now() + make_interval(secs => %s) "
                "WHERE delivery_id = %s AND token = %s RETURNING 1",
                (lease_seconds, claim.job.delivery_id, claim.token),
            )
        )

    def ack(self, claim: ClaimedJob) -> None:
        self._release(claim, None, None, final=True, status="succeeded")

    def fail(self, claim: ClaimedJob, error: str, retry_in_seconds: float | None) -> None:
        final = retry_in_seconds is None
        self._release(claim, error, retry_in_seconds, final=final, status="failed")

    def _release(
        self, claim: ClaimedJob, error: str | None, retry: float | None, final: bool, status: str
    ) -> None:
        def work(conn: Conn) -> None:
            params = {"delivery_id": claim.job.delivery_id, "token": claim.token}
            row = conn.execute(
                sql.RELEASE, {**params, "error": error, "retry": retry or 0}
            ).fetchone()
            if row is None:
                return  # a stale token: the lease expired and the job moved on
            if final:
                finish = {"job_id": row["job_id"], "status": status, "delete_job": False}
                conn.execute(_QUERIES["finish_job"], finish)
            else:
                self._end_attempt(conn, row["job_id"], row["attempts"], row["retry_at"])

        self._transact(work)

    def is_current(self, job: Job) -> bool:
        params = {"delivery_id": job.delivery_id, "cancel": JobAction.CANCEL.value}
        return bool(self._fetch(sql.IS_CURRENT, params)[0]["current"])

    def record_result(
        self, pull_request: PullRequestRef, head_sha: str, conclusion: str, fingerprint: str = ""
    ) -> None:
        self._fetch(
            "INSERT INTO gitops_bot_results (pr_key, head_sha, conclusion, fingerprint) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (pr_key, head_sha) "
            "DO UPDATE SET conclusion = excluded.conclusion, "
            "fingerprint = excluded.fingerprint, recorded_at = now()",
            (pull_request.key, head_sha, conclusion, fingerprint),
        )

    def repositories(self) -> list[PullRequestRef]:
        rows = self._fetch(
            "SELECT DISTINCT forge, repo, installation FROM gitops_bot_jobs ORDER BY 1, 2, 3", ()
        )
        return [
            PullRequestRef(Forge(row["forge"]), str(row["repo"]), 0, str(row["installation"]))
            for row in rows
        ]

    def fingerprints(self, pull_request: PullRequestRef) -> Mapping[str, str]:
        rows = self._fetch(
            "SELECT head_sha, fingerprint FROM gitops_bot_results "
            "WHERE pr_key = %s AND fingerprint != ''",
            (pull_request.key,),
        )
        return {str(row["head_sha"]): str(row["fingerprint"]) for row in rows}

    def has_result(self, pull_request: PullRequestRef, head_sha: str) -> bool:
        query = "SELECT 1 FROM gitops_bot_results WHERE pr_key = %s AND head_sha = %s"
        return bool(self._fetch(query, (pull_request.key, head_sha)))

    def counts(self) -> Mapping[JobState, int]:
        found = dict.fromkeys(JobState, 0)
        for row in self._fetch(
            "SELECT status::text AS status, count(*) AS n FROM procrastinate_jobs "
            "WHERE queue_name = %s GROUP BY status",
            (self._queue,),
        ):
            found[_STATES[row["status"]]] += int(row["n"])
        return found

    def _fetch(self, query: str, params: Sequence[Any] | Mapping[str, Any]) -> list[DictRow]:
        """One statement in its own transaction; its rows, if it returns any."""

        def work(conn: Conn) -> list[DictRow]:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

        return self._transact(work)

    def close(self) -> None:
        self._conns.close_all()
