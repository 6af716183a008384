"""GitLab's words in the bot's terms: MR state, access levels, commit-status states, and which
users a merge request's commits belong to. Pure functions of API JSON."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.model.job import PullRequestRef
from bot.ports import CheckReport, CheckState, PullRequestInfo

MAX_DESCRIPTION_CHARS = 255  # commit status description and target_url
# GitLab access levels → the permission names approval rules use (GitHub's vocabulary).
_LEVELS = ((50, "admin"), (40, "maintain"), (30, "write"), (10, "read"))
_MR_STATES = {"opened": "open", "merged": "merged", "closed": "closed", "locked": "closed"}
_CONCLUSIONS = {
    "success": "success",
    "neutral": "success",  # GitLab has no neutral; GitHub's neutral does not block either
    "skipped": "skipped",
    "cancelled": "canceled",
}
# Private commit emails: <id>-<username>@users.noreply.<host>
_NOREPLY = re.compile(r"^\d+-([A-Za-z0-9_.][A-Za-z0-9_.-]*)@users\.noreply\.", re.IGNORECASE)


def permission_of(access_level: Any, state: Any = "active") -> str:
    """30 Developer → write, 40 Maintainer → maintain, 50 Owner → admin, 10-29 → read;
    Minimal Access (5), no membership and blocked users → none."""
    if state not in (None, "active") or isinstance(access_level, bool):
        return "none"
    if not isinstance(access_level, int):
        return "none"
    return next((name for level, name in _LEVELS if access_level >= level), "none")


def mr_state(state: Any) -> str:
    return _MR_STATES.get(state, "closed") if isinstance(state, str) else "closed"


def status_state(check: CheckReport) -> str:
    """pending → running → success/failed (and canceled/skipped), as commit statuses spell it."""
    if check.state is CheckState.QUEUED:
        return "pending"
    if check.state is CheckState.IN_PROGRESS:
        return "running"
    return _CONCLUSIONS.get(check.conclusion, "failed")


def description(check: CheckReport) -> str:
    """One line of at most 255 characters: the title, else the summary's first line."""
    source = check.title or next((line for line in check.summary.splitlines() if line.strip()), "")
    flat = " ".join(source.split()) or check.name
    if len(flat) <= MAX_DESCRIPTION_CHARS:
        return flat
    return flat[: MAX_DESCRIPTION_CHARS - 1] + "…"


@dataclass(frozen=True, slots=True)
class Person:
    """A GitLab user the approval rules care about (an approver or the author)."""

    user_id: int
    username: str
    name: str = ""
    public_email: str = ""


def _fold(value: Any) -> str:
    return " ".join(value.split()).casefold() if isinstance(value, str) else ""


def commit_usernames(
    commits: Iterable[Mapping[str, Any]], people: Iterable[Person]
) -> frozenset[str]:
    """Usernames of the commits' authors and committers, where GitLab lets us tell.

    Commits carry names and emails, not accounts. A private commit email names its user; else a
    person counts as a committer when a commit's name or email equals their display name or
    public email. A look-alike name can only exclude an approver (ignore_committers), never
    let one in, so matching on names errs on the safe side."""
    names: set[str] = set()
    emails: set[str] = set()
    found: set[str] = set()
    for commit in commits:
        for role in ("author", "committer"):
            names.add(_fold(commit.get(f"{role}_name")))
            email = commit.get(f"{role}_email")
            emails.add(_fold(email))
            match = _NOREPLY.match(email) if isinstance(email, str) else None
            if match:
                found.add(match.group(1))
    names.discard("")
    emails.discard("")
    for person in people:
        if _fold(person.name) in names or _fold(person.public_email) in emails:
            found.add(person.username)
    return frozenset(found)


def person(user: Any) -> Person | None:
    if not isinstance(user, Mapping):
        return None
    user_id, username = user.get("id"), user.get("username")
    if isinstance(user_id, bool) or not isinstance(user_id, int) or not isinstance(username, str):
        return None
    name = user.get("name")
    return Person(user_id, username, name if isinstance(name, str) else "")


def pull_request_info(
    ref: PullRequestRef, data: dict[str, Any], base_sha: str, head_sha: str
) -> PullRequestInfo:
    author = data.get("author") or {}
    labels = data.get("labels") or []
    return PullRequestInfo(
        ref=ref,
        title=str(data.get("title") or ""),
        author=str(author.get("username") or ""),
        state=mr_state(data.get("state")),
        draft=bool(data.get("draft") or data.get("work_in_progress")),
        base_ref=str(data.get("target_branch") or ""),
        base_sha=base_sha,
        head_ref=str(data.get("source_branch") or ""),
        head_sha=head_sha,
        labels=frozenset(str(label) for label in labels if isinstance(label, str)),
        url=str(data.get("web_url") or ""),
    )
