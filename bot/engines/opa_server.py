"""PolicyEngine on a real OPA server (`opa.url`), over OPA's REST API.

Isolation: each compile gets a namespace `ns`: packages become `ns.<package>`, root `data`
references `data.ns` (found by the Rego lexer: strings and comments stay as they are), and the
data documents go to `data.ns`, so concurrent reviews and other users of the server never meet.
Text is only inserted within lines: rows stay right, columns are shifted back. Modules go up in
dependency order (OPA compiles every PUT against what is already there), with retries for
references within a package. v1 modules get ` import rego.v1` on their package line, keeping
them v1 on a `--v0-compatible` server: OPA parses with its server-wide Rego version (the Policy
API has no per-module switch), so v0 modules need such a server.

Evaluation: one POST per query and batch of inputs, to a generated rule that evaluates the
query `with input as` each item; `strict-builtin-errors=true` makes builtin errors errors (as
in regorus) and, since one aborts the whole batch, that batch is then asked input by input.
Every request gets `budget_seconds` as its timeout.

Transport: opa-python-client for the idempotent PUT/DELETE calls, with `rego_compat=False`
(it would rewrite v0 policies), a longer timeout than its 1.5 s, and `root_url` set from our
URL (it builds `scheme://host:port/v1` itself, dropping any path prefix). Evaluation uses
urllib (without redirects, which would carry the credentials along): the client has one
timeout per client where each call needs the budget, `query_rule` drops OPA's error body, and
`bulk_query_rule` inlines inputs into one ad-hoc query that fails when one is undefined.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from opa_client import OpaClient
from opa_client.errors import RegoParseError

from bot.core.policy.builtins_guard import forbidden_builtins
from bot.core.policy.rego_namespace import Upload, dependency_order, namespaced
from bot.model.errors import PolicyCompileError, PolicyEngineError
from bot.model.resource import Location
from bot.ports import PolicyModule, PolicyResult

_QUERY = re.compile(r"data(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_V0_MARKERS = ("`if` keyword is required", "`contains` keyword is required")
_V0_HINT = "this OPA server parses Rego v1 only: run it with --v0-compatible, or migrate the module"
_FIX_HINT = "fix the policy on the base branch; until then no policy of this set is evaluated"
_MISSING = re.compile(r"undefined function ([\w.]+)|var (\w+) is unsafe")
_BATCH = """package {package}

import rego.v1

default one := {{}}

one := {{"value": {target}}}

results := [r | some x in input.items; r := one with input as x]
"""


def _waits(item: tuple[Upload, list[Any]], failed: list[tuple[Upload, list[Any]]]) -> bool:
    """Whether a module only misses a name that another failing module defines."""
    names = {(f or v).rsplit(".", 1)[-1] for f, v in _MISSING.findall(str(item[1]))}
    return any(
        re.search(rf"(?m)^\s*{re.escape(name)}\b", other.module.source)
        for name in names
        for other, _ in failed
        if other is not item[0]
    )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib would send our Authorization header to wherever it points


_OPENER = urllib.request.build_opener(_NoRedirects)


class _Server:
    """Where OPA is. Credentials (userinfo or token) go in a header, never in URLs or messages."""

    def __init__(self, url: str, token: str, upload_timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the OPA URL must look like http(s)://host[:port][/path]")
        self.https, self.host = parts.scheme == "https", parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.base = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path.rstrip('/')}"
        self.upload_timeout, self.headers = upload_timeout, {}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        elif parts.username is not None:
            user = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self.headers["Authorization"] = f"Basic {base64.b64encode(user).decode()}"

    def client(self) -> Any:
        client = OpaClient(
            host=self.host, port=self.port, ssl=self.https, headers=dict(self.headers),
            retries=1, timeout=(5.0, self.upload_timeout),
        )  # fmt: skip
        client.root_url = f"{self.base}/v1"
        return client

    def failed(self, reason: object) -> PolicyEngineError:
        if isinstance(reason, BaseException):
            reason = getattr(reason, "strerror", None) or type(reason).__name__
        return PolicyEngineError(
            f"the OPA server at {self.base} failed: {reason}",
            hint="check opa.url, the server's health and the credentials it expects",
        )

    def post(self, path: str, payload: Any, timeout: float) -> tuple[int, dict[str, Any]]:
        """Status and JSON body of a data-API POST; TimeoutError past `timeout`."""
        request = urllib.request.Request(  # noqa: S310 (the scheme is http or https)
            f"{self.base}/v1/data/{path}?strict-builtin-errors=true",
            json.dumps(payload).encode(),
            {**self.headers, "Content-Type": "application/json"},
        )
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise error.reason from None
            raise self.failed(error.reason) from None
        except OSError as error:
            if isinstance(error, TimeoutError):
                raise
            raise self.failed(error) from None
        with contextlib.suppress(ValueError):
            body = json.loads(raw or b"{}")
            return status, body if isinstance(body, dict) else {}
        return status, {}


def _said(body: Mapping[str, Any], status: int | None = None) -> str:
    said = f"{body.get('code') or 'error'}: {body.get('message') or 'no details'}"
    return f"HTTP {status} {said}" if status else said


def _eval_errors(status: int, body: Mapping[str, Any]) -> list[dict[str, Any]]:
    errors = body.get("errors") if status == 500 else None
    return [e for e in errors or [] if str(e.get("code", "")).startswith("eval_")]


class OpaServerPolicies:
    """Modules and data uploaded under one namespace; evaluated with batched data-API calls."""

    def __init__(self, server: _Server, budget_seconds: float, batch_size: int) -> None:
        self._server, self._client = server, server.client()
        self._budget, self._batch_size = max(budget_seconds, 0.001), batch_size
        self._ns = f"gitops_bot_{secrets.token_hex(6)}"
        self._uploads: dict[str, Upload] = {}
        self._policy_ids: list[str] = []  # in upload order; close() deletes in reverse
        self._helpers: dict[str, str] = {}  # query -> URL path of its batch rule
        self._data = False
        self._lock = threading.Lock()

    def upload(self, modules: Sequence[PolicyModule], data: Mapping[str, Any]) -> None:
        if data:
            self._data = True
            with self._talking():
                self._client.update_or_create_data(dict(data), self._ns)
        pending = dependency_order([namespaced(m, self._ns, i) for i, m in enumerate(modules)])
        while pending:  # another pass while same-package references resolve one by one
            failed: list[tuple[Upload, list[Any]]] = []
            for upload in pending:
                self._uploads[upload.policy_id] = upload
                errors = self._put(upload.policy_id, upload.source)
                if any(e.get("code") == "rego_parse_error" for e in errors):
                    raise self._compile_error(upload, errors)
                failed += [(upload, errors)] if errors else []
            if len(failed) == len(pending):  # stuck: report a module that is not just waiting
                raise self._compile_error(*min(failed, key=lambda item: _waits(item, failed)))
            pending = [upload for upload, _ in failed]

    @contextlib.contextmanager
    def _talking(self) -> Iterator[None]:
        try:
            yield
        except RegoParseError as error:  # the client's exception for any JSON error answer
            answer = {"code": error.expression, "message": error.message}
            raise self._server.failed(_said(answer)) from None
        except ValueError:  # before OSError: requests' JSONDecodeError is both
            raise self._server.failed("its answer is not OPA's JSON (a proxy?)") from None
        except OSError as error:  # requests' exceptions are OSErrors
            raise self._server.failed(error) from None

    def _put(self, policy_id: str, source: str) -> list[dict[str, Any]]:
        """OPA's compile errors for the module; [] once it is in."""
        with self._talking():
            try:
                self._client.update_policy_from_string(source, policy_id, rego_compat=False)
            except RegoParseError as error:
                if error.expression != "invalid_parameter":
                    raise
                errors = [e for e in error.errors or [] if isinstance(e, dict)]
                return errors or [{"message": error.message}]
        self._policy_ids.append(policy_id)
        return []

    def _where(self, error: Mapping[str, Any]) -> Location | None:
        where = error.get("location") or {}
        upload = self._uploads.get(str(where.get("file", "")))
        if upload is None:
            return None
        row, col = int(where.get("row") or 1), int(where.get("col") or 1)
        col -= sum(min(n, max(0, col - at)) for at, n in upload.inserted.get(row, []))
        return Location(upload.module.path, row, max(col, 1))

    def _message(self, error: Mapping[str, Any]) -> str:
        text = str(error.get("message") or error.get("code") or "unknown error")
        text = text.replace(f"{self._ns}.", "").replace(f"{self._ns}/", "")
        where = self._where(error)
        return f"{text} ({where.path}:{where.line}:{where.column})" if where else text

    def _compile_error(self, upload: Upload, errors: list[Any]) -> PolicyCompileError:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        v0 = upload.module.rego_v0 and any(m in str(errors) for m in _V0_MARKERS)
        return PolicyCompileError(
            f"Rego does not compile: {self._message(errors[0])}{more}",
            self._where(errors[0]) or Location(upload.module.path, 1),
            _V0_HINT if v0 else _FIX_HINT,
        )

    def evaluate(self, query: str, inputs: Sequence[Any]) -> list[PolicyResult]:
        if not _QUERY.fullmatch(query):
            raise PolicyEngineError(f"the OPA engine evaluates data references only: {query!r}")
        path = "/".join([self._ns, *query.split(".")[1:]])
        results: list[PolicyResult] = []
        for start in range(0, len(inputs), self._batch_size):
            chunk = list(inputs[start : start + self._batch_size])
            batch = self._batch(query, chunk) if len(chunk) > 1 else None
            results += batch if batch is not None else [self._one(path, x) for x in chunk]
        return results

    def _batch(self, query: str, items: list[Any]) -> list[PolicyResult] | None:
        """All items in one call; None when an input failed it (a builtin error, the budget)."""
        helper = self._helper(query)
        try:
            status, body = self._server.post(helper, {"input": {"items": items}}, self._budget)
        except TimeoutError:
            return None
        values = body.get("result")
        if status == 200 and isinstance(values, list) and len(values) == len(items):
            return [PolicyResult(v.get("value") if isinstance(v, dict) else None) for v in values]
        if _eval_errors(status, body):
            return None
        raise self._server.failed(_said(body, status))

    def _helper(self, query: str) -> str:
        """A generated rule evaluating `query` once per `input.items` entry, uploaded once."""
        with self._lock:
            if query not in self._helpers:
                package = f"{self._ns}_batch.q{len(self._helpers)}"
                target = query.replace("data", f"data.{self._ns}", 1)
                source = _BATCH.format(package=package, target=target)
                errors = self._put(package.replace(".", "/"), source)
                if errors:
                    raise PolicyEngineError(
                        f"OPA refused the batch rule: {self._message(errors[0])}"
                    )
                self._helpers[query] = package.replace(".", "/") + "/results"
            return self._helpers[query]

    def _one(self, path: str, item: Any) -> PolicyResult:
        try:
            status, body = self._server.post(path, {"input": item}, self._budget)
        except TimeoutError:
            return PolicyResult(error=f"policy evaluation exceeded the {self._budget:g} s budget")
        if status == 200:
            return PolicyResult(body.get("result"))
        if _eval_errors(status, body):
            return PolicyResult(error="; ".join(map(self._message, _eval_errors(status, body))))
        raise self._server.failed(_said(body, status))

    def close(self) -> None:
        """Delete what compile and evaluate uploaded (best effort: the namespace is private)."""
        with self._lock:
            ids, self._policy_ids, data, self._data = self._policy_ids, [], self._data, False
        for policy_id in reversed(ids):
            with contextlib.suppress(Exception):
                self._client.delete_policy(policy_id)
        if data:
            with contextlib.suppress(Exception):
                self._client.delete_data(self._ns)
        self._client.close_connection()


class OpaServerEngine:
    """A real OPA server at `url`; URL credentials or `token` are sent as a header."""

    name = "opa"

    def __init__(
        self, url: str, token: str = "", upload_timeout: float = 30.0, batch_size: int = 500
    ) -> None:
        self._server = _Server(url, token, upload_timeout)
        self._batch_size = batch_size

    def compile(
        self, modules: Sequence[PolicyModule], data: Mapping[str, Any], budget_seconds: float
    ) -> OpaServerPolicies:
        for module in modules:
            refused = forbidden_builtins(module)
            if refused is not None:
                raise refused
        policies = OpaServerPolicies(self._server, budget_seconds, self._batch_size)
        try:
            policies.upload(modules, data)
        except BaseException:
            policies.close()
            raise
        return policies
