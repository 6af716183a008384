"""A fake GitLab that checks every request against the documented API (gitlab_contract.py) and
answers from the documented examples (gitlab_model.py), MRs and notes validated against GitLab's
own response schemas.

Two transports over one model: `fake.mocked()` intercepts `requests` in this process
(`responses`); `fake.serving()` is a real HTTP server on 127.0.0.1 for other processes
(`GITOPS_BOT_GITLAB_URL=fake.base_url`). An undocumented request (unknown endpoint or parameter)
is recorded in `fake.violations` and answered 599, so the adapter fails; a response that breaks
GitLab's schema lands in `fake.schema_errors`. `fake.assert_clean()` belongs in every teardown.

Lists are paginated like GitLab (page/per_page, X-* headers and a Link header), at most
`max_per_page` items per page, so tests can force several pages.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import responses
from werkzeug.wrappers import Request, Response

from tests.contract.gitlab_contract import ContractViolation, check_request
from tests.contract.gitlab_model import GitLabModel, Invalid, MergeRequest, Project, User, fake_sha
from tests.contract.loopback import serve_wsgi

VIOLATION_STATUS = 599
TOKEN = "glpat-fake-" + "x" * 20
BOT = "gitops-bot"
MAX_NOTE_CHARS = 1_000_000


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    template: str = ""
    status: int = 0


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Failure:
    method: str
    path: re.Pattern[str]
    reply: Reply
    times: int


@dataclass
class FakeGitLab:
    base_url: str = "https://gitlab.example.com"
    max_per_page: int = 100
    requests: list[Recorded] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.model = GitLabModel(self.base_url)
        self.tokens: dict[str, str] = {TOKEN: BOT}
        self.token = TOKEN
        self._failures: list[_Failure] = []
        self._lock = threading.RLock()
        self.add_user(BOT, "gitops-bot", bot=True)

    # -- seeding -----------------------------------------------------------------------------

    def add_user(
        self, username: str, name: str = "", *, public_email: str = "", bot: bool = False
    ) -> User:
        with self._lock:
            user = User(
                self.model.next_id(), username, name or username.title(), public_email, bot=bot
            )
            self.model.users[username] = user
            return user

    def add_project(self, path: str) -> Project:
        with self._lock:
            project = self.model.projects.get(path) or Project(self.model.next_id(), path)
            self.model.projects[path] = project
            return project

    def add_merge_request(self, path: str, iid: int, **fields: Any) -> MergeRequest:
        fields.setdefault("title", f"Change !{iid}")
        fields.setdefault("author", "alice")
        fields.setdefault("source_branch", f"feature-{iid}")
        fields.setdefault("target_branch", "main")
        fields.setdefault("base_sha", fake_sha(f"{path}!{iid} base"))
        fields.setdefault("head_sha", fake_sha(f"{path}!{iid} head"))
        with self._lock:
            if fields["author"] not in self.model.users:
                self.add_user(fields["author"])
            project = self.add_project(path)
            mr = MergeRequest(iid=iid, id=self.model.next_id(), **fields)
            mr.commits.append(self.model.commit_json(mr.head_sha, "Alice", "alice@example.com"))
            project.mrs[iid] = mr
            return mr

    def add_commit(
        self, path: str, iid: int, name: str, email: str, committer: tuple[str, str] | None = None
    ) -> str:
        with self._lock:
            mr = self.model.projects[path].mrs[iid]
            sha = fake_sha(f"{path}!{iid} commit {len(mr.commits)}")
            mr.commits.insert(0, self.model.commit_json(sha, name, email, committer))
            return sha

    def push(self, path: str, iid: int, head_sha: str) -> None:
        """New commits on the MR's source branch."""
        with self._lock:
            mr = self.model.projects[path].mrs[iid]
            mr.head_sha = head_sha
            mr.commits.insert(0, self.model.commit_json(head_sha, "Alice", "alice@example.com"))

    def approve(self, path: str, iid: int, username: str) -> None:
        with self._lock:
            if username not in self.model.users:
                self.add_user(username)
            self.model.projects[path].mrs[iid].approved_by.append(username)

    def set_access(self, path: str, username: str, level: int) -> None:
        with self._lock:
            if username not in self.model.users:
                self.add_user(username)
            self.add_project(path).access[self.model.users[username].id] = level

    def add_group(self, path: str, members: dict[str, int]) -> None:
        with self._lock:
            for username in members:
                if username not in self.model.users:
                    self.add_user(username)
            self.model.groups[path] = dict(members)

    def add_note(self, path: str, iid: int, body: str, username: str) -> dict[str, Any]:
        with self._lock:
            project = self.model.projects[path]
            mr = project.mrs[iid]
            note = self.model.note_json(
                project, mr, self.model.next_id(), body, self.model.users[username]
            )
            project.notes.setdefault(iid, []).append(note)
            return note

    def fail_next(
        self, method: str, path: str, status: int, body: Any = None, times: int = 1
    ) -> None:
        """The next `times` valid requests matching `method` and the `path` regex get this answer."""
        with self._lock:
            self._failures.append(_Failure(method, re.compile(path), Reply(status, body), times))

    # -- reading back ------------------------------------------------------------------------

    def notes(self, path: str, iid: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.model.projects[path].notes.get(iid, []))

    def statuses(self, path: str, sha: str) -> list[dict[str, Any]]:
        with self._lock:
            return [s for s in self.model.projects[path].statuses if s["sha"] == sha]

    def calls(self, method: str, template: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.template == template]

    def assert_clean(self) -> None:
        problems = self.violations + self.model.schema_errors
        assert not problems, "the GitLab contract was broken:\n" + "\n".join(problems)

    # -- the request path --------------------------------------------------------------------

    def handle(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Reply:
        parts = urlsplit(url)
        prefix = urlsplit(self.base_url).path.rstrip("/") + "/api/v4"
        inside = parts.path.startswith(prefix + "/")
        path = parts.path.removeprefix(prefix) if inside else parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        data = _decode(body)
        record = Recorded(method, path, query, data)
        with self._lock:
            self.requests.append(record)
            if not inside:
                self.violations.append(f"{method} {parts.path}: not under {prefix}")
                reply = Reply(VIOLATION_STATUS, {"message": "not the GitLab API"})
            else:
                reply = self._answer(record, headers)
            record.status = reply.status
            return reply

    def _answer(self, record: Recorded, headers: dict[str, str]) -> Reply:
        params = {**record.query, **(record.body if isinstance(record.body, dict) else {})}
        try:
            endpoint, path_params = check_request(record.method, record.path, params)
        except ContractViolation as exc:
            self.violations.append(str(exc))
            return Reply(VIOLATION_STATUS, {"message": f"contract violation: {exc}"})
        record.template = endpoint.template
        for failure in self._failures:
            if (
                failure.times > 0
                and failure.method == record.method
                and failure.path.search(record.path)
            ):
                failure.times -= 1
                return Reply(failure.reply.status, failure.reply.body)
        username = self.tokens.get(_header(headers, "PRIVATE-TOKEN"))
        if username is None:
            return Reply(401, {"message": "401 Unauthorized"})
        handler = self._handlers().get(f"{record.method} {endpoint.template}")
        if handler is None:
            self.violations.append(
                f"{record.method} {record.path}: documented, but not modelled by the fake"
            )
            return Reply(501, {"message": "not modelled"})
        try:
            return handler(path_params, params, self.model.users[username], record)
        except Invalid as exc:
            return Reply(exc.status, {"message": exc.message})

    def _handlers(
        self,
    ) -> dict[str, Callable[[dict[str, str], dict[str, Any], User, Recorded], Reply]]:
        mr_path = "/projects/:id/merge_requests/:merge_request_iid"
        return {
            f"GET {mr_path}": self._get_mr,
            "GET /projects/:id/merge_requests": self._list_mrs,
            f"GET {mr_path}/commits": lambda p, q, u, r: self._page(self._mr(p).commits, q, r),
            f"GET {mr_path}/diffs": lambda p, q, u, r: self._page(
                [self.model.diff_json(o, n) for o, n in self._mr(p).diffs], q, r
            ),
            f"GET {mr_path}/approvals": lambda p, q, u, r: Reply(
                200, self.model.approvals_json(self._project(p), self._mr(p))
            ),
            f"GET {mr_path}/notes": self._list_notes,
            f"GET {mr_path}/notes/:note_id": lambda p, q, u, r: Reply(200, self._note(p)),
            f"POST {mr_path}/notes": self._create_note,
            f"PUT {mr_path}/notes/:note_id": self._update_note,
            f"DELETE {mr_path}/notes/:note_id": self._delete_note,
            "POST /projects/:id/statuses/:sha": lambda p, q, u, r: Reply(
                201, self.model.post_status(self._project(p), p["sha"], q, u)
            ),
            "GET /user": lambda p, q, u, r: Reply(200, self.model.user_detail(u)),
            "GET /users": lambda p, q, u, r: self._page(
                [
                    self.model.user_json(x)
                    for x in self.model.users.values()
                    if x.username == q.get("username")
                ],
                q,
                r,
            ),
            "GET /users/:id": lambda p, q, u, r: Reply(
                200, self.model.user_detail(self.model.user_by_id(p["id"]))
            ),
            "GET /projects/:id/members/all/:user_id": self._member,
            "GET /groups/:id/members": self._group_members,
        }

    def _project(self, p: dict[str, str]) -> Project:
        return self.model.project(p["id"])

    def _mr(self, p: dict[str, str]) -> MergeRequest:
        return self.model.mr(self._project(p), p["merge_request_iid"])

    def _get_mr(self, p: dict[str, str], q: dict[str, Any], u: User, r: Recorded) -> Reply:
        return Reply(200, self.model.mr_json(self._project(p), self._mr(p), single=True))

    def _list_mrs(self, p: dict[str, str], q: dict[str, Any], u: User, r: Recorded) -> Reply:
        project = self._project(p)
        state = q.get("state", "all")
        items = [
            self.model.mr_json(project, mr, single=False)
            for mr in sorted(project.mrs.values(), key=lambda m: -m.iid)
            if state in ("all", mr.state) and q.get("source_branch") in (None, mr.source_branch)
        ]
        return self._page(items, q, r)

    def _list_notes(self, p: dict[str, str], q: dict[str, Any], u: User, r: Recorded) -> Reply:
        self._mr(p)
        notes = list(self._project(p).notes.get(int(p["merge_request_iid"]), []))
        if q.get("sort", "desc") == "desc":
            notes.reverse()
        return self._page(notes, q, r)

    def _note(self, p: dict[str, str]) -> dict[str, Any]:
        self._mr(p)
        for note in self._project(p).notes.get(int(p["merge_request_iid"]), []):
            if str(note["id"]) == p["note_id"]:
                return note
        raise Invalid(404, "404 Not found")

    def _create_note(self, p: dict[str, str], q: dict[str, Any], u: User, r: Recorded) -> Reply:
        body = q.get("body")
        if not isinstance(body, str) or not body.strip():
            raise Invalid(400, '400 (Bad request) "body" not given')
        if len(body) > MAX_NOTE_CHARS:
            raise Invalid(400, "Note is too long (maximum is 1000000 characters)")
        project, mr = self._project(p), self._mr(p)
        note = self.model.note_json(project, mr, self.model.next_id(), body, u)
        project.notes.setdefault(mr.iid, []).append(note)
        return Reply(201, note)

    def _update_note(self, p: dict[str, str], q: dict[str, Any], u: User, r: Recorded) -> Reply:
        note = self._note(p)
        if note["author"]["username"] != u.username:
            raise Invalid(403, "403 Forbidden")
        body = q.get("body")
        if not isinstance(body, str) or len(body) > MAX_NOTE_CHARS:
            raise Invalid(400, '400 (Bad request) "body" is invalid')
        note["body"] = body
        self.model._check("notes.json", [note], f"note {note['id']}")
        return Reply(200, note)

    def _delete_note(self, p: dict[str, str], q: dict[str, Any], u: User, r: Recorded) -> Reply:
        note = self._note(p)
        if note["author"]["username"] != u.username:
            raise Invalid(403, "403 Forbidden")
        self._project(p).notes[int(p["merge_request_iid"])].remove(note)
        return Reply(204)

    def _member(self, p: dict[str, str], q: dict[str, Any], u: User, r: Recorded) -> Reply:
        user = self.model.user_by_id(p["user_id"])
        level = self._project(p).access.get(user.id)
        if level is None:
            raise Invalid(404, "404 Not found")
        return Reply(200, self.model.member_json(user, level))

    def _group_members(self, p: dict[str, str], q: dict[str, Any], u: User, r: Recorded) -> Reply:
        members = self.model.groups.get(p["id"])
        if members is None:
            raise Invalid(404, "404 Group Not Found")
        items = [
            self.model.member_json(self.model.users[name], level) for name, level in members.items()
        ]
        return self._page(items, q, r)

    def _page(self, items: list[Any], q: dict[str, Any], r: Recorded) -> Reply:
        per_page = max(1, min(int(q.get("per_page", 20)), self.max_per_page))
        page = max(1, int(q.get("page", 1)))
        total_pages = max(1, -(-len(items) // per_page))
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Total": str(len(items)),
            "X-Total-Pages": str(total_pages),
            "X-Next-Page": str(page + 1) if page < total_pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
        }
        links = []
        base = f"{self.base_url}/api/v4{r.path}"
        for rel, number in (
            ("prev", page - 1),
            ("next", page + 1),
            ("first", 1),
            ("last", total_pages),
        ):
            if 1 <= number <= total_pages and (rel not in ("prev", "next") or number != page):
                links.append(
                    f'<{base}?{urlencode({**r.query, "page": number, "per_page": per_page})}>; rel="{rel}"'
                )
        headers["Link"] = ", ".join(links)
        return Reply(200, items[(page - 1) * per_page : page * per_page], headers)

    # -- transports --------------------------------------------------------------------------

    @contextmanager
    def mocked(self) -> Iterator[FakeGitLab]:
        """Intercept `requests` to base_url's host in this process (other hosts fail loudly)."""
        base = urlsplit(self.base_url)
        root = f"{base.scheme}://{base.hostname}"
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            pattern = re.compile(re.escape(root) + r"(:\d+)?(/.*)?$")
            for method in ("GET", "POST", "PUT", "DELETE"):
                mock.add_callback(method, pattern, callback=self._from_requests)
            yield self

    def _from_requests(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        reply = self.handle(request.method, request.url, dict(request.headers), body)
        return reply.status, {"Content-Type": "application/json", **reply.headers}, _encode(reply)

    @contextmanager
    def serving(self) -> Iterator[FakeGitLab]:
        """A real HTTP server on 127.0.0.1; base_url becomes http://127.0.0.1:PORT."""
        with serve_wsgi(self._wsgi, "fake-gitlab") as url:
            self.base_url = self.model.base_url = url
            yield self

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        # PATH_INFO has %2F decoded (group%2Fproject would become two segments): use the raw URI.
        url = request.host_url.rstrip("/") + str(environ.get("RAW_URI") or request.full_path)
        reply = self.handle(request.method, url, dict(request.headers), request.get_data() or None)
        headers = {"Content-Type": "application/json", **reply.headers}
        return Response(_encode(reply), status=reply.status, headers=headers)(
            environ, start_response
        )


def _header(headers: dict[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), "")


def _decode(body: bytes | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body


def _encode(reply: Reply) -> bytes:
    return (
        b"" if reply.body is None or reply.status == 204 else json.dumps(reply.body).encode("utf-8")
    )
