"""Answers in GitHub's shape: each starts from the spec's own example of the operation and
overrides the fields the fake's model knows. Also the model's plain records."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.contract.github_spec import example


@dataclass
class Identity:
    login: str
    type: str = "Bot"
    app_id: int | None = None
    expires_at: float | None = None


@dataclass
class Call:
    operation_id: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    identity: Identity | None


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Pull:
    number: int
    title: str
    author: str
    base_ref: str
    base_sha: str
    head_ref: str
    head_sha: str
    state: str = "open"
    merged: bool = False
    draft: bool = False
    labels: list[str] = field(default_factory=list)


@dataclass
class RepoState:
    pulls: dict[int, Pull] = field(default_factory=dict)
    commits: dict[int, list[tuple[str, str | None, str | None]]] = field(default_factory=dict)
    reviews: dict[int, list[tuple[str, str, str]]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    check_runs: list[dict[str, Any]] = field(default_factory=list)
    annotations: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Shapes:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._ids = itertools.count(1000)
        self._user_ids: dict[str, int] = {}

    # -- shapes --------------------------------------------------------------------------------

    def user(self, login: str) -> dict[str, Any]:
        data: dict[str, Any] = example("teams/list-members-in-org")[0]
        data.pop("role", None)
        data.pop("inherited", None)
        uid = self._user_ids.setdefault(login, len(self._user_ids) + 1)
        data.update(
            login=login,
            id=uid,
            node_id=f"U_{uid}",
            url=f"{self.base_url}/users/{login}",
            html_url=f"https://github.com/{login}",
            type="Bot" if login.endswith("[bot]") else "User",
        )
        return data

    def pull_json(self, repo: str, pull: Pull, template: dict[str, Any]) -> dict[str, Any]:
        api = f"{self.base_url}/repos/{repo}"
        template.update(
            url=f"{api}/pulls/{pull.number}",
            id=pull.number,
            node_id=f"PR_{pull.number}",
            html_url=f"https://github.com/{repo}/pull/{pull.number}",
            issue_url=f"{api}/issues/{pull.number}",
            commits_url=f"{api}/pulls/{pull.number}/commits",
            comments_url=f"{api}/issues/{pull.number}/comments",
            review_comments_url=f"{api}/pulls/{pull.number}/comments",
            statuses_url=f"{api}/statuses/{pull.head_sha}",
            number=pull.number,
            state="closed" if pull.merged else pull.state,
            title=pull.title,
            user=self.user(pull.author),
            draft=pull.draft,
            labels=[self._label(name, i) for i, name in enumerate(pull.labels)],
            # The spec's own example lists teams without the `type` its schema requires.
            requested_teams=[],
            requested_reviewers=[],
        )
        if "merged" in template:
            template.update(merged=pull.merged, merged_at=now() if pull.merged else None)
        for side, ref, sha in (
            ("base", pull.base_ref, pull.base_sha),
            ("head", pull.head_ref, pull.head_sha),
        ):
            template[side].update(ref=ref, sha=sha, label=f"{repo.split('/', maxsplit=1)[0]}:{ref}")
        return template

    def _label(self, name: str, index: int) -> dict[str, Any]:
        return {
            "id": index + 1,
            "node_id": f"L_{index}",
            "url": f"{self.base_url}/labels/{name}",
            "name": name,
            "description": None,
            "color": "ededed",
            "default": False,
        }

    def comment_json(self, repo: str, number: int, body: str, login: str) -> dict[str, Any]:
        data: dict[str, Any] = example("issues/get-comment")
        cid = next(self._ids)
        data.update(
            id=cid,
            node_id=f"IC_{cid}",
            url=f"{self.base_url}/repos/{repo}/issues/comments/{cid}",
            html_url=f"https://github.com/{repo}/pull/{number}#issuecomment-{cid}",
            issue_url=f"{self.base_url}/repos/{repo}/issues/{number}",
            body=body,
            user=self.user(login),
            created_at=now(),
            updated_at=now(),
        )
        return data
