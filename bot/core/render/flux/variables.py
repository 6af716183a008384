"""`postBuild` variables of a Flux Kustomization, as kustomize-controller loads them.

`substituteFrom` entries are read in order (later ones win), then `substitute` overrides them;
newlines are dropped from values. ConfigMaps are taken from what the parent Kustomization
applies (generated ones included), else from the repository. Secrets (and SOPS-encrypted data)
are never read: the expressions only they could set are kept as written and reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.render.flux import envsubst
from bot.model.finding import Finding, Severity
from bot.model.resource import Location, Resource

VALID_NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")


@dataclass(frozen=True, slots=True)
class DataRef:
    kind: str
    name: str
    optional: bool
    field_path: str  # where the reference is written, for findings


@dataclass(frozen=True, slots=True)
class Variables:
    values: Mapping[str, str]
    unreadable: tuple[str, ...]  # sources whose values are never read ("Secret ns/name")
    findings: tuple[Finding, ...] = ()

    @property
    def active(self) -> bool:
        """kustomize-controller substitutes only when some variable exists."""
        return bool(self.values) or bool(self.unreadable)

    def lookup(self, name: str) -> str | None:
        if name in self.values:
            return self.values[name]
        return None if self.unreadable else ""


Where = Callable[[str], Location]  # field path of the Kustomization -> its location


def data_refs(spec: Mapping[str, Any], field: str, prefix: str) -> list[DataRef]:
    entries = spec.get(field)
    return [
        DataRef(
            str(e.get("kind") or ""),
            str(e.get("name") or ""),
            bool(e.get("optional")),
            f"{prefix}[{i}]",
        )
        for i, e in enumerate(entries if isinstance(entries, list) else [])
        if isinstance(e, Mapping)
    ]


def find_data(
    kind: str,
    namespace: str,
    name: str,
    applied: Iterable[Resource],
    declared: Mapping[tuple[str, str], Mapping[str, Any]],
) -> Mapping[str, Any] | None:
    """A ConfigMap/Secret the parent applies, else one written in the repository."""
    for resource in applied:
        key = resource.key
        if (key.api_group, key.kind, key.name) == ("", kind, name) and key.namespace in (
            namespace,
            "",
        ):
            return resource.body
    return declared.get((namespace, name))


def is_encrypted(body: Mapping[str, Any]) -> bool:
    return isinstance(body.get("sops"), Mapping)


def collect_variables(
    post_build: Mapping[str, Any],
    namespace: str,
    applied: Iterable[Resource],
    declared: Mapping[tuple[str, str], Mapping[str, Any]],
    where: Where,
) -> Variables:
    values: dict[str, str] = {}
    unreadable: list[str] = []
    findings: list[Finding] = []
    applied = tuple(applied)
    for ref in data_refs(post_build, "substituteFrom", "spec.postBuild.substituteFrom"):
        label = f"{ref.kind} {namespace}/{ref.name}"
        if ref.kind == "Secret":
            unreadable.append(label)
            continue
        body = find_data(ref.kind, namespace, ref.name, applied, declared)
        if ref.kind != "ConfigMap":
            findings.append(
                _problem(f"substituteFrom kind {ref.kind!r} is not supported", ref, where)
            )
        elif body is None and not ref.optional:
            findings.append(
                Finding(
                    rule_id="flux-substitute-missing",
                    severity=Severity.ERROR,
                    message=f"{label} (postBuild.substituteFrom) is neither in the repository nor "
                    "applied by the parent Kustomization; kustomize-controller would fail",
                    location=where(ref.field_path),
                    hint="add the ConfigMap to the repository, or set optional: true when it "
                    "is created outside Git",
                )
            )
            unreadable.append(label)
        elif body is not None and is_encrypted(body):
            unreadable.append(f"{label} (SOPS-encrypted)")
        elif body is not None:
            data = body.get("data")
            for key, value in (data if isinstance(data, Mapping) else {}).items():
                values[str(key)] = str(value).replace("\n", "")
    inline = post_build.get("substitute")
    for key, value in (inline if isinstance(inline, Mapping) else {}).items():
        values[str(key)] = str(value).replace("\n", "")
    for name in sorted(values):
        if not VALID_NAME.fullmatch(name):
            findings.append(
                Finding(
                    rule_id="flux-substitute-invalid",
                    severity=Severity.ERROR,
                    message=f"variable name {name!r} is invalid (must match "
                    "^[_a-zA-Z][_a-zA-Z0-9]*$); kustomize-controller would fail",
                    location=where(f"spec.postBuild.substitute.{name}"),
                    hint="rename the variable",
                )
            )
    findings.extend(_nested(values, where))
    return Variables(values, tuple(unreadable), tuple(findings))


def _problem(message: str, ref: DataRef, where: Where) -> Finding:
    return Finding(
        rule_id="flux-substitute-invalid",
        severity=Severity.ERROR,
        message=message,
        location=where(ref.field_path),
        hint="use kind ConfigMap or Secret",
    )


def _references(value: str) -> list[str]:
    try:
        return envsubst.referenced(envsubst.parse(value))
    except envsubst.SubstitutionSyntaxError:
        return []


def _nested(values: Mapping[str, str], where: Where) -> list[Finding]:
    """Values that name other variables: Flux substitutes once, so `${b}` inside `a` reaches the
    cluster as written. A cycle (a -> b -> a) can never resolve: an error."""
    graph = {name: [r for r in _references(v) if r in values] for name, v in values.items()}
    findings: list[Finding] = []
    reported: set[frozenset[str]] = set()
    for start in sorted(graph):
        cycle = _cycle_from(start, graph)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            findings.append(
                Finding(
                    rule_id="flux-substitution-loop",
                    severity=Severity.ERROR,
                    message="postBuild variables refer to each other in a loop: "
                    + " -> ".join([*cycle, cycle[0]])
                    + "; Flux substitutes once, so the objects would keep a literal ${…}",
                    location=where(f"spec.postBuild.substitute.{cycle[0]}"),
                    hint="give each variable a literal value",
                )
            )
    for name in sorted(graph):
        if graph[name] and not any(name in c for c in reported):
            findings.append(
                Finding(
                    rule_id="flux-substitution-nested",
                    severity=Severity.WARNING,
                    message=f"variable {name} refers to {', '.join(graph[name])}; Flux does not "
                    "expand variables inside values, so the literal text is applied",
                    location=where(f"spec.postBuild.substitute.{name}"),
                    hint="write the value out in full",
                )
            )
    return findings


def _cycle_from(start: str, graph: Mapping[str, list[str]]) -> list[str]:
    path: list[str] = []

    def visit(node: str) -> list[str]:
        if node in path:
            return path[path.index(node) :]
        path.append(node)
        for nxt in graph.get(node, ()):
            found = visit(nxt)
            if found:
                return found
        path.pop()
        return []

    cycle = visit(start)
    return cycle if cycle and cycle[0] == start else []
