"""The JobQueue named by `GITOPS_BOT_QUEUE`: `sqlite:///abs/path` or `postgresql://...`."""

from __future__ import annotations

from pathlib import Path

from bot.engines.queue_common import redact
from bot.engines.queue_postgres import ProcrastinateJobQueue
from bot.engines.queue_sqlite import SqliteJobQueue
from bot.model.errors import UsageError
from bot.ports import JobQueue

_HINT = (
    "set GITOPS_BOT_QUEUE to sqlite:///absolute/path/queue.sqlite3 (one host) or "
    "postgresql://user@host/db (several hosts)"
)


def open_queue(url: str) -> JobQueue:
    """Open (and create, for SQLite) the queue at `url`."""
    if url.startswith("sqlite://"):
        # sqlite:///abs and SQLAlchemy's sqlite:////abs both name /abs.
        rest = url.removeprefix("sqlite://")
        path = "/" + rest.lstrip("/") if rest.startswith("/") else rest
        if not path.startswith("/") or path == "/":
            raise UsageError(
                f"GITOPS_BOT_QUEUE={url!r}: the SQLite path must be absolute", hint=_HINT
            )
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SqliteJobQueue(path)
    if url.startswith(("postgresql://", "postgres://")):
        return ProcrastinateJobQueue(url)
    shown = redact(url)
    raise UsageError(f"GITOPS_BOT_QUEUE={shown!r} is not a queue URL this bot knows", hint=_HINT)
