"""JSON-schema validation and Rego policy engines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    """One JSON-schema error: where in the instance, which keyword, and the validator's words."""

    message: str
    path: tuple[str | int, ...]
    keyword: str


@dataclass(frozen=True, slots=True)
class Violations:
    items: tuple[SchemaViolation, ...]
    more: bool = False  # True when the instance had more errors than the limit asked for


class CompiledSchema(Protocol):
    def violations(self, instance: Any, limit: int) -> Violations:
        """Every error of `instance` (not the first), at most `limit` of them."""
        ...


class SchemaCatalog(Protocol):
    """Compiled JSON schemas: the Kubernetes API per version, and any schema handed in.

    Implementations cache compiled validators for the life of the process.
    """

    def kubernetes_versions(self) -> tuple[str, ...]:
        """Bundled Kubernetes minor versions, oldest first, e.g. ("1.25", ..., "1.37")."""
        ...

    def kubernetes_kinds(self, version: str) -> frozenset[tuple[str, str, str]]:
        """(group, version, kind) of every top-level kind the API serves at `version`;
        the core group is ""."""
        ...

    def kubernetes_schema(
        self, version: str, group: str, api_version: str, kind: str, strict: bool
    ) -> CompiledSchema | None:
        """The kind's schema at `version` (strict: unknown fields are errors), or None."""
        ...

    def compile(self, schema: Mapping[str, Any]) -> CompiledSchema:
        """Compile any JSON schema (a CRD's, a custom one); raises SchemaCompileError."""
        ...


@dataclass(frozen=True, slots=True)
class PolicyModule:
    """One Rego file. `path` is repo-relative, or `builtin/<file>` for the built-in library."""

    path: str
    source: str
    rego_v0: bool = False


@dataclass(frozen=True, slots=True)
class PolicyResult:
    """A query's value for one input: JSON-like, None when undefined, or the error that stopped
    it (a builtin error, the evaluation budget running out)."""

    value: Any = None
    error: str = ""


class CompiledPolicies(Protocol):
    """Modules and data compiled once, evaluated for many inputs."""

    def evaluate(self, query: str, inputs: Sequence[Any]) -> list[PolicyResult]:
        """`query` (e.g. "data.main") once per input, in order; one result per input.
        An error in one input never hides the results of the others."""
        ...

    def close(self) -> None: ...


class PolicyEngine(Protocol):
    """A Rego engine (embedded regorus, or a real OPA server). No http.send, no network
    lookups, no environment access for policies."""

    name: str

    def compile(
        self,
        modules: Sequence[PolicyModule],
        data: Mapping[str, Any],
        budget_seconds: float,
    ) -> CompiledPolicies:
        """Raises PolicyCompileError (with file, line and column) for a module that does not
        parse or compile. `budget_seconds` bounds each single evaluation."""
        ...
