"""Which head SHA each GitLab approval was given on.

GitLab's approvals API says who approved, never on which commit. The `Merge Request Hook` of an
approval does carry the MR's head at that moment (`object_attributes.last_commit.id`), so the web
process records (project, MR iid, user) → head SHA as each approval event arrives, in arrival
order, before the job is queued: the queue coalesces a PR's pending jobs, so recording it when
the job runs could miss an approval whose job was superseded. The worker's GitLabForge reads the
record to turn "user approved" into Review(user, "approved", sha).

An approval with no record (given before the hook was set up, or its delivery lost) is bound to
no SHA: it counts only where a rule does not invalidate approvals on push. A withdrawn approval
deletes the record; approving again records the head of that moment.

SQLite in the server's data dir (WAL; one short transaction per event). Web and workers must see
the same file: with the SQLite queue they already share the data dir; with PostgreSQL on several
hosts, put `GITOPS_BOT_DATA_DIR` on shared storage or implement `ApprovalBindings` on PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Protocol

from bot.core.webhooks.gitlab import ApprovalBinding

FILE_NAME = "gitlab-approvals.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS approval_bindings (
    project TEXT NOT NULL,
    iid INTEGER NOT NULL,
    username TEXT NOT NULL,
    head_sha TEXT NOT NULL,
    recorded_at REAL NOT NULL,
    PRIMARY KEY (project, iid, username)
)
"""


def _key(project: str) -> str:
    return project.lower()  # GitLab paths are unique regardless of case


class ApprovalBindings(Protocol):
    def apply(self, binding: ApprovalBinding, recorded_at: float) -> None:
        """Record an approval (replacing the user's earlier one) or forget a withdrawn one."""
        ...

    def heads(self, project: str, iid: int) -> dict[str, str]:
        """username → the head SHA of that user's current approval."""
        ...


class MemoryApprovalBindings:
    """For tests and single-process tools."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, int, str], str] = {}

    def apply(self, binding: ApprovalBinding, recorded_at: float) -> None:
        key = (_key(binding.project), binding.iid, binding.user)
        if binding.approved:
            self._items[key] = binding.head_sha
        else:
            self._items.pop(key, None)

    def heads(self, project: str, iid: int) -> dict[str, str]:
        key = (_key(project), iid)
        return {u: s for (p, i, u), s in self._items.items() if (p, i) == key}


class SqliteApprovalBindings:
    def __init__(self, path: str | Path) -> None:
        self._path = str(path)
        Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    @classmethod
    def in_data_dir(cls, data_dir: str | Path) -> SqliteApprovalBindings:
        return cls(Path(data_dir) / FILE_NAME)

    def __repr__(self) -> str:
        return f"SqliteApprovalBindings({self._path!r})"

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self._path, timeout=30, isolation_level=None)) as db:
            yield db

    def apply(self, binding: ApprovalBinding, recorded_at: float) -> None:
        with self._connect() as db:
            if binding.approved:
                db.execute(
                    "INSERT INTO approval_bindings VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (project, iid, username) DO UPDATE SET "
                    "head_sha = excluded.head_sha, recorded_at = excluded.recorded_at",
                    (
                        _key(binding.project),
                        binding.iid,
                        binding.user,
                        binding.head_sha,
                        recorded_at,
                    ),
                )
            else:
                db.execute(
                    "DELETE FROM approval_bindings WHERE project = ? AND iid = ? AND username = ?",
                    (_key(binding.project), binding.iid, binding.user),
                )

    def heads(self, project: str, iid: int) -> dict[str, str]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT username, head_sha FROM approval_bindings WHERE project = ? AND iid = ?",
                (_key(project), iid),
            ).fetchall()
        return {str(user): str(head) for user, head in rows}
