"""GitHub's REST OpenAPI description, loaded once per process: request validation and examples.

The spec (13 MB of JSON) takes ~0.2 s to parse; openapi-core compiles each operation's schemas
lazily, so the first request of an operation costs ~40 ms and later ones ~3 ms.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.templating.paths.finders import APICallPathFinder
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_PATH = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "fixtures"
    / "github"
    / "rest-api.github.com.json"
)
SPEC_SERVER = "https://api.github.com"  # the spec's only server; paths are matched against it


class ContractViolationError(Exception):
    """A request the real GitHub API does not define or would reject."""


@dataclass
class Spec:
    raw: dict[str, Any]
    api: OpenAPI
    finder: APICallPathFinder
    load_seconds: float
    operations: dict[str, tuple[str, str]]  # operationId -> (path template, method)
    validation_seconds: list[float] = field(default_factory=list)


_lock = threading.Lock()
_spec: Spec | None = None


def load_spec() -> Spec:
    global _spec  # noqa: PLW0603 - the process-wide cache is the point
    with _lock:
        if _spec is None:
            started = time.perf_counter()
            raw = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
            # The spec is GitHub's own: validating the spec itself would cost seconds, for nothing.
            api = OpenAPI.from_dict(raw, config=Config(spec_validator_cls=None))
            operations = {
                op["operationId"]: (path, method)
                for path, item in raw["paths"].items()
                for method, op in item.items()
                if isinstance(op, dict) and "operationId" in op
            }
            _spec = Spec(
                raw, api, APICallPathFinder(api.spec), time.perf_counter() - started, operations
            )
        return _spec


class SpecRequest:
    """The openapi-core Request protocol over plain values (both transports use it)."""

    def __init__(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes | None
    ) -> None:
        self.method = method.lower()
        self.path = path
        self.host_url = SPEC_SERVER
        self.body = body or None
        self.content_type = headers.get("Content-Type") or "application/json"
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qs(query, keep_blank_values=True)),
            header=Headers(headers),
        )


@dataclass(frozen=True)
class Matched:
    operation_id: str
    template: str
    path_params: dict[str, str]


def check_request(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes | None
) -> Matched:
    """The operation the request calls; raises ContractViolationError when the spec disagrees."""
    spec = load_spec()
    started = time.perf_counter()
    try:
        found = spec.finder.find(method.lower(), SPEC_SERVER + path)
    except PathNotFound:
        raise ContractViolationError(
            f"{method} {path}: no such path in GitHub's REST API"
        ) from None
    except OperationNotFound:
        raise ContractViolationError(
            f"{method} {path}: the path exists, the method does not"
        ) from None
    request = SpecRequest(method, path, query, headers, body)
    try:
        spec.api.validate_request(request)
    except Exception as exc:  # openapi-core raises one class per kind of mismatch
        raise ContractViolationError(
            f"{method} {path}: {type(exc).__name__}: {_explain(exc)}"
        ) from None
    finally:
        spec.validation_seconds.append(time.perf_counter() - started)
    operation_id = (found.operation / "operationId").read_str()
    return Matched(operation_id, found.path_result.pattern, dict(found.path_result.variables))


def _explain(exc: BaseException) -> str:
    """The schema errors openapi-core nests in its exceptions, each as `where: keyword: what`,
    short enough to read (a maxItems error would otherwise print the whole list)."""
    found: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(found) < 5:
        for error in getattr(seen, "schema_errors", None) or ():
            found.extend(_schema_error(error))
        seen = seen.__cause__
    detail = "; ".join(found[:5]) or str(exc)[:300]
    name, location = getattr(exc, "name", None), getattr(exc, "location", None)
    if name and location:  # a parameter's errors do not say which parameter
        return f"{location} parameter {name!r}: {detail.replace('(body): ', '')}"
    return detail


def _schema_error(error: Any) -> list[str]:
    where = "/".join(str(part) for part in getattr(error, "absolute_path", ())) or "(body)"
    keyword = getattr(error, "validator", "?")
    message = str(getattr(error, "message", error))
    if keyword in ("maxItems", "maxLength"):
        message = f"{len(error.instance)} is more than {error.validator_value}"
    if len(message) > 160:
        message = message[:160] + "…"
    lines = [f"{where}: {keyword}: {message}"]
    for sub in getattr(error, "context", None) or ():  # why each anyOf branch failed
        lines.extend(f"  {line}" for line in _schema_error(sub))
    return lines


def example(operation_id: str, status: str = "200") -> Any:
    """A deep copy of the first example of the operation's `status` response."""
    spec = load_spec()
    path, method = spec.operations[operation_id]
    response = _deref(spec.raw, spec.raw["paths"][path][method]["responses"][status])
    examples = response["content"]["application/json"]["examples"]
    first = _deref(spec.raw, next(iter(examples.values())))
    return copy.deepcopy(first["value"])


def _deref(raw: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = raw
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node
