"""CustomResourceDefinition schemas -> JSON Schema (draft 2020-12) for their custom resources.

Pure. Mirrors the API server where JSON Schema can: with `strict`, fields the server would prune
are errors (as `kubectl --validate=strict` reports them), except under
`x-kubernetes-preserve-unknown-fields` and in CRDs that keep unknown fields
(`preserveUnknownFields`, v1beta1's default); a null in a non-`nullable` object field passes
unless the field is required without a default, since the server drops (or defaults) it before
validating; the root and embedded resources need `apiVersion` and `kind`, and their metadata is
any object. Not checked: CEL rules (counted in `CrdKind.cel_rules`), key uniqueness of
`x-kubernetes-list-type: map` lists, defaulting, formats (validators do not assert them by default).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.core.safe_yaml import format_field_path

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
MAX_DEPTH = 200  # nesting of schema nodes in one openAPIV3Schema
TYPES = ("array", "boolean", "integer", "number", "object", "string")
_JUNCTORS = ("allOf", "anyOf", "oneOf", "not")
# What the API server checks on an embedded resource (objectmeta/validation.go).
_EMBEDDED: Mapping[str, Mapping[str, Any]] = {
    "apiVersion": {"type": "string", "minLength": 1, "pattern": "^[^/]*(/[^/]*)?$"},
    "kind": {"type": "string", "maxLength": 63, "pattern": "^[A-Za-z]([-A-Za-z0-9]*[A-Za-z0-9])?$"},
    "metadata": {"type": "object"},
}

_Path = tuple[str | int, ...]


def _is_number(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_regex(value: Any) -> bool:
    try:
        re.compile(value)
    except (re.error, TypeError, OverflowError, RecursionError):
        return False
    return isinstance(value, str)


_KEYWORDS: Mapping[str, tuple[Callable[[Any], bool], str]] = {
    **dict.fromkeys(("description", "title", "format"), (lambda v: isinstance(v, str), "a string")),
    **dict.fromkeys(("minimum", "maximum"), (_is_number, "a number")),
    "multipleOf": (lambda v: _is_number(v) and v > 0, "a number greater than 0"),
    **dict.fromkeys(
        ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"),
        (_is_count, "a non-negative integer"),
    ),
    **dict.fromkeys(
        ("uniqueItems", "exclusiveMinimum", "exclusiveMaximum"),
        (lambda v: isinstance(v, bool), "true or false"),
    ),
    "pattern": (_is_regex, "a valid regular expression"),
    "enum": (lambda v: isinstance(v, list), "a list"),
    "required": (lambda v: isinstance(v, list) and all(isinstance(n, str) for n in v), "names"),
    "default": (lambda v: True, "anything"),
}


@dataclass(frozen=True, slots=True)
class CrdKind:
    """One version of one CRD's kind. `schema` is None when the version has no schema, or when it
    could not be converted: then `problem` says what is wrong with the CRD (else "")."""

    group: str
    version: str  # e.g. "v1"
    kind: str
    schema: Mapping[str, Any] | None  # JSON Schema (draft 2020-12) for the whole object
    served: bool
    source: str  # for messages: "CRD certificates.cert-manager.io"
    cel_rules: int = 0  # x-kubernetes-validations rules in the schema: not evaluated here
    problem: str = ""


class CrdSchemaError(ValueError):
    """A schema node that cannot be converted; `path` leads to it from the schema's root."""

    def __init__(self, path: _Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{format_field_path(path) or '(root)'}: {reason}")


def openapi_to_json_schema(openapi: Mapping[str, Any], strict: bool) -> dict[str, Any]:
    """Convert one structural OpenAPI v3 schema. Raises CrdSchemaError for malformed input."""
    return {"$schema": DRAFT_2020_12, **_Converter(strict).node(openapi, (), 0)}


def crd_kinds(crd: Mapping[str, Any], strict: bool) -> tuple[CrdKind, ...]:
    """One CrdKind per version of a CustomResourceDefinition (the caller checks the kind).
    Never raises: whatever is malformed becomes a CrdKind with `problem` set."""
    spec = _mapping(crd.get("spec"))
    group, kind = _text(spec.get("group")), _text(_mapping(spec.get("names")).get("kind"))
    source = f"CRD {_text(_mapping(crd.get('metadata')).get('name')) or '(unnamed)'}"
    problem = "spec.group is missing" if not group else ""
    problem = problem or ("spec.names.kind is missing" if not kind else "")
    keep = spec.get("preserveUnknownFields")  # v1beta1 keeps unknown fields unless told not to
    v1beta1 = crd.get("apiVersion") == "apiextensions.k8s.io/v1beta1"
    strict = strict and not (keep is True or (keep is None and v1beta1))
    kinds: list[CrdKind] = []
    for version, served, path, raw, version_problem in _versions(spec):
        found = CrdKind(group, version, kind, None, served, source)
        if problem or version_problem or raw is None:
            kinds.append(replace(found, problem=problem or version_problem))
            continue
        converter = _Converter(strict)
        try:
            schema = _resource_schema(converter, raw, f"{group}/{version}", kind)
        except CrdSchemaError as exc:
            reason = f"{format_field_path((*path, *exc.path))}: {exc.reason}"
            kinds.append(replace(found, problem=reason))
            continue
        kinds.append(replace(found, schema=schema, cel_rules=converter.cel_rules))
    return tuple(kinds)


def _versions(spec: Mapping[str, Any]) -> list[tuple[str, bool, _Path, Any, str]]:
    """(version, served, path of its schema, raw schema or None, problem) per version."""
    top: _Path = ("spec", "validation", "openAPIV3Schema")
    fallback = _mapping(spec.get("validation")).get("openAPIV3Schema")  # v1beta1
    versions = spec.get("versions")
    if not isinstance(versions, list) or not versions:
        version = _text(spec.get("version"))  # v1beta1
        return [(version, True, top, fallback, "" if version else "spec.versions is missing")]
    found = []
    for i, entry in enumerate(map(_mapping, versions)):
        name, schema = _text(entry.get("name")), entry.get("schema") or {}
        problem = "" if name else f"spec.versions[{i}].name is missing"
        if not isinstance(schema, Mapping):
            problem = problem or f"spec.versions[{i}].schema is not a mapping"
        own = _mapping(schema).get("openAPIV3Schema")
        path = top if own is None else ("spec", "versions", i, "schema", "openAPIV3Schema")
        found.append(
            (name, entry.get("served") is True, path, fallback if own is None else own, problem)
        )
    return found


def _resource_schema(
    converter: _Converter, raw: Any, api_version: str, kind: str
) -> dict[str, Any]:
    if isinstance(raw, Mapping) and raw.get("type", "object") != "object":
        raise CrdSchemaError(("type",), "the schema of a resource must be of type object")
    schema = converter.node(raw, (), 0)
    properties = schema.setdefault("properties", {})
    properties["apiVersion"] = {"type": "string", "const": api_version}
    properties["kind"] = {"type": "string", "const": kind}
    properties["metadata"] = {"type": "object"}
    properties.setdefault("status", {})
    schema["required"] = _names(schema.get("required", ()), "apiVersion", "kind")
    return {"$schema": DRAFT_2020_12, **schema}


class _Converter:
    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.cel_rules = 0

    def node(self, raw: Any, path: _Path, depth: int, junctor: bool = False) -> dict[str, Any]:
        """`junctor`: inside allOf/anyOf/oneOf/not, which constrain but declare (prune) nothing."""
        if not isinstance(raw, Mapping):
            raise CrdSchemaError(path, f"a schema must be a mapping, not {type(raw).__name__}")
        if depth > MAX_DEPTH:
            raise CrdSchemaError(path, f"schemas nested deeper than {MAX_DEPTH} levels")
        out = _keywords(raw, path)
        self._children(raw, out, path, depth + 1, junctor)
        if "x-kubernetes-validations" in raw:
            self.cel_rules += len(_list(raw, "x-kubernetes-validations", path))
        if raw.get("x-kubernetes-list-type") == "set":  # no duplicates (whole values compared)
            out["uniqueItems"] = True
        if raw.get("x-kubernetes-embedded-resource") is True:
            out.setdefault("properties", {}).update({k: dict(v) for k, v in _EMBEDDED.items()})
            out["required"] = _names(out.get("required", ()), "apiVersion", "kind")
        declared = "properties" in out or out.get("type") == "object"
        keep = raw.get("x-kubernetes-preserve-unknown-fields") is True or junctor
        if self.strict and declared and not keep and "additionalProperties" not in out:
            out["additionalProperties"] = False  # the server would prune (strict: reject) others
        if raw.get("x-kubernetes-int-or-string") is True:
            out.pop("type", None)
            if out.get("anyOf", _int_or_string()) != _int_or_string():
                out["allOf"] = [*out.get("allOf", ()), {"anyOf": out["anyOf"]}]
            out["anyOf"] = _int_or_string()
        return _or_null(out) if raw.get("nullable") is True else out

    def _children(
        self, raw: Mapping[str, Any], out: dict[str, Any], path: _Path, depth: int, junctor: bool
    ) -> None:
        if "properties" in raw:
            fields, out["properties"] = raw["properties"], {}
            if not isinstance(fields, Mapping) or not all(isinstance(k, str) for k in fields):
                raise CrdSchemaError((*path, "properties"), "must map field names to schemas")
            for name, value in fields.items():
                field = self.node(value, (*path, "properties", name), depth, junctor)
                # A null that is not nullable is dropped (or defaulted) before validation.
                dropped = name not in out.get("required", ()) or "default" in field
                out["properties"][name] = _or_null(field) if dropped else field
        extra = raw.get("additionalProperties")
        if isinstance(extra, bool):
            out["additionalProperties"] = extra
        elif extra is not None:  # a map: its values are fields too, their nulls pruned alike
            at = (*path, "additionalProperties")
            out["additionalProperties"] = _or_null(self.node(extra, at, depth, junctor))
        if "items" in raw:
            out["items"] = self.node(raw["items"], (*path, "items"), depth, junctor)
        for key in ("allOf", "anyOf", "oneOf"):
            if key in raw:
                nodes = enumerate(_list(raw, key, path))
                out[key] = [self.node(n, (*path, key, i), depth, True) for i, n in nodes]
        if "not" in raw:
            out["not"] = self.node(raw["not"], (*path, "not"), depth, True)


def _keywords(raw: Mapping[str, Any], path: _Path) -> dict[str, Any]:
    """The keywords that mean the same in JSON Schema, checked so that the result compiles."""
    out: dict[str, Any] = {}
    if "type" in raw:
        if raw["type"] not in TYPES:
            supported = ", ".join(f'"{t}"' for t in TYPES)
            shown = f'"{raw["type"]}"' if isinstance(raw["type"], str) else repr(raw["type"])
            raise CrdSchemaError((*path, "type"), f"unsupported {shown}: use one of {supported}")
        out["type"] = raw["type"]
    for key, (valid, expected) in _KEYWORDS.items():
        if key in raw:
            if not valid(raw[key]):
                raise CrdSchemaError((*path, key), f"must be {expected}, not {raw[key]!r:.80}")
            out[key] = raw[key]
    if "enum" in out:
        out["enum"] = list(out["enum"])
    if "required" in out:
        out["required"] = _names(out["required"])
    for bound, flag in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if out.pop(flag, False) and bound in out:  # OpenAPI 3.0 flag -> 2020-12 number
            out[flag] = out.pop(bound)
    return out


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    """Let `schema` also accept null (idempotent)."""
    if isinstance(schema.get("type"), str):
        schema["type"] = [schema["type"], "null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    nullable = _int_or_string("null")
    if schema.get("anyOf") in (_int_or_string(), nullable):
        schema["anyOf"] = nullable
    moved = {k: schema.pop(k) for k in _JUNCTORS if k in schema and schema[k] != nullable}
    if moved:  # null skips them, anything else must pass them
        schema["if"], schema["else"] = {"type": "null"}, moved
    return schema


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(raw: Mapping[str, Any], key: str, path: _Path) -> list[Any]:
    value = raw[key]
    if not isinstance(value, list):
        raise CrdSchemaError((*path, key), "must be a list")
    return value


def _names(names: Iterable[str], *more: str) -> list[str]:
    return list(dict.fromkeys([*names, *more]))


def _int_or_string(*more: str) -> list[dict[str, str]]:
    return [{"type": t} for t in ("integer", "string", *more)]
