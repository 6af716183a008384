"""SchemaCatalog on jsonschema-rs, over the Kubernetes schemas bundled with kubernetes-validate
(used only as data: its validate() re-reads 1.8 MB per call) and over any schema handed in.

Each (version, strict) `_definitions.json` is parsed once into a jsonschema-rs Registry; kinds
compile against it on first use. The caches are process-wide behind one lock, and compiled
validators are shared across threads and reviews. Nothing is ever fetched: a $ref leaving the
schema goes to a retriever that refuses (by default jsonschema-rs would use HTTP or the disk).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from typing import Any
from urllib.parse import unquote

import jsonschema_rs

from bot.model.errors import SchemaCompileError
from bot.ports import CompiledSchema, SchemaViolation, Violations

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
MAX_MESSAGE = 300
MAX_DEPTH = 256  # deeper instances are not validated (see _depth_probe)
COMPILE_CACHE_SIZE = 512
_DIRECTORY = re.compile(r"v(\d+)\.(\d+)\.\d+-local")
_VALID = Violations(())
# Subschema keywords: those applying to the same instance (a $ref cycle through them never
# ends), schema maps, and those applying to parts of the instance.
_SAME = ("allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "dependencies")
_MAPS = ("properties", "patternProperties", "$defs", "definitions", *_SAME[-2:])
_PARTS = ("items", "prefixItems", "additionalItems", "additionalProperties", "contains")
_OTHERS = ("propertyNames", "contentSchema", "unevaluatedItems", "unevaluatedProperties")
_SUBSCHEMAS = (*_SAME, *_MAPS, *_PARTS, *_OTHERS)

InstancePath = tuple[str | int, ...]


class _RefusedError(Exception):
    """What the retriever raises: a $ref outside the schema is never fetched."""


def _refuse(uri: str) -> Any:
    raise _RefusedError(f"{uri} is not fetched (offline)")


class _Compiled:
    """CompiledSchema: a jsonschema-rs validator with readable, bounded error reporting."""

    __slots__ = ("_validator",)

    def __init__(self, validator: jsonschema_rs.Validator) -> None:
        self._validator = validator

    def violations(self, instance: Any, limit: int) -> Violations:
        try:
            if not _depth_probe().is_valid(instance):
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
            if self._validator.is_valid(instance):
                return _VALID
            items: list[SchemaViolation] = []
            for error in self._validator.iter_errors(instance):
                if len(items) >= limit:
                    return Violations(tuple(items), more=True)
                message, keyword = _describe(error, instance)
                items.append(SchemaViolation(message, tuple(error.instance_path), keyword))
            return Violations(tuple(items))
        except ValueError as exc:  # jsonschema-rs takes only JSON values (str keys, no sets)
            path, problem, keyword = _oddity(instance) or ((), str(exc), "type")
            return Violations((SchemaViolation(f"{problem}; not validated", path, keyword),))


@functools.cache
def _depth_probe() -> jsonschema_rs.Validator:
    """Valid iff the instance nests at most MAX_DEPTH levels; its own recursion stops there
    (a validator recurses on the C stack, so a deeper or cyclic instance could overflow it)."""
    step = {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(MAX_DEPTH)}
    defs: dict[str, Any] = {k: {"additionalProperties": r, "items": r} for k, r in step.items()}
    defs[f"d{MAX_DEPTH}"] = {"type": ["string", "number", "boolean", "null"]}
    return jsonschema_rs.validator_for({"$defs": defs, "$ref": "#/$defs/d0"}, retriever=_refuse)


def _oddity(instance: Any) -> tuple[InstancePath, str, str] | None:
    """Where, how and (keyword) why `instance` is not JSON that jsonschema-rs can validate."""
    stack: list[tuple[Any, InstancePath]] = [(instance, ())]
    while stack:
        node, path = stack.pop()
        if len(path) >= MAX_DEPTH and isinstance(node, dict | list | tuple):
            return path, f"nested deeper than {MAX_DEPTH} levels (or self-referencing)", "depth"
        if isinstance(node, dict):
            key = next((k for k in node if not isinstance(k, str)), None)
            if key is not None:
                return (*path, key), f"the key {key!r} is not a string", "propertyNames"
            stack.extend((child, (*path, key)) for key, child in node.items())
        elif isinstance(node, list | tuple):
            stack.extend((child, (*path, index)) for index, child in enumerate(node))
        elif not (node is None or isinstance(node, str | int | float)):
            return path, f"a value of type {type(node).__name__} is not JSON", "type"
    return None


def _describe(error: jsonschema_rs.ValidationError, instance: Any) -> tuple[str, str]:
    """A readable message, and the keyword: the last step of the error's schema path."""
    kind, at = error.kind.name, error.schema_path
    if kind == "falseSchema" and at and at[-1] == "additionalProperties":
        # A bare `additionalProperties: false` names the first value, not the keys: name them.
        for step in error.instance_path:
            instance = instance[step]
        verb = "was" if len(instance) == 1 else "were"
        message = f"Additional properties are not allowed ({', '.join(map(repr, instance))} {verb}"
        return _short(message + " unexpected)", None), "additionalProperties"
    keyword = "false" if kind == "falseSchema" else str(at[-1]) if at else kind
    return _short(error.message, error.instance), keyword


def _short(message: str, instance: Any) -> str:
    """jsonschema-rs quotes the whole instance in some messages: abbreviate it, then cap."""
    if len(message) <= MAX_MESSAGE:
        return message
    try:
        rendered = json.dumps(instance, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        rendered = ""
    if len(rendered) > 80 and rendered in message:
        message = message.replace(rendered, rendered[:60] + "…", 1)
    if len(message) > MAX_MESSAGE:
        message = message[:200] + "…" + message[201 - MAX_MESSAGE :]
    return message


@dataclass(frozen=True, slots=True)
class _Bundle:
    uri: str
    registry: jsonschema_rs.Registry
    names: Mapping[tuple[str, str, str], str]  # (group, version, kind) -> its $defs name
    kinds: frozenset[tuple[str, str, str]]


_LOCK = threading.RLock()
_DIRECTORIES: dict[str, str] = {}  # "1.31" -> "v1.31.0-local"
_BUNDLES: dict[tuple[str, bool], _Bundle] = {}
_KINDS: dict[tuple[str, bool, str], _Compiled] = {}
_COMPILED: OrderedDict[str, _Compiled] = OrderedDict()


def _root() -> Traversable:
    return importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema"


def _directories() -> dict[str, str]:
    with _LOCK:
        if not _DIRECTORIES:
            found = {}
            for entry in _root().iterdir():
                if match := _DIRECTORY.fullmatch(entry.name):
                    found[(int(match[1]), int(match[2]))] = entry.name
            _DIRECTORIES.update({f"{a}.{b}": found[(a, b)] for a, b in sorted(found)})
        return _DIRECTORIES


def _bundle(version: str, strict: bool) -> _Bundle:
    bundle = _BUNDLES.get((version, strict))
    if bundle is not None:
        return bundle
    with _LOCK:
        if (version, strict) not in _BUNDLES:
            if version not in _directories():
                known = ", ".join(_directories())
                raise ValueError(f"no bundled Kubernetes schemas for {version!r} (have {known})")
            directory = _directories()[version] + ("-strict" if strict else "")
            document = json.loads((_root() / directory / "_definitions.json").read_bytes())
            _BUNDLES[(version, strict)] = _load(document)
        return _BUNDLES[(version, strict)]


def _load(document: dict[str, Any]) -> _Bundle:
    names: dict[tuple[str, str, str], str] = {}
    for name, definition in document["$defs"].items():
        gvks: list[dict[str, str]] = definition.get("x-kubernetes-group-version-kind") or []
        if len(gvks) == 1:  # DeleteOptions/WatchEvent claim every group-version: no resources
            names[(gvks[0]["group"], gvks[0]["version"], gvks[0]["kind"])] = name
        branches = definition.get("oneOf")
        if isinstance(branches, list) and all(b.keys() == {"type"} for b in branches):
            # IntOrString and Quantity: null matches both branches, so oneOf would reject it.
            definition["anyOf"] = definition.pop("oneOf")
    registry = jsonschema_rs.Registry([(document["$id"], document)], retriever=_refuse)
    return _Bundle(document["$id"], registry, names, frozenset(names))


class JsonSchemaCatalog:
    """SchemaCatalog over kubernetes-validate's schema files; all instances share the caches."""

    def kubernetes_versions(self) -> tuple[str, ...]:
        return tuple(_directories())

    def kubernetes_kinds(self, version: str) -> frozenset[tuple[str, str, str]]:
        return _bundle(version, strict=False).kinds

    def kubernetes_schema(
        self, version: str, group: str, api_version: str, kind: str, strict: bool
    ) -> CompiledSchema | None:
        """`api_version` is the manifest's apiVersion ("apps/v1") or just its version ("v1")."""
        bundle = _bundle(version, strict)
        name = bundle.names.get((group, api_version.rpartition("/")[2], kind))
        if name is None:
            return None
        key = (version, strict, name)
        compiled = _KINDS.get(key)
        if compiled is None:
            with _LOCK:
                if key not in _KINDS:
                    schema = {"$schema": DRAFT_2020_12, "$ref": f"{bundle.uri}#/$defs/{name}"}
                    validator = jsonschema_rs.validator_for(
                        schema, registry=bundle.registry, retriever=_refuse
                    )
                    _KINDS[key] = _Compiled(validator)
                compiled = _KINDS[key]
        return compiled

    def compile(self, schema: Mapping[str, Any]) -> CompiledSchema:
        try:
            text = json.dumps(schema, sort_keys=True, allow_nan=False, default=_plain)
        except (TypeError, ValueError) as exc:
            raise SchemaCompileError(f"the schema is not JSON: {exc}") from None
        key = hashlib.sha256(text.encode()).hexdigest()
        with _LOCK:
            if key not in _COMPILED:
                _COMPILED[key] = _Compiled(_compile(text))
                if len(_COMPILED) > COMPILE_CACHE_SIZE:
                    _COMPILED.popitem(last=False)
            _COMPILED.move_to_end(key)
            return _COMPILED[key]


def _plain(value: object) -> object:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _compile(text: str) -> jsonschema_rs.Validator:
    refused: list[str] = []

    def retrieve(uri: str) -> Any:
        refused.append(uri)
        return _refuse(uri)

    try:
        validator = jsonschema_rs.validator_for(text, retriever=retrieve)
    except (ValueError, TypeError, jsonschema_rs.ReferencingError) as exc:
        if refused:
            hint = "Remote and file $refs are never fetched: inline the target under $defs."
            raise SchemaCompileError(f"$ref {refused[0]!r} leaves the schema", hint=hint) from None
        where = "/".join(map(str, getattr(exc, "instance_path", ())))
        first = str(getattr(exc, "message", exc)).split("\n", 1)[0]
        hint = "Check it against its $schema draft (2020-12 when absent); $refs must resolve."
        message = f"invalid JSON schema{f' at #/{where}' if where else ''}: {_short(first, 0)}"
        raise SchemaCompileError(message, hint=hint) from None
    loop = _ref_loop(json.loads(text))
    if loop is not None:
        message = "the schema loops without descending into the instance: " + " → ".join(loop)
        hint = "Every $ref cycle must pass through properties, items or a similar keyword."
        raise SchemaCompileError(message, hint=hint)
    return validator


def _children(node: dict[str, Any], keywords: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    """(JSON-pointer suffix, subschema) of the object subschemas under `keywords`."""
    for keyword in keywords:
        value = node.get(keyword)
        if isinstance(value, dict) and keyword in _MAPS:
            for key, child in value.items():
                escaped = str(key).replace("~", "~0").replace("/", "~1")
                yield from [(f"/{keyword}/{escaped}", child)] if isinstance(child, dict) else []
        elif isinstance(value, list):
            yield from ((f"/{keyword}/{i}", v) for i, v in enumerate(value) if isinstance(v, dict))
        elif isinstance(value, dict):
            yield f"/{keyword}", value


def _ref_loop(root: Any) -> list[str] | None:
    """A cycle of local $refs and in-place applicators, which jsonschema-rs would compile into
    an always-valid schema. Recursion through properties, items and the like is fine."""
    nodes: dict[str, tuple[dict[str, Any], str]] = {}  # pointer -> (schema, its resource's)
    anchors: dict[tuple[str, str], str] = {}  # (resource pointer, anchor) -> pointer
    todo: list[tuple[Any, str, str]] = [(root, "", "")]
    while todo:
        node, pointer, base = todo.pop()
        if not isinstance(node, dict) or pointer in nodes:
            continue
        ident = node.get("$id")
        if pointer and isinstance(ident, str) and not ident.startswith("#"):
            base = pointer  # an embedded resource: its "#..." refs are relative to it
        nodes[pointer] = (node, base)
        for key in ("$anchor", "$dynamicAnchor", "$id"):
            name = node.get(key)
            if isinstance(name, str) and (key != "$id" or name.startswith("#")):
                anchors[(base, name.removeprefix("#"))] = pointer
        for suffix, child in _children(node, _SUBSCHEMAS):
            todo.append((child, pointer + suffix, base))

    def edges(pointer: str) -> Iterator[str]:
        node, base = nodes[pointer]
        yield from (pointer + suffix for suffix, _ in _children(node, _SAME))
        for ref in (node.get("$ref"), node.get("$dynamicRef"), node.get("$recursiveRef")):
            if isinstance(ref, str) and ref.startswith("#"):
                fragment = unquote(ref[1:])
                is_pointer = fragment == "" or fragment.startswith("/")
                target = base + fragment if is_pointer else anchors.get((base, fragment))
                yield from [target] if target is not None and target in nodes else []

    return _cycle({pointer: edges(pointer) for pointer in nodes})


def _cycle(graph: Mapping[str, Iterator[str]]) -> list[str] | None:
    """Some cycle of `graph` as "#pointer"s (an iterative DFS: schemas can be deep)."""
    on_stack: dict[str, bool] = {}  # visited nodes: True while on the DFS stack
    for start in graph:
        if start in on_stack:
            continue
        on_stack[start] = True
        stack = [(start, graph[start])]
        while stack:
            node, targets = stack[-1]
            for target in targets:
                if on_stack.get(target):
                    path = [p for p, _ in stack]
                    return ["#" + p for p in [*path[path.index(target) :], target]]
                if target not in on_stack:
                    on_stack[target] = True
                    stack.append((target, graph[target]))
                    break
            else:
                on_stack[node] = False
                stack.pop()
    return None
