"""In-memory implementations of the core's Protocols (no I/O, no mocks)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from bot.core.memory_tree import blob_id
from bot.model.errors import SchemaCompileError
from bot.ports import (
    Command,
    CommandResult,
    EntryMode,
    PolicyModule,
    PolicyResult,
    SchemaViolation,
    TreeEntry,
    Violations,
)


class FakeTree:
    """A RepoTree from a dict of path -> text. Symlinks are given as `Link("target")`."""

    def __init__(self, files: Mapping[str, str | Link], tree_id: str = "fake") -> None:
        self._data: dict[str, bytes] = {}
        self._entries: dict[str, TreeEntry] = {}
        for path, content in files.items():
            is_link = isinstance(content, Link)
            raw = (content.target if isinstance(content, Link) else content).encode()
            self._data[path] = raw
            blob = blob_id(raw)
            mode = EntryMode.SYMLINK if is_link else EntryMode.FILE
            self._entries[path] = TreeEntry(blob, mode, len(raw))
        self._tree_id = tree_id

    @property
    def tree_id(self) -> str:
        return self._tree_id

    def entries(self) -> Mapping[str, TreeEntry]:
        return self._entries

    def read(self, path: str) -> bytes:
        return self._data[path]


@dataclass(frozen=True)
class Link:
    target: str


Responder = Callable[[Command, FakeTree], CommandResult]


@dataclass
class FakeRunner:
    """Answers Commands from a function; records every call so tests can assert on argv."""

    respond: Responder
    calls: list[Command] = field(default_factory=list)

    def run(self, command: Command, tree: FakeTree) -> CommandResult:  # type: ignore[override]
        self.calls.append(command)
        return self.respond(command, tree)


def ok(stdout: str) -> CommandResult:
    return CommandResult(stdout.encode(), "", 0)


class FakeCompiled:
    """CompiledSchema over the pure-Python `jsonschema` reference implementation."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._validator = jsonschema.Draft202012Validator(schema)

    def violations(self, instance: Any, limit: int) -> Violations:
        errors = sorted(self._validator.iter_errors(instance), key=lambda e: list(e.path))
        items = tuple(
            SchemaViolation(e.message, tuple(e.path), str(e.validator)) for e in errors[:limit]
        )
        return Violations(items, more=len(errors) > limit)


@dataclass
class FakeCatalog:
    """A SchemaCatalog with hand-written schemas: {version: {(group, version, kind): schema}}."""

    kinds: dict[str, dict[tuple[str, str, str], Mapping[str, Any]]]
    compiled: list[Mapping[str, Any]] = field(default_factory=list)

    def kubernetes_versions(self) -> tuple[str, ...]:
        return tuple(sorted(self.kinds, key=lambda v: tuple(map(int, v.split(".")))))

    def kubernetes_kinds(self, version: str) -> frozenset[tuple[str, str, str]]:
        return frozenset(self.kinds[version])

    def kubernetes_schema(
        self, version: str, group: str, api_version: str, kind: str, strict: bool
    ) -> FakeCompiled | None:
        schema = self.kinds[version].get((group, api_version, kind))
        if schema is None:
            return None
        return FakeCompiled(schema if strict else _open(schema))

    def compile(self, schema: Mapping[str, Any]) -> FakeCompiled:
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as error:
            raise SchemaCompileError(error.message) from error
        self.compiled.append(schema)
        return FakeCompiled(schema)


def _open(schema: Any) -> Any:
    """The schema without any `additionalProperties: false` (non-strict validation)."""
    if isinstance(schema, Mapping):
        return {k: _open(v) for k, v in schema.items() if k != "additionalProperties"}
    return schema


@dataclass
class FakePolicies:
    answer: Callable[[str, Any], Any]

    def evaluate(self, query: str, inputs: Sequence[Any]) -> list[PolicyResult]:
        return [PolicyResult(self.answer(query, value)) for value in inputs]

    def close(self) -> None:
        return None


@dataclass
class FakePolicyEngine:
    """A PolicyEngine answering queries from a Python function (query, input) -> value."""

    answer: Callable[[str, Any], Any] = lambda query, value: None
    name: str = "fake"
    compiled: list[tuple[PolicyModule, ...]] = field(default_factory=list)

    def compile(
        self, modules: Sequence[PolicyModule], data: Mapping[str, Any], budget_seconds: float
    ) -> FakePolicies:
        self.compiled.append(tuple(modules))
        return FakePolicies(self.answer)
