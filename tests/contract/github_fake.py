"""A fake GitHub that checks every request against GitHub's OpenAPI description.

Two transports over one model: `fake.mocked()` intercepts `requests` in this process
(`responses`), `fake.serving()` is a real HTTP server on 127.0.0.1 for other processes
(`GITOPS_BOT_GITHUB_API_URL=fake.base_url`). A request the spec rejects (unknown path, wrong
method, invalid query or body) is recorded in `fake.violations` and answered 599, so the
adapter fails; `fake.assert_no_violations()` belongs in every fixture's teardown.

Seed it with add_pull_request / add_commits / add_review / set_permission / add_team /
add_comment; read it back with comments(), check_runs(), annotations(), requests; inject
answers (rate limits, 5xx) with fail_next(). Any installation id gets a token for the fake's
App (app_env() gives the GITOPS_BOT_GITHUB_* variables for a bot process). A fixture:

    @pytest.fixture
    def github() -> Iterator[FakeGitHub]:
        fake = FakeGitHub()
        with fake.serving():  # or fake.mocked() for in-process tests
            yield fake
        fake.assert_no_violations()
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.wrappers import Request, Response

from tests.contract.github_graphql import check_graphql
from tests.contract.github_model import Call, GitHubModel, Identity, Pull, Reply
from tests.contract.github_spec import ContractViolationError, check_request, example, load_spec
from tests.contract.loopback import serve_wsgi

VIOLATION_STATUS = 599
APP_ID = 4242
APP_BOT = "gitops-bot[bot]"
ACTIONS_BOT = "github-actions[bot]"
_OPEN_OPERATIONS = {"apps/create-installation-access-token"}  # authenticated by the JWT instead


@cache
def app_private_key() -> str:
    """One RSA key per test process: generating one costs ~50 ms."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode("ascii")


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    operation_id: str = ""
    status: int = 0


@dataclass
class _Failure:
    method: str
    path: re.Pattern[str]
    reply: Reply
    times: int


@dataclass
class FakeGitHub:
    base_url: str = "https://api.github.com"
    enforce_auth: bool = True
    token_lifetime_seconds: float = 3600.0
    requests: list[Recorded] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    app_id: int = APP_ID

    def __post_init__(self) -> None:
        self.model = GitHubModel(self.base_url)
        self.tokens: dict[str, Identity] = {}
        self.issued: list[str] = []  # installation tokens, in the order they were issued
        self._failures: list[_Failure] = []
        self._lock = threading.RLock()
        self._remaining = 5000
        # A GITHUB_TOKEN-like credential, accepted from the start.
        self.token = "ghs_" + secrets.token_hex(18)
        self.tokens[self.token] = Identity(ACTIONS_BOT, "Bot", 15368)

    def reset(self) -> None:
        """Empty model, logs and pending failures; tokens and base_url stay (a shared server)."""
        with self._lock:
            self.model = GitHubModel(self.base_url)
            self.requests, self.violations, self._failures = [], [], []

    def app_env(self) -> dict[str, str]:
        """What a bot process needs to act as the fake's GitHub App (server/worker tests)."""
        return {
            "GITOPS_BOT_GITHUB_API_URL": self.base_url,
            "GITOPS_BOT_GITHUB_APP_ID": str(self.app_id),
            "GITOPS_BOT_GITHUB_PRIVATE_KEY": self.private_key,
        }

    # -- seeding -------------------------------------------------------------------------------

    @property
    def private_key(self) -> str:
        return app_private_key()

    def add_pull_request(self, repo: str, number: int, **fields: Any) -> Pull:
        fields.setdefault("title", f"Change #{number}")
        fields.setdefault("author", "alice")
        fields.setdefault("base_ref", "main")
        fields.setdefault("base_sha", f"{number:040x}"[-40:].replace("0", "a", 1))
        fields.setdefault("head_ref", f"feature-{number}")
        fields.setdefault("head_sha", f"{number:040x}"[-40:].replace("0", "b", 1))
        pull = Pull(number=number, **fields)
        with self._lock:
            self.model.repo(repo).pulls[number] = pull
        return pull

    def add_commits(
        self, repo: str, number: int, commits: list[tuple[str, str | None, str | None]]
    ) -> None:
        """(sha, author login or None, committer login or None) per commit."""
        with self._lock:
            self.model.repo(repo).commits.setdefault(number, []).extend(commits)

    def add_review(self, repo: str, number: int, user: str, state: str, commit_id: str) -> None:
        with self._lock:
            self.model.repo(repo).reviews.setdefault(number, []).append((user, state, commit_id))

    def set_permission(self, repo: str, user: str, role: str) -> None:
        with self._lock:
            self.model.repo(repo).permissions[user] = role

    def add_team(self, team: str, members: list[str]) -> None:
        with self._lock:
            self.model.teams[team] = list(members)

    def add_comment(self, repo: str, number: int, body: str, user: str) -> dict[str, Any]:
        with self._lock:
            comment = self.model.comment_json(repo, number, body, user)
            self.model.repo(repo).comments.setdefault(number, []).append(comment)
            return comment

    def add_token(self, token: str, login: str = ACTIONS_BOT, app_id: int | None = 15368) -> None:
        with self._lock:
            self.tokens[token] = Identity(
                login, "Bot" if login.endswith("[bot]") else "User", app_id
            )

    def fail_next(
        self,
        method: str,
        path: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` valid requests matching `method` and the `path` regex get this answer."""
        with self._lock:
            self._failures.append(
                _Failure(method, re.compile(path), Reply(status, body, headers or {}), times)
            )

    # -- assertions ----------------------------------------------------------------------------

    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.model.repo(repo).comments.get(number, []))

    def check_runs(self, repo: str, head_sha: str) -> list[dict[str, Any]]:
        with self._lock:
            return [run for run in self.model.repo(repo).check_runs if run["head_sha"] == head_sha]

    def annotations(self, repo: str, check_run_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.model.repo(repo).annotations.get(check_run_id, []))

    def calls(self, operation_id: str) -> list[Recorded]:
        return [r for r in self.requests if r.operation_id == operation_id]

    def assert_no_violations(self) -> None:
        assert not self.violations, "requests GitHub's API contract rejects:\n" + "\n".join(
            self.violations
        )

    # -- the request path ----------------------------------------------------------------------

    def handle(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Reply:
        parts = urlsplit(url)
        prefix = urlsplit(self.base_url).path.rstrip("/")
        path = parts.path.removeprefix(prefix) or "/"
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        record = Recorded(method, path, query, dict(headers), _decode(body))
        with self._lock:
            self.requests.append(record)
            reply = self._answer(record, method, path, parts.query, headers, body)
            record.status = reply.status
            self._remaining = max(0, self._remaining - 1)
            reply.headers.setdefault("x-ratelimit-limit", "5000")
            reply.headers.setdefault("x-ratelimit-remaining", str(self._remaining))
            reply.headers.setdefault("x-ratelimit-reset", str(int(time.time()) + 3600))
            return reply

    def _answer(
        self,
        record: Recorded,
        method: str,
        path: str,
        raw_query: str,
        headers: dict[str, str],
        body: bytes | None,
    ) -> Reply:
        params: dict[str, str] = {}
        try:
            if method == "POST" and path == "/graphql":
                check_graphql(body)
                record.operation_id = "graphql"
            else:
                matched = check_request(method, path, raw_query, headers, body)
                record.operation_id, params = matched.operation_id, matched.path_params
        except ContractViolationError as exc:
            self.violations.append(str(exc))
            return Reply(VIOLATION_STATUS, {"message": f"contract violation: {exc}"})
        for failure in self._failures:
            if failure.times > 0 and failure.method == method and failure.path.search(path):
                failure.times -= 1
                return Reply(failure.reply.status, failure.reply.body, dict(failure.reply.headers))
        if record.operation_id == "apps/create-installation-access-token":
            return self._access_token(headers)
        identity = self._identity(headers)
        if identity is None:
            return Reply(401, {"message": "Bad credentials", "status": "401"})
        if record.operation_id == "graphql":
            return self._graphql(record.body)
        handler = self.model.handlers().get(record.operation_id)
        if handler is None:
            self.violations.append(
                f"{method} {path}: valid, but the fake does not model {record.operation_id}"
            )
            return Reply(501, {"message": f"not modelled: {record.operation_id}"})
        return handler(Call(record.operation_id, path, params, record.query, record.body, identity))

    def _identity(self, headers: dict[str, str]) -> Identity | None:
        scheme, _, token = _header(headers, "Authorization").partition(" ")
        identity = self.tokens.get(token) if scheme.lower() in ("token", "bearer") else None
        if identity is None and not self.enforce_auth:
            return Identity(APP_BOT, "Bot", self.app_id)
        expired = identity is not None and (identity.expires_at or float("inf")) <= time.time()
        return None if expired else identity

    def _access_token(self, headers: dict[str, str]) -> Reply:
        scheme, _, token = _header(headers, "Authorization").partition(" ")
        public_key = serialization.load_pem_private_key(
            self.private_key.encode("ascii"), password=None
        ).public_key()
        try:
            claims = jwt.decode(token, public_key, algorithms=["RS256"])  # type: ignore[arg-type]
        except jwt.PyJWTError as exc:
            return Reply(401, {"message": f"A JSON web token could not be decoded: {exc}"})
        if scheme.lower() != "bearer" or str(claims.get("iss")) != str(self.app_id):
            return Reply(401, {"message": "'Issuer' claim ('iss') must be the App's id"})
        granted = "ghs_" + secrets.token_hex(18)
        expires = time.time() + self.token_lifetime_seconds
        self.tokens[granted] = Identity(APP_BOT, "Bot", self.app_id, expires)
        self.issued.append(granted)
        data = example("apps/create-installation-access-token", "201")
        data.update(
            token=granted,
            expires_at=datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        data.pop("repositories", None)
        data["repository_selection"] = "all"
        return Reply(201, data)

    def _graphql(self, body: Any) -> Reply:
        subject = body["variables"]["input"]
        node = subject["subjectId"]
        known = any(
            c["node_id"] == node
            for repo in self.model.repos.values()
            for comments in repo.comments.values()
            for c in comments
        )
        if not known:
            return Reply(
                200,
                {"data": None, "errors": [{"type": "NOT_FOUND", "message": f"no node {node}"}]},
            )
        self.model.minimized[node] = subject["classifier"]
        minimized = {"isMinimized": True, "minimizedReason": subject["classifier"].lower()}
        return Reply(200, {"data": {"minimizeComment": {"minimizedComment": minimized}}})

    # -- transports ----------------------------------------------------------------------------

    @contextmanager
    def mocked(self) -> Iterator[FakeGitHub]:
        """Intercept `requests` to base_url in this process (other hosts fail loudly)."""
        base = urlsplit(self.base_url)
        # PyGithub writes the default port out (https://api.github.com:443/...).
        root = f"{base.scheme}://{base.hostname}"
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            pattern = re.compile(re.escape(root) + r"(:\d+)?(/.*)?$")
            for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
                mock.add_callback(method, pattern, callback=self._from_requests)
            yield self

    def _from_requests(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        reply = self.handle(request.method, request.url, dict(request.headers), body)
        headers = (
            {"Content-Type": "application/json; charset=utf-8"} if reply.body is not None else {}
        )
        return reply.status, {**headers, **reply.headers}, _encode(reply)

    @contextmanager
    def serving(self) -> Iterator[FakeGitHub]:
        """A real HTTP server on 127.0.0.1; base_url becomes http://127.0.0.1:PORT."""
        with serve_wsgi(self._wsgi, "fake-github") as url:
            self.base_url = self.model.base_url = url
            yield self

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        url = request.base_url + (
            f"?{request.query_string.decode()}" if request.query_string else ""
        )
        reply = self.handle(request.method, url, dict(request.headers), request.get_data() or None)
        content_type = (
            {"Content-Type": "application/json; charset=utf-8"} if reply.body is not None else {}
        )
        response = Response(
            _encode(reply), status=reply.status, headers={**content_type, **reply.headers}
        )
        return response(environ, start_response)


def _header(headers: dict[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return ""


def _decode(body: bytes | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body


def _encode(reply: Reply) -> bytes:
    return b"" if reply.body is None else json.dumps(reply.body).encode("utf-8")


def spec_timings() -> dict[str, float]:
    """Spec load time and per-request validation times of this process, in seconds."""
    spec = load_spec()
    times = sorted(spec.validation_seconds) or [0.0]
    return {
        "load": spec.load_seconds,
        "requests": float(len(spec.validation_seconds)),
        "median": times[len(times) // 2],
        "max": times[-1],
    }
