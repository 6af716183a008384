"""conftest's semantics on any PolicyEngine: which rules count, what a result means.

Rules named `deny`, `violation` or `warn`, or prefixed `deny_x`/`violation_x`/`warn_x`, in the
evaluated namespaces; `exception` rules name rule suffixes (`"x"` for `deny_x`) whose results
become exceptions; a result is a string or an object `{msg, details, _loc}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.policy.metadata import RuleMetadata
from bot.model.finding import Finding, Severity
from bot.model.resource import Location, ResourceKey
from bot.ports import CompiledPolicies

RULE_KINDS = ("deny", "violation", "warn")


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    """One input as conftest sees it, with where to point when a rule fires."""

    input: Any
    location: Location
    resource: ResourceKey | None = None


@dataclass(slots=True)
class PolicyTally:
    """conftest's counts: every (document, rule) checked is a test."""

    tests: int = 0
    passed: int = 0
    warnings: int = 0
    failures: int = 0
    exceptions: int = 0

    def add(self, other: PolicyTally) -> None:
        self.tests += other.tests
        self.passed += other.passed
        self.warnings += other.warnings
        self.failures += other.failures
        self.exceptions += other.exceptions


@dataclass(slots=True)
class PolicyOutcome:
    findings: list[Finding] = field(default_factory=list)
    exceptions: list[Finding] = field(default_factory=list)
    tally: PolicyTally = field(default_factory=PolicyTally)


def rule_kind(name: str) -> tuple[str, str] | None:
    """("deny", "privileged") for `deny_privileged`; None for rules conftest ignores."""
    for kind in RULE_KINDS:
        if name == kind:
            return kind, ""
        if name.startswith(kind + "_"):
            return kind, name[len(kind) + 1 :]
    return None


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if value is True:  # a boolean rule (`deny if ...`) fired without a message
        return [""]
    return []


def _excepted(value: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    for entry in _as_list(value.get("exception")):
        names.update(str(n) for n in (entry if isinstance(entry, list) else [entry]))
    return names


def _location(result: Any, fallback: Location) -> Location:
    loc = result.get("_loc") if isinstance(result, Mapping) else None
    if isinstance(loc, Mapping):
        path = loc.get("file") or loc.get("path")
        line = loc.get("line") or loc.get("row") or 1
        if isinstance(path, str) and isinstance(line, int):
            return Location(path, line)
    return fallback


def _message(result: Any, rule: str) -> tuple[str, Any]:
    if isinstance(result, Mapping):
        return str(result.get("msg", "") or rule), result.get("details")
    return (str(result) if result != "" else rule), None


@dataclass(frozen=True, slots=True)
class RuleNaming:
    """Ids and severities from metadata, keyed by (package, rule) or (package, "")."""

    metadata: Mapping[tuple[str, str], RuleMetadata]

    def describe(self, package: str, rule: str, kind: str) -> tuple[str, Severity, RuleMetadata]:
        meta = self.metadata.get((package, rule)) or self.metadata.get((package, ""))
        meta = meta or RuleMetadata(package, rule)
        default = Severity.WARNING if kind == "warn" else Severity.ERROR
        return meta.rule_id or f"{package}.{rule}", meta.severity or default, meta


def _findings_of(
    package: str, value: Mapping[str, Any], doc: PolicyDocument, naming: RuleNaming
) -> PolicyOutcome:
    outcome = PolicyOutcome()
    excepted = _excepted(value)
    for rule, rule_value in sorted(value.items()):
        kind_and_suffix = rule_kind(rule)
        if kind_and_suffix is None:
            continue
        kind, suffix = kind_and_suffix
        results = _as_list(rule_value)
        outcome.tally.tests += 1
        rule_id, severity, meta = naming.describe(package, rule, kind)
        if meta.approvers:
            # Named approvers may accept the violation: it becomes an approval requirement for
            # the approval gate, not a hard failure of the review.
            severity = Severity.WARNING
        if results and suffix and suffix in excepted:
            outcome.tally.exceptions += 1
            target = outcome.exceptions
        elif not results:
            outcome.tally.passed += 1
            continue
        else:
            target = outcome.findings
            if kind == "warn":
                outcome.tally.warnings += len(results)
            else:
                outcome.tally.failures += len(results)
        for result in results:
            msg, details = _message(result, rule)
            metadata = {"policy": f"{package}.{rule}"}
            if details is not None:
                metadata["details"] = json.dumps(details, sort_keys=True)
            if meta.approvers:
                metadata["approvers"] = ",".join(meta.approvers)
                metadata["requires_approval"] = "true"
            target.append(
                Finding(
                    rule_id,
                    severity,
                    msg,
                    _location(result, doc.location),
                    doc.resource,
                    str(meta.custom.get("remediation", "")),
                    metadata,
                )
            )
    return outcome


def _descend(value: Any, path: Sequence[str]) -> Any:
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def evaluate_packages(
    compiled: CompiledPolicies,
    packages: Iterable[str],
    documents: Sequence[PolicyDocument],
    naming: RuleNaming,
) -> PolicyOutcome:
    """Each package's rules for each document (conftest's default per-document mode).

    Packages under one root (`gitops_bot.security.x`, `gitops_bot.rbac.y`) are evaluated with a
    single query of the root per document, then split: one engine call per resource, not one
    per rule.
    """
    by_root: dict[str, list[str]] = {}
    for package in packages:
        by_root.setdefault(package.split(".", 1)[0], []).append(package)
    total = PolicyOutcome()
    for root, members in sorted(by_root.items()):
        results = compiled.evaluate(f"data.{root}", [d.input for d in documents])
        for doc, result in zip(documents, results, strict=True):
            if result.error:
                total.findings.append(
                    Finding(
                        "policy-evaluation-failed",
                        Severity.ERROR,
                        f"policies under {root} failed on this document: {result.error}",
                        doc.location,
                        doc.resource,
                        "fix the policy (or the data it reads); other documents were evaluated",
                    )
                )
                continue
            for package in sorted(members):
                value = _descend(result.value, package.split(".")[1:])
                if isinstance(value, Mapping):
                    found = _findings_of(package, value, doc, naming)
                    total.findings.extend(found.findings)
                    total.exceptions.extend(found.exceptions)
                    total.tally.add(found.tally)
    return total


def combined(documents: Sequence[PolicyDocument]) -> PolicyDocument:
    """conftest --combine: one input, the list of {path, contents} of every document."""
    return PolicyDocument(
        [{"path": d.location.path, "contents": d.input} for d in documents],
        documents[0].location if documents else Location("", 1),
    )
