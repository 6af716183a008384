"""The fake GitHub's state and its answers, one method per operation (by operationId)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from tests.contract.github_shapes import Call, Identity, Pull, Reply, RepoState, Shapes, now
from tests.contract.github_spec import example

__all__ = ["Call", "GitHubModel", "Identity", "Pull", "Reply"]

LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}
FLAGS = {  # role -> user.permissions flags
    "admin": ("admin", "maintain", "push", "triage", "pull"),
    "maintain": ("maintain", "push", "triage", "pull"),
    "write": ("push", "triage", "pull"),
    "triage": ("triage", "pull"),
    "read": ("pull",),
    "none": (),
}
PR_COMMITS_CAP = 250


class GitHubModel(Shapes):
    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.repos: dict[str, RepoState] = {}
        self.teams: dict[str, list[str]] = {}
        self.minimized: dict[str, str] = {}  # comment node_id -> classifier

    def repo(self, name: str) -> RepoState:
        return self.repos.setdefault(name, RepoState())

    # -- reads ---------------------------------------------------------------------------------

    def pulls_get(self, call: Call) -> Reply:
        name, pull = self._pull(call)
        if pull is None:
            return _not_found()
        return Reply(200, self.pull_json(name, pull, example("pulls/get")))

    def pulls_list(self, call: Call) -> Reply:
        name = _repo_of(call)
        state = call.query.get("state", "open")
        pulls = [
            p
            for p in self.repo(name).pulls.values()
            if state == "all" or (p.state if not p.merged else "closed") == state
        ]
        shape = example("pulls/list")[0]
        return self.page(call, [self.pull_json(name, p, _copy(shape)) for p in pulls])

    def pulls_list_reviews(self, call: Call) -> Reply:
        name, pull = self._pull(call)
        if pull is None:
            return _not_found()
        shape = example("pulls/list-reviews")[0]
        items = []
        for i, (login, state, commit) in enumerate(self.repo(name).reviews.get(pull.number, [])):
            item = _copy(shape)
            item.update(
                id=i + 1, node_id=f"PRR_{i}", user=self.user(login), state=state, commit_id=commit
            )
            items.append(item)
        return self.page(call, items)

    def pulls_list_commits(self, call: Call) -> Reply:
        name, pull = self._pull(call)
        if pull is None:
            return _not_found()
        shape = example("pulls/list-commits")[0]
        items = []
        for sha, author, committer in self.repo(name).commits.get(pull.number, [])[:PR_COMMITS_CAP]:
            item = _copy(shape)
            item.update(
                sha=sha,
                url=f"{self.base_url}/repos/{name}/commits/{sha}",
                author=self.user(author) if author else None,
                committer=self.user(committer) if committer else None,
            )
            items.append(item)
        return self.page(call, items)

    def teams_list_members(self, call: Call) -> Reply:
        team = f"{call.params['org']}/{call.params['team_slug']}"
        if team not in self.teams:
            return _not_found()
        return self.page(
            call,
            [
                {**self.user(login), "role": "member", "inherited": False}
                for login in self.teams[team]
            ],
        )

    def collaborator_permission(self, call: Call) -> Reply:
        role = self.repo(_repo_of(call)).permissions.get(call.params["username"])
        if role is None:
            return _not_found()
        data = example("repos/get-collaborator-permission-level")
        user = self.user(call.params["username"])
        user["permissions"] = {
            flag: flag in FLAGS[role] for flag in ("admin", "maintain", "push", "triage", "pull")
        }
        data.update(permission=LEGACY_PERMISSION[role], role_name=role, user=user)
        return Reply(200, data)

    def issues_list_comments(self, call: Call) -> Reply:
        name, pull = self._pull(call, "issue_number")
        if pull is None:
            return _not_found()
        return self.page(call, list(self.repo(name).comments.get(pull.number, [])))

    def checks_list_for_ref(self, call: Call) -> Reply:
        runs = [
            run
            for run in self.repo(_repo_of(call)).check_runs
            if run["head_sha"] == call.params["ref"]
            and call.query.get("check_name", run["name"]) == run["name"]
            and str(run["app"]["id"]) == call.query.get("app_id", str(run["app"]["id"]))
        ]
        runs.sort(key=lambda run: -run["id"])
        return self.page(call, runs, list_item="check_runs")

    def checks_list_annotations(self, call: Call) -> Reply:
        return self.page(
            call, self.repo(_repo_of(call)).annotations.get(int(call.params["check_run_id"]), [])
        )

    # -- writes --------------------------------------------------------------------------------

    def issues_create_comment(self, call: Call) -> Reply:
        name, pull = self._pull(call, "issue_number")
        if pull is None or call.identity is None:
            return _not_found()
        comment = self.comment_json(name, pull.number, call.body["body"], call.identity.login)
        self.repo(name).comments.setdefault(pull.number, []).append(comment)
        return Reply(201, comment)

    def issues_update_comment(self, call: Call) -> Reply:
        found = self._comment(call)
        if found is None:
            return _not_found()
        found[1].update(body=call.body["body"], updated_at=now())
        return Reply(200, found[1])

    def issues_delete_comment(self, call: Call) -> Reply:
        found = self._comment(call)
        if found is None:
            return _not_found()
        found[0].remove(found[1])
        return Reply(204)

    def checks_create(self, call: Call) -> Reply:
        name = _repo_of(call)
        run = example("checks/create", "201")
        rid = next(self._ids)
        app = call.identity.app_id if call.identity and call.identity.app_id else 15368
        run.update(
            id=rid,
            node_id=f"CR_{rid}",
            name=call.body["name"],
            head_sha=call.body["head_sha"],
            url=f"{self.base_url}/repos/{name}/check-runs/{rid}",
            html_url=f"https://github.com/{name}/runs/{rid}",
            external_id="",
            details_url=None,
            status="queued",
            conclusion=None,
            started_at=now(),
            completed_at=None,
            pull_requests=[],
            output={
                "title": None,
                "summary": None,
                "text": None,
                "annotations_count": 0,
                "annotations_url": f"{self.base_url}/repos/{name}/check-runs/{rid}/annotations",
            },
        )
        run["app"] = {**run["app"], "id": app}
        self.repo(name).check_runs.append(run)
        self._apply(name, run, call.body)
        return Reply(201, run)

    def checks_update(self, call: Call) -> Reply:
        name = _repo_of(call)
        rid = int(call.params["check_run_id"])
        run = next((r for r in self.repo(name).check_runs if r["id"] == rid), None)
        if run is None:
            return _not_found()
        self._apply(name, run, call.body)
        return Reply(200, run)

    def _apply(self, name: str, run: dict[str, Any], body: dict[str, Any]) -> None:
        for key in ("status", "details_url", "external_id", "name"):
            if key in body:
                run[key] = body[key]
        if "conclusion" in body:  # GitHub: a conclusion completes the run
            run.update(conclusion=body["conclusion"], status="completed", completed_at=now())
        output = body.get("output")
        if output:
            run["output"].update(
                {k: output[k] for k in ("title", "summary", "text") if k in output}
            )
            added = output.get("annotations", [])
            # GitHub appends annotations on every update; it never replaces them.
            self.repo(name).annotations.setdefault(run["id"], []).extend(added)
            run["output"]["annotations_count"] += len(added)

    # -- helpers -------------------------------------------------------------------------------

    def page(self, call: Call, items: list[Any], list_item: str | None = None) -> Reply:
        per_page = min(int(call.query.get("per_page", 30)), 100)
        page = max(int(call.query.get("page", 1)), 1)
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []
        for rel, number in (("next", page + 1), ("last", last)):
            if page < last:
                query = call.query | {"page": str(number), "per_page": str(per_page)}
                links.append(f'<{self.base_url}{call.path}?{urlencode(query)}>; rel="{rel}"')
        headers = {"Link": ", ".join(links)} if links else {}
        body: Any = {"total_count": len(items), list_item: chunk} if list_item else chunk
        return Reply(200, body, headers)

    def _pull(self, call: Call, key: str = "pull_number") -> tuple[str, Pull | None]:
        name = _repo_of(call)
        return name, self.repo(name).pulls.get(int(call.params[key]))

    def _comment(self, call: Call) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
        cid = int(call.params["comment_id"])
        for comments in self.repo(_repo_of(call)).comments.values():
            for comment in comments:
                if comment["id"] == cid:
                    return comments, comment
        return None

    def handlers(self) -> dict[str, Callable[[Call], Reply]]:
        return {
            "pulls/get": self.pulls_get,
            "pulls/list": self.pulls_list,
            "pulls/list-reviews": self.pulls_list_reviews,
            "pulls/list-commits": self.pulls_list_commits,
            "teams/list-members-in-org": self.teams_list_members,
            "repos/get-collaborator-permission-level": self.collaborator_permission,
            "issues/list-comments": self.issues_list_comments,
            "issues/create-comment": self.issues_create_comment,
            "issues/update-comment": self.issues_update_comment,
            "issues/delete-comment": self.issues_delete_comment,
            "checks/list-for-ref": self.checks_list_for_ref,
            "checks/list-annotations": self.checks_list_annotations,
            "checks/create": self.checks_create,
            "checks/update": self.checks_update,
        }


def _repo_of(call: Call) -> str:
    return f"{call.params['owner']}/{call.params['repo']}"


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(data)


def _not_found() -> Reply:
    return Reply(
        404,
        {
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest",
            "status": "404",
        },
    )
