"""The fake GitLab's state (users, projects, MRs, notes, statuses, groups) and the JSON it
answers with. Every answer starts from a documented example (docs-examples/, api/) with the
fields of the modelled object written over it; MRs, notes and commits are checked against
GitLab's schemas (merge_request.json, notes.json, commit/basic.json).

Two example fields are dropped because GitLab's own schemas reject them, and the schemas win:
an MR's `milestone` (the doc's lacks the required `expired`) becomes null; a note keeps only the
properties `notes.json` allows (it has additionalProperties: false) and gets a full author.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from typing import Any

from tests.contract.gitlab_contract import API, DOCS, load, schema_errors

NOW = "2026-01-16T05:56:25.000Z"
NOTE_KEYS = [
    "id",
    "type",
    "body",
    "attachment",
    "author",
    "created_at",
    "updated_at",
    "system",
    "noteable_id",
    "noteable_iid",
    "noteable_type",
    "resolved",
    "resolvable",
    "resolved_by",
    "resolved_at",
    "confidential",
    "internal",
]
OPEN_STATES = ("pending", "running")
_EVENTS = {
    "pending": "enqueue",
    "running": "run",
    "success": "success",
    "failed": "drop",
    "canceled": "cancel",
    "skipped": "skip",
}
_ALLOWED = {
    "pending": {"running", "success", "failed", "canceled", "skipped"},
    "running": {"success", "failed", "canceled"},
}


def fake_sha(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()


@dataclass
class User:
    id: int
    username: str
    name: str
    public_email: str = ""
    state: str = "active"
    bot: bool = False


@dataclass
class MergeRequest:
    iid: int
    title: str
    author: str
    source_branch: str
    target_branch: str
    base_sha: str
    head_sha: str
    state: str = "opened"
    draft: bool = False
    labels: list[str] = field(default_factory=list)
    approved_by: list[str] = field(default_factory=list)
    commits: list[dict[str, Any]] = field(default_factory=list)
    diffs: list[tuple[str, str]] = field(default_factory=list)  # (old_path, new_path)
    id: int = 0


@dataclass
class Project:
    id: int
    path: str
    mrs: dict[int, MergeRequest] = field(default_factory=dict)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    access: dict[int, int] = field(default_factory=dict)  # user id → effective access level

    def shas(self) -> set[str]:
        found = set()
        for mr in self.mrs.values():
            found |= {mr.base_sha, mr.head_sha, *(c["id"] for c in mr.commits)}
        return found


class Invalid(Exception):  # noqa: N818 - answered as GitLab would (status, message)
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class GitLabModel:
    base_url: str
    users: dict[str, User] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    groups: dict[str, dict[str, int]] = field(default_factory=dict)  # path → username → level
    schema_errors: list[str] = field(default_factory=list)
    _ids: int = 100

    def next_id(self) -> int:
        self._ids += 1
        return self._ids

    # -- lookups ---------------------------------------------------------------------------

    def project(self, ref: str) -> Project:
        for project in self.projects.values():
            if ref in (str(project.id), project.path):
                return project
        raise Invalid(404, "404 Project Not Found")

    def mr(self, project: Project, iid: str) -> MergeRequest:
        found = project.mrs.get(int(iid)) if iid.isdigit() else None
        if found is None:
            raise Invalid(404, "404 Not found")
        return found

    def user_by_id(self, user_id: str) -> User:
        found = next((u for u in self.users.values() if str(u.id) == user_id), None)
        if found is None:
            raise Invalid(404, "404 User Not Found")
        return found

    # -- JSON ------------------------------------------------------------------------------

    def user_json(self, user: User) -> dict[str, Any]:
        return {
            "id": user.id,
            "username": user.username,
            "name": user.name,
            "state": user.state,
            "locked": False,
            "avatar_url": f"{self.base_url}/uploads/user/avatar/{user.id}/avatar.png",
            "web_url": f"{self.base_url}/{user.username}",
        }

    def user_detail(self, user: User) -> dict[str, Any]:
        data = load(API, "get_user.json")
        data.update(self.user_json(user), public_email=user.public_email, bot=user.bot)
        return dict(data)

    def member_json(self, user: User, level: int) -> dict[str, Any]:
        return {
            **self.user_json(user),
            "access_level": level,
            "created_at": NOW,
            "expires_at": None,
        }

    def mr_json(self, project: Project, mr: MergeRequest, *, single: bool) -> dict[str, Any]:
        if single:
            data = load(DOCS, "api-get-merge-request.json")
        else:
            data = copy.deepcopy(load(DOCS, "api-list-project-merge-requests.json")[0])
        author = self.users[mr.author]
        data.update(
            id=mr.id,
            iid=mr.iid,
            project_id=project.id,
            source_project_id=project.id,
            target_project_id=project.id,
            title=mr.title,
            description="",
            state=mr.state,
            draft=mr.draft,
            work_in_progress=mr.draft,
            source_branch=mr.source_branch,
            target_branch=mr.target_branch,
            sha=mr.head_sha,
            labels=list(mr.labels),
            author=self.user_json(author),
            assignee=None,
            assignees=[],
            reviewers=[],
            milestone=None,
            merged_by=None,
            merge_user=None,
            merged_at=None,
            web_url=f"{self.base_url}/{project.path}/-/merge_requests/{mr.iid}",
            references={
                "short": f"!{mr.iid}",
                "relative": f"!{mr.iid}",
                "full": f"{project.path}!{mr.iid}",
            },
        )
        if single:
            data.update(
                pipeline=None,
                head_pipeline=None,
                # GitLab leaves diff_refs null while it prepares a new MR.
                diff_refs=(
                    {"base_sha": mr.base_sha, "head_sha": mr.head_sha, "start_sha": mr.base_sha}
                    if mr.base_sha
                    else None
                ),
            )
        self._check("merge_request.json", data, f"MR {project.path}!{mr.iid}")
        return dict(data)

    def note_json(
        self, project: Project, mr: MergeRequest, note_id: int, body: str, user: User
    ) -> dict[str, Any]:
        example = load(DOCS, "api-get-merge-request-note.json")
        data = {key: example[key] for key in NOTE_KEYS if key in example}
        data.update(
            id=note_id,
            body=body,
            attachment=None,
            author=self.user_json(user),
            created_at=NOW,
            updated_at=NOW,
            system=False,
            noteable_id=mr.id,
            noteable_iid=mr.iid,
            noteable_type="MergeRequest",
        )
        self._check("notes.json", [data], f"note {note_id}")
        return data

    def commit_json(
        self, sha: str, name: str, email: str, committer: tuple[str, str] | None = None
    ) -> dict[str, Any]:
        data = copy.deepcopy(load(DOCS, "api-list-merge-request-commits.json")[0])
        committer_name, committer_email = committer or (name, email)
        data.update(
            id=sha,
            short_id=sha[:11],
            title=f"commit {sha[:7]}",
            message=f"commit {sha[:7]}",
            author_name=name,
            author_email=email,
            committer_name=committer_name,
            committer_email=committer_email,
            parent_ids=[],
            web_url=f"{self.base_url}/-/commit/{sha}",
        )
        # The doc example lacks parent_ids, which GitLab's schema requires: set above.
        self._check("commit/basic.json", data, f"commit {sha[:12]}")
        return dict(data)

    def approvals_json(self, project: Project, mr: MergeRequest) -> dict[str, Any]:
        data = load(DOCS, "api-get-merge-request-approvals.json")
        data.update(
            id=mr.id,
            iid=mr.iid,
            project_id=project.id,
            title=mr.title,
            state=mr.state,
            approved=bool(mr.approved_by),
            approved_by=[
                {"user": self.user_json(self.users[name]), "approved_at": NOW}
                for name in mr.approved_by
            ],
        )
        return dict(data)

    def diff_json(self, old: str, new: str) -> dict[str, Any]:
        data = copy.deepcopy(load(DOCS, "api-list-merge-request-diffs.json")[0])
        data.update(old_path=old, new_path=new, new_file=False, renamed_file=old != new)
        return dict(data)

    # -- commit statuses -------------------------------------------------------------------

    def post_status(
        self, project: Project, sha: str, data: dict[str, Any], author: User
    ) -> dict[str, Any]:
        """GitLab's external-status state machine: an open (pending/running) status of that
        name moves on; a completed one is followed by a new status; a transition to the state
        the status already has, or backwards, is refused with 400."""
        state = data.get("state")
        if state not in _EVENTS:
            raise Invalid(400, "state does not have a valid value")
        for key in ("description", "target_url", "ref"):
            value = data.get(key)
            if isinstance(value, str) and len(value) > 255:
                raise Invalid(400, f"{key} is too long (maximum is 255 characters)")
        if sha not in project.shas():
            raise Invalid(404, "404 Commit Not Found")
        name = data.get("name") or data.get("context") or "default"
        current = next(
            (s for s in reversed(project.statuses) if s["sha"] == sha and s["name"] == name), None
        )
        if current is not None and current["status"] in OPEN_STATES:
            if state not in _ALLOWED[current["status"]]:
                raise Invalid(
                    400, f"Cannot transition status via :{_EVENTS[state]} from :{current['status']}"
                )
            status = current
        else:
            status = load(DOCS, "api-post-commit-status.json")
            status.update(id=self.next_id(), sha=sha, name=name, author=self.user_json(author))
            project.statuses.append(status)
        status.update(
            status=state,
            description=data.get("description"),
            target_url=data.get("target_url"),
            ref=data.get("ref"),
            coverage=None,
        )
        return dict(status)

    def _check(self, schema: str, document: Any, what: str) -> None:
        for error in schema_errors(schema, document):
            self.schema_errors.append(f"{what} does not match {schema}: {error}")
