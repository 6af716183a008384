"""A loopback OPA server: OPA's REST API (the endpoints the bot uses) over the real OPA engine.

Endpoints, status codes and error bodies follow OPA's REST API reference: PUT/DELETE
/v1/policies/{id} (400 `invalid_parameter` with `errors[].location` when the modules do not
compile), GET /v1/policies, PUT/DELETE /v1/data/{path} (204), POST /v1/data/{path} with
{"input": ...} (200 {"result": ...}, or {} when undefined; 500 `internal_error` with the
evaluation errors), GET /health. Evaluation is `opa_bindings.OpaEngine` (OPA's Go engine).

Differences from a real server, on purpose: the bindings always treat builtin errors as
errors, so a POST without `strict-builtin-errors=true` is refused (400) rather than answered
with OPA's lenient default; the bindings parse Rego v1 only, like `opa run` without
`--v0-compatible`; error columns come from OPA's caret line (1 when it has none); a test
builtin `loopback.sleep(seconds)` makes slow policies. Every request is recorded.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from opa_bindings import OpaEngine, OpaError

_ERROR = re.compile(r"(?:^|occurred: )(?P<file>\S+?):(?P<row>\d+): (?P<code>\w+): (?P<message>.*)")
COMPILE_ERROR = "error(s) occurred while compiling module(s)"
EVAL_ERROR = "error(s) occurred while evaluating query"


@dataclass(frozen=True)
class Recorded:
    method: str
    target: str  # path and query string, as sent
    headers: dict[str, str]


def _errors(message: str) -> list[dict[str, Any]]:
    """OPA's error text (`file:row: code: message` and caret lines) as REST `errors`."""
    found: list[dict[str, Any]] = []
    for line in message.splitlines():
        match = _ERROR.search(line)
        if match:
            location = {"file": match["file"], "row": int(match["row"]), "col": 1}
            found.append({"code": match["code"], "message": match["message"], "location": location})
        elif found and line.strip() == "^":
            found[-1]["location"]["col"] = line.index("^")  # after OPA's leading tab
    return found or [{"code": "internal_error", "message": message}]


def _sleep(seconds: Any) -> bool:
    time.sleep(float(seconds))
    return True


class LoopbackOpa:
    """OPA's state (policies by id, the data document) and an engine pool per state."""

    def __init__(self, token: str = "") -> None:
        self.token = token
        self.policies: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self.requests: list[Recorded] = []
        self.fail_with: tuple[int, bytes, dict[str, str]] | None = None  # answer all with this
        self._lock = threading.Lock()
        self.writes = threading.Lock()  # one write at a time, as in OPA's store transactions
        self._generation = 0
        self._idle: list[OpaEngine] = []
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._http.daemon_threads = True
        self._http.block_on_close = False
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LoopbackOpa:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(5)
        for engine in self._idle:
            engine.close()

    def requests_to(self, method: str, prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.target.startswith(prefix)]

    @staticmethod
    def _build(policies: dict[str, str], data: dict[str, Any]) -> OpaEngine:
        """A compiled engine; raises OpaError when the modules do not compile."""
        engine = OpaEngine()
        try:
            engine.register_function("loopback.sleep", _sleep)
            engine.add_data(data)
            for policy_id, source in policies.items():
                engine.add_policy(policy_id, source)
            engine.eval_query("x := 1")  # compiles every module, as OPA does on each PUT
        except BaseException:
            engine.close()
            raise
        return engine

    def change(self, policies: dict[str, str], data: dict[str, Any]) -> list[dict[str, Any]]:
        """Install a new state if it compiles; the compile errors otherwise."""
        try:
            self._build(policies, data).close()
        except OpaError as error:
            return _errors(error.message)
        with self._lock:
            self.policies, self.data = policies, data
            self._generation += 1
            idle, self._idle = self._idle, []
        for engine in idle:
            engine.close()
        return []

    def evaluate(self, path: list[str], value: Any) -> tuple[int, dict[str, Any]]:
        with self._lock:
            generation = self._generation
            engine = self._idle.pop() if self._idle else None
            state = (dict(self.policies), copy.deepcopy(self.data))
        engine = engine or self._build(*state)  # one engine per request: evaluations overlap
        try:
            ref = "".join(f"[{json.dumps(p)}]" for p in path)
            rows = engine.eval_query(f"x := data{ref}", input=value)
            answer = (200, {"result": rows[0]["x"]} if rows else {})
        except OpaError as error:
            answer = (500, {"code": "internal_error", "message": EVAL_ERROR})
            answer[1]["errors"] = _errors(error.message)
        with self._lock:
            if generation == self._generation:
                self._idle.append(engine)
                engine = None
        if engine is not None:
            engine.close()
        return answer


def _segments(path: str) -> list[str]:
    return [unquote(p) for p in path.split("/") if p]


def _handler(opa: LoopbackOpa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any] | None = None) -> None:
            raw = b"" if body is None else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout): OPA would cancel the evaluation

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _route(self, method: str) -> None:
            opa.requests.append(Recorded(method, self.path, dict(self.headers.items())))
            url = urlsplit(self.path)
            if opa.fail_with is not None:
                self._body()
                self.send_response(opa.fail_with[0])
                for name, value in opa.fail_with[2].items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(opa.fail_with[1])
            elif opa.token and self.headers.get("Authorization") != f"Bearer {opa.token}":
                self._send(401, {"code": "unauthorized", "message": "authentication failed"})
            elif url.path == "/health":
                self._send(200, {})
            elif url.path.startswith("/v1/policies"):
                with opa.writes:
                    self._policies(method, url.path.removeprefix("/v1/policies").strip("/"))
            elif url.path.startswith("/v1/data") and method != "POST":
                with opa.writes:
                    self._data(method, _segments(url.path.removeprefix("/v1/data")), url.query)
            elif url.path.startswith("/v1/data"):
                self._data(method, _segments(url.path.removeprefix("/v1/data")), url.query)
            else:
                self._send(404, {"code": "resource_not_found", "message": "no such endpoint"})

        def _policies(self, method: str, policy_id: str) -> None:
            policies = dict(opa.policies)
            if method == "GET":
                listed = [{"id": i, "raw": raw} for i, raw in policies.items()]
                return self._send(200, {"result": listed})
            if method == "PUT":
                policies[policy_id] = self._body().decode()
            elif policies.pop(policy_id, None) is None:
                message = f'storage_not_found_error: policy id "{policy_id}"'
                return self._send(404, {"code": "resource_not_found", "message": message})
            errors = opa.change(policies, opa.data)
            if errors:
                body = {"code": "invalid_parameter", "message": COMPILE_ERROR, "errors": errors}
                return self._send(400, body)
            return self._send(200, {})

        def _data(self, method: str, path: list[str], query: str) -> None:
            if method == "POST":
                if parse_qs(query).get("strict-builtin-errors") != ["true"]:
                    message = "the loopback OPA needs strict-builtin-errors=true"
                    return self._send(400, {"code": "invalid_parameter", "message": message})
                return self._send(
                    *opa.evaluate(path, json.loads(self._body() or b"{}").get("input"))
                )
            data = copy.deepcopy(opa.data)
            parent = data
            for key in path[:-1]:
                parent = parent.setdefault(key, {})
            if not isinstance(parent, dict):
                return self._send(404, {"code": "resource_conflict", "message": "not an object"})
            if method == "PUT" and path:
                parent[path[-1]] = json.loads(self._body())
            elif method == "DELETE" and path and path[-1] in parent:
                del parent[path[-1]]
            else:
                return self._send(404, {"code": "resource_not_found", "message": "not found"})
            errors = opa.change(dict(opa.policies), data)
            if errors:
                return self._send(
                    400, {"code": "invalid_parameter", "message": errors[0]["message"]}
                )
            return self._send(204)

        def do_GET(self) -> None:
            self._route("GET")

        def do_PUT(self) -> None:
            self._route("PUT")

        def do_POST(self) -> None:
            self._route("POST")

        def do_DELETE(self) -> None:
            self._route("DELETE")

    return Handler


@pytest.fixture
def opa_server() -> Iterator[LoopbackOpa]:
    """A loopback OPA on 127.0.0.1 (a thread of this process), stopped after the test."""
    server = LoopbackOpa().start()
    try:
        yield server
    finally:
        server.stop()
