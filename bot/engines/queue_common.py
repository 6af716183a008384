"""What both JobQueue backends share: a Job as table columns, and per-thread connections.

Connections are per thread and per process. A database connection inherited through fork()
is the parent's session: the child must neither use it nor close it (closing a PostgreSQL one
sends the server a Terminate for the parent's session; SQLite's locks are per process), so
inherited ones are parked for the life of the process instead of being garbage-collected.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from bot.model.job import Forge, Job, JobAction, PullRequestRef

# The stored columns of a Job, in a fixed order (both schemas use these names).
JOB_COLUMNS = (
    "delivery_id",
    "pr_key",
    "forge",
    "repo",
    "number",
    "installation",
    "action",
    "event",
    "head_sha",
    "requested_by",
    "body",
    "received_at",
)

LEASE_EXPIRED = "lease expired: the worker stopped without acking"


def job_values(job: Job) -> dict[str, Any]:
    pr = job.pull_request
    return {
        "delivery_id": job.delivery_id,
        "pr_key": pr.key,
        "forge": pr.forge.value,
        "repo": pr.repo,
        "number": pr.number,
        "installation": pr.installation,
        "action": job.action.value,
        "event": job.event,
        "head_sha": job.head_sha,
        "requested_by": job.requested_by,
        "body": bytes(job.body),
        "received_at": float(job.received_at),
    }


def job_from_row(row: Mapping[str, Any]) -> Job:
    return Job(
        delivery_id=row["delivery_id"],
        pull_request=PullRequestRef(
            forge=Forge(row["forge"]),
            repo=row["repo"],
            number=int(row["number"]),
            installation=row["installation"],
        ),
        action=JobAction(row["action"]),
        event=row["event"],
        head_sha=row["head_sha"],
        requested_by=row["requested_by"],
        body=bytes(row["body"]),
        received_at=float(row["received_at"]),
    )


def redact(dsn: str) -> str:
    """The DSN without its password, for messages and logs."""
    dsn = re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", dsn)
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", dsn)


C = TypeVar("C")

_inherited: list[object] = []  # connections of a parent process: kept alive, never touched


class PerThreadConnections(Generic[C]):
    """One connection per (process, thread), opened on first use."""

    def __init__(self, connect: Callable[[], C], close: Callable[[C], None]) -> None:
        self._connect = connect
        self._close = close
        self._local = threading.local()
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._open: list[C] = []

    def get(self) -> C:
        self._after_fork()
        conn: C | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._open.append(conn)
        return conn

    def discard(self) -> None:
        """Forget this thread's connection (it broke): the next call opens a new one."""
        conn: C | None = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._lock:
                if conn in self._open:
                    self._open.remove(conn)
            self._close(conn)

    def close_all(self) -> None:
        self._after_fork()
        with self._lock:
            conns, self._open = self._open, []
        for conn in conns:
            self._close(conn)
        self._local = threading.local()

    def _after_fork(self) -> None:
        if self._pid == os.getpid():
            return
        self._lock = threading.Lock()  # one held by another thread at fork() stays held here
        _inherited.extend(self._open)
        self._open = []
        self._local = threading.local()
        self._pid = os.getpid()
