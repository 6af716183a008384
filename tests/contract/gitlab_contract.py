"""GitLab's API contract as the fixtures give it: the documented endpoints (method, path template,
parameters) of `docs-examples/INDEX.json`, and GitLab's own response JSON Schemas.

INDEX.json lists the endpoints it has examples for (and, under `related_calls`, the note
create/list/update/delete calls). A few endpoints the adapter needs are documented by GitLab but
have no example there; they are listed in SUPPLEMENTARY with their doc page, so the contract
stays explicit: anything else is a violation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import referencing
from jsonschema import Draft7Validator
from referencing.jsonschema import DRAFT7

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "gitlab"
DOCS = FIXTURES / "docs-examples"
API = FIXTURES / "api"
SCHEMAS = FIXTURES / "schemas" / "public_api" / "v4"
WEBHOOKS = FIXTURES / "webhooks"
PAGINATION = ("page", "per_page")

# Documented in GitLab's API docs (doc/api/<page>.md), without an example in INDEX.json.
SUPPLEMENTARY: dict[str, tuple[str, tuple[str, ...]]] = {
    "GET /user": ("users.md: Retrieve the current user", ()),
    "GET /users": ("users.md: List users (username filter)", ("username", "search", *PAGINATION)),
    "GET /users/:id": ("users.md: Retrieve a single user", ()),
    "GET /projects/:id/members/all/:user_id": (
        "members.md: Retrieve a member of a group or project, including inherited members",
        (),
    ),
    "GET /groups/:id/members": (
        "members.md: List all members of a group or project",
        ("query", "user_ids", "skip_users", "show_seat_info", *PAGINATION),
    ),
}


class ContractViolation(Exception):  # noqa: N818 - named like the GitHub contract's
    """A request GitLab's documented API does not define."""


@dataclass(frozen=True)
class Endpoint:
    method: str
    template: str
    params: frozenset[str]
    source: str
    pattern: re.Pattern[str]

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.pattern.fullmatch(path)
        return None if found is None else {k: unquote(v) for k, v in found.groupdict().items()}


def _pattern(template: str) -> re.Pattern[str]:
    parts = []
    for segment in template.strip("/").split("/"):
        parts.append(f"(?P<{segment[1:]}>[^/]+)" if segment.startswith(":") else re.escape(segment))
    return re.compile("/" + "/".join(parts))


def _names(piece: str) -> set[str]:
    """The parameter names one documented item declares ("page/per_page", "name or context",
    "created_/updated_ after|before", "pagination", "iids[]")."""
    words = [w.strip(",.") for w in piece.split()]
    if not words:
        return set()
    first = words[0]
    if first in ("pagination", "paginated"):
        return set(PAGINATION)
    names: set[str] = set()
    alternatives = first.split("/")
    for alt in alternatives:
        if alt.endswith("_") and len(words) > 1:
            names.update(alt + suffix for suffix in words[1].split("|"))
        elif "_" not in alt and "_" in alternatives[0] and alt != alternatives[0]:
            names.add(alternatives[0].rsplit("_", 1)[0] + "_" + alt)
        else:
            names.add(alt)
    if len(words) > 2 and words[1] == "or":
        names.add(words[2])
    return {re.sub(r"\[\]$|=.*$", "", n) for n in names if re.match(r"[a-z]", n)}


def _params(text: str) -> frozenset[str]:
    flat = re.sub(r"\([^()]*\)", "", text)
    # Most entries separate items with ";", the global MR list with "," (and "; pagination").
    pieces = [p for chunk in flat.split(";") for p in chunk.split(",")]
    return frozenset(n for piece in pieces for n in _names(piece.strip()))


def _endpoint(method: str, template: str, params: frozenset[str], source: str) -> Endpoint:
    path_params = {s[1:] for s in template.split("/") if s.startswith(":")}
    return Endpoint(method, template, params - path_params, source, _pattern(template))


@cache
def endpoints() -> tuple[Endpoint, ...]:
    index = json.loads((DOCS / "INDEX.json").read_text())
    found: dict[tuple[str, str], Endpoint] = {}
    for name, entry in index.items():
        http = entry.get("http", "")
        method, _, template = http.partition(" ")
        if template.startswith("/"):
            found[(method, template)] = _endpoint(
                method, template, _params(entry.get("params", "")), f"INDEX.json {name}"
            )
        for call in (entry.get("related_calls") or {}).values():
            head = re.match(r"(GET|POST|PUT|DELETE) (/\S+)(?: \((.*)\))?", call)
            if head:
                params = frozenset(
                    n for piece in (head.group(3) or "").split(";") for n in _names(piece.strip())
                )
                key = (head.group(1), head.group(2))
                found[key] = _endpoint(*key, params, f"INDEX.json {name} related_calls")
    for http, (doc, params) in SUPPLEMENTARY.items():
        method, _, template = http.partition(" ")
        found[(method, template)] = _endpoint(method, template, frozenset(params), f"doc/api/{doc}")
    return tuple(found.values())


def check_request(
    method: str, path: str, params: dict[str, Any]
) -> tuple[Endpoint, dict[str, str]]:
    """The documented endpoint a request calls and its path parameters; raises
    ContractViolation for an undocumented endpoint or parameter."""
    for endpoint in endpoints():
        path_params = endpoint.match(method, path)
        if path_params is None:
            continue
        unknown = sorted({re.sub(r"\[\]$", "", k) for k in params} - endpoint.params)
        if unknown:
            raise ContractViolation(
                f"{method} {path}: parameters {unknown} are not documented for "
                f"{endpoint.template} ({endpoint.source}; allowed: {sorted(endpoint.params)})"
            )
        return endpoint, path_params
    raise ContractViolation(f"{method} {path}: no documented GitLab endpoint")


# -- response schemas -------------------------------------------------------------------------


def _retrieve(uri: str) -> referencing.Resource[Any]:
    path = Path(uri.removeprefix("file://"))
    if not path.resolve().is_relative_to(SCHEMAS.parent.parent.resolve()):
        raise referencing.exceptions.NoSuchResource(uri)
    return DRAFT7.create_resource(json.loads(path.read_text()))


@cache
def _validator(name: str) -> Draft7Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    schema["$id"] = (SCHEMAS / name).as_uri()
    registry: referencing.Registry[Any] = referencing.Registry(retrieve=_retrieve)
    return Draft7Validator(schema, registry=registry)


def schema_errors(name: str, document: Any) -> list[str]:
    """What GitLab's schema `name` (e.g. "merge_request.json") finds wrong in `document`."""
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in _validator(name).iter_errors(document)
    ]


def load(folder: Path, name: str) -> Any:
    return json.loads((folder / name).read_text())
