"""The policy stage of a review: every policy set over the head resources and the changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.policy.builtins_guard import forbidden_builtins
from bot.core.policy.conftest import (
    PolicyDocument,
    PolicyOutcome,
    PolicyTally,
    combined,
    evaluate_packages,
)
from bot.core.policy.gatekeeper import evaluate_gatekeeper, find_gatekeeper_objects
from bot.core.policy.sets import PolicySet, builtin_set, repository_sets
from bot.core.tree_view import TreeView
from bot.model.errors import PolicyCompileError, PolicyEngineError
from bot.model.finding import Finding, Severity
from bot.model.policy import PolicySummary
from bot.model.repo_config import PolicyConfig
from bot.model.resource import Location, Resource
from bot.ports import PolicyEngine, PolicyModule


@dataclass(frozen=True, slots=True)
class ChangedResource:
    """A resource the change adds, removes or modifies, with both sides (either may be None)."""

    base: Resource | None
    head: Resource | None
    change: str  # "added" | "removed" | "modified"

    def document(self) -> PolicyDocument:
        some = self.head or self.base
        assert some is not None
        return PolicyDocument(
            {
                "base": dict(self.base.body) if self.base else None,
                "head": dict(self.head.body) if self.head else None,
                "change": self.change,
            },
            some.origin,
            some.key,
        )


def _evaluate_set(
    engine: PolicyEngine,
    policy_set: PolicySet,
    documents: Sequence[PolicyDocument],
    changes: Sequence[ChangedResource],
    budget: float,
) -> PolicyOutcome:
    for module in policy_set.modules:
        refused = forbidden_builtins(module)
        if refused is not None:
            raise refused
    compiled = engine.compile(policy_set.modules, policy_set.data, budget)
    try:
        outcome = evaluate_packages(compiled, policy_set.per_document, documents, policy_set.naming)
        for part in (
            evaluate_packages(
                compiled, policy_set.combined, [combined(documents)], policy_set.naming
            )
            if policy_set.combined and documents
            else PolicyOutcome(),
            evaluate_packages(
                compiled, policy_set.change, [c.document() for c in changes], policy_set.naming
            )
            if policy_set.change and changes
            else PolicyOutcome(),
        ):
            outcome.findings.extend(part.findings)
            outcome.exceptions.extend(part.exceptions)
            outcome.tally.add(part.tally)
        return outcome
    finally:
        compiled.close()


def _broken_set(policy_set: PolicySet, error: PolicyCompileError | PolicyEngineError) -> Finding:
    compile_failed = isinstance(error, PolicyCompileError)
    return Finding(
        "policy-invalid" if compile_failed else "policy-engine-failed",
        Severity.ERROR,
        f"{policy_set.name} policies were not evaluated: {error.message}",
        error.location or Location(policy_set.modules[0].path, 1),
        hint=error.hint or "check the policy engine's configuration (opa.url)",
    )


def evaluate_policies(
    engine: PolicyEngine,
    config: PolicyConfig,
    *,
    trusted: TreeView,
    builtin: Sequence[PolicyModule],
    resources: Sequence[Resource],
    changes: Sequence[ChangedResource],
) -> tuple[list[Finding], list[Finding], PolicySummary | None]:
    """(findings, exceptions, summary); broken policies are findings, never exceptions."""
    if not config.enabled:
        return [], [], None
    sets, findings = repository_sets(trusted, config)
    library = builtin_set(builtin, config)
    if library is not None:
        sets.append(library)
    templates, constraints = find_gatekeeper_objects(resources)
    if not sets and not constraints:
        return findings, [], None
    documents = [PolicyDocument(dict(r.body), r.origin, r.key) for r in resources]
    exceptions: list[Finding] = []
    tally = PolicyTally()
    for policy_set in sets:
        try:
            outcome = _evaluate_set(engine, policy_set, documents, changes, config.budget_seconds)
        except (PolicyCompileError, PolicyEngineError) as error:
            findings.append(_broken_set(policy_set, error))
            continue
        findings.extend(outcome.findings)
        exceptions.extend(outcome.exceptions)
        tally.add(outcome.tally)
    if constraints:
        violations, problems = evaluate_gatekeeper(
            templates, constraints, resources, engine, config.budget_seconds
        )
        findings += violations + problems
        tally.failures += sum(1 for v in violations if v.severity is Severity.ERROR)
        tally.warnings += sum(1 for v in violations if v.severity is not Severity.ERROR)
    summary = PolicySummary(
        engine=engine.name,
        policy_sets=len(sets),
        modules=sum(len(s.modules) for s in sets),
        documents=len(documents),
        tests=tally.tests,
        passed=tally.passed,
        warnings=tally.warnings,
        failures=tally.failures,
        exceptions=tally.exceptions,
    )
    return findings, exceptions, summary
