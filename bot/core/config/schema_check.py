"""A parsed `.gitops-bot.yaml` checked against CONFIG_SCHEMA, as a TrustedInputError at the line.

Runs after the hand-written section parsers, whose messages are more specific; what it adds is
coverage: keys those parsers never look at (a typo inside a Helm release or a custom schema
entry) and values they would coerce (a list where a path belongs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import jsonschema_rs

from bot.core.config.schema import CONFIG_SCHEMA
from bot.core.safe_yaml import format_field_path
from bot.model.errors import TrustedInputError
from bot.model.repo_config import CONFIG_PATH
from bot.model.resource import Location

DOCS_HINT = "see docs/config.md"


@cache
def _validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(CONFIG_SCHEMA)


def _subschema(schema_path: Sequence[str | int]) -> Mapping[str, Any]:
    """The schema object an error's `schema_path` points into, following `$ref`s."""
    node: Any = CONFIG_SCHEMA
    for part in schema_path:
        if isinstance(node, Mapping) and "$ref" in node and part not in node:
            node = _resolve(node["$ref"])
        node = node[part] if isinstance(node, Mapping) or isinstance(part, int) else node
        if isinstance(node, str) and part == "$ref":
            node = _resolve(node)
    return node if isinstance(node, Mapping) else {}


def _resolve(ref: str) -> Any:
    node: Any = CONFIG_SCHEMA
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _line(field_lines: Mapping[str, int], parts: Sequence[str | int]) -> int:
    for end in range(len(parts), -1, -1):
        line = field_lines.get(format_field_path(list(parts[:end])))
        if line is not None:
            return line
    return 1


def _problem(error: jsonschema_rs.ValidationError) -> tuple[list[str | int], str, str]:
    """(path of the offending key or value, message, hint)."""
    path: list[str | int] = list(error.instance_path)
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        key = str(kind.unexpected[0])
        allowed = sorted(_subschema(list(error.schema_path)[:-1]).get("properties", {}))
        hint = f"allowed keys: {', '.join(allowed)}" if allowed else DOCS_HINT
        return [*path, key], f"unknown key {key!r}", hint
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AnyOf):
        options = _subschema(list(error.schema_path)).get("anyOf", ())
        required = [o["required"][0] for o in options if list(o) == ["required"]]
        if required and len(required) == len(options):
            return path, f"needs {' or '.join(f'`{r}:`' for r in required)}", DOCS_HINT
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Enum):
        options = ", ".join(str(o) for o in kind.options)
        return path, f"{error.instance!r} is not one of {options}", DOCS_HINT
    return path, error.message, DOCS_HINT


def check_config_schema(data: Any, field_lines: Mapping[str, int]) -> None:
    """Raise TrustedInputError for the first schema violation in file order."""
    problems = [_problem(error) for error in _validator().iter_errors(data)]
    if not problems:
        return
    # A misspelt key usually explains the other errors (a required key "missing"): first.
    problems.sort(
        key=lambda p: (
            not p[1].startswith("unknown key"),
            _line(field_lines, p[0]),
            format_field_path(p[0]),
        )
    )
    path, message, hint = problems[0]
    more = len(problems) - 1
    if more:
        hint += f" ({more} more problem{'s' if more > 1 else ''} after this one)"
    shown = format_field_path(path) or "(top level)"
    raise TrustedInputError(
        f"{CONFIG_PATH}: {shown}: {message}", Location(CONFIG_PATH, _line(field_lines, path)), hint
    )
