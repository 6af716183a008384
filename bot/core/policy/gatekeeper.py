"""Gatekeeper ConstraintTemplates and constraints on rendered resources, on the PolicyEngine port.

Matching follows Gatekeeper's `pkg/mutation/match`: kinds, scope, namespaces/excludedNamespaces
(prefix/suffix globs; a resource without a namespace is never disqualified), labelSelector,
namespaceSelector, name. A namespaceSelector needs the labels of the resource's namespace; when
that namespace is unknown the constraint does not match and the result is `undecided` (Gatekeeper
errors there), reported as an INFO problem. Findings are `gatekeeper-<constraint kind lower>`:
ERROR for `deny`, WARNING for `warn` and `dryrun`; `scoped` takes its strongest action.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.policy.metadata import package_of
from bot.model.errors import PolicyCompileError
from bot.model.finding import Finding, Severity
from bot.model.resource import Location, Resource, ResourceKey
from bot.ports import CompiledPolicies, PolicyEngine, PolicyModule

TEMPLATE_GROUP = "templates.gatekeeper.sh"
CONSTRAINT_GROUP = "constraints.gatekeeper.sh"
_ACTIONS = {"deny": Severity.ERROR, "warn": Severity.WARNING, "dryrun": Severity.WARNING}
Namespaces = Mapping[str, Mapping[str, Any]]  # namespace name -> its labels
_NAME_LABEL = "kubernetes.io/metadata.name"


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in _list(value))


@dataclass(frozen=True, slots=True)
class ConstraintTemplate:
    """`problem` non-empty: the template cannot be used, and says why."""

    name: str
    kind: str
    rego: str
    libs: tuple[str, ...]
    origin: Location
    problem: str = ""

    @property
    def package(self) -> str:
        return package_of(self.rego)

    @classmethod
    def parse(cls, body: Mapping[str, Any], origin: Location) -> ConstraintTemplate:
        spec = _map(body.get("spec"))
        kind = str(_map(_map(_map(spec.get("crd")).get("spec")).get("names")).get("kind") or "")
        target = _map((_list(spec.get("targets")) or [None])[0])
        rego, libs = target.get("rego"), target.get("libs")
        for code in _list(target.get("code")) if rego is None else []:
            source = _map(_map(code).get("source"))
            if _map(code).get("engine") == "Rego":  # the `code:` form, Rego next to CEL
                rego, libs = source.get("rego"), source.get("libs")
        problem = ""
        if not kind:
            problem = "spec.crd.spec.names.kind is missing"
        elif not isinstance(rego, str) or not package_of(rego):
            problem = "spec.targets[0] has no Rego with a package (CEL-only is not supported)"
        elif libs is not None and (
            _list(libs) != libs or not all(isinstance(lib, str) for lib in libs)
        ):
            problem = "spec.targets[0].libs must be a list of strings"
        name = str(_map(body.get("metadata")).get("name") or "")
        return cls(name, kind, rego if isinstance(rego, str) else "", _strs(libs), origin, problem)

    def modules(self) -> tuple[PolicyModule, ...]:
        path = f"{self.origin.path}#{self.name or self.kind}"
        libs = (PolicyModule(f"{path}.lib{i}", lib, True) for i, lib in enumerate(self.libs))
        return (PolicyModule(f"{path}.rego", self.rego, True), *libs)


@dataclass(frozen=True, slots=True)
class Constraint:
    kind: str
    name: str
    match: Mapping[str, Any] = field(hash=False)
    parameters: Mapping[str, Any] = field(hash=False)
    enforcement_action: str
    origin: Location

    @classmethod
    def parse(cls, body: Mapping[str, Any], origin: Location) -> Constraint:
        spec, key = _map(body.get("spec")), ResourceKey.of(body)
        action = str(spec.get("enforcementAction") or "deny").lower()
        if action == "scoped":
            scoped = _list(spec.get("scopedEnforcementActions"))
            actions = [str(_map(s).get("action")).lower() for s in scoped]
            action = max(actions, key=lambda a: _ACTIONS.get(a, Severity.ERROR), default="deny")
        match, parameters = _map(spec.get("match")), _map(spec.get("parameters"))
        return cls(key.kind, key.name, match, parameters, action, origin)

    @property
    def severity(self) -> Severity:
        return _ACTIONS.get(self.enforcement_action, Severity.ERROR)

    @property
    def display(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class MatchResult:
    matched: bool
    reason: str = ""  # why not
    undecided: bool = False  # a namespaceSelector met a namespace whose labels are unknown


def _glob(pattern: str, candidate: str) -> bool:
    if len(pattern) > 1 and pattern.startswith("*") and pattern.endswith("*"):
        return pattern[1:-1] in candidate
    if pattern.startswith("*"):
        return candidate.endswith(pattern[1:])
    if pattern.endswith("*"):
        return candidate.startswith(pattern[:-1])
    return pattern == candidate


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    """A Kubernetes LabelSelector; raises ValueError for an unknown operator."""
    if any(
        k not in labels or str(labels[k]) != str(v)
        for k, v in _map(selector.get("matchLabels")).items()
    ):
        return False
    for expression in _list(selector.get("matchExpressions")):
        key, op = str(_map(expression).get("key")), _map(expression).get("operator")
        present, values = key in labels, _strs(_map(expression).get("values"))
        checks = {"Exists": present, "DoesNotExist": not present}
        value = str(labels.get(key))
        checks |= {"In": present and value in values, "NotIn": not present or value not in values}
        if op not in checks:
            raise ValueError(f"unknown labelSelector operator {op!r}")
        if not checks[op]:
            return False
    return True


def _kind_reason(m: Mapping[str, Any], key: ResourceKey) -> str:
    for k in map(_map, _list(m.get("kinds"))):
        kinds, groups = set(_strs(k.get("kinds"))), set(_strs(k.get("apiGroups")))
        if (not kinds or {"*", key.kind} & kinds) and (not groups or {"*", key.api_group} & groups):
            return ""
    return f"kind {key.api_group}/{key.kind} is not in match.kinds" if m.get("kinds") else ""


def _namespace_reason(m: Mapping[str, Any], ns: str, own_ns: str, is_ns: bool) -> str:
    scope = m.get("scope")
    if (scope == "Cluster" and ns and not is_ns) or (scope == "Namespaced" and (is_ns or not ns)):
        return f"the resource is not in scope {scope}"
    included = _strs(m.get("namespaces"))
    if included and own_ns and not any(_glob(p, own_ns) for p in included):
        return f"namespace {own_ns} is not in match.namespaces"
    if own_ns and any(_glob(p, own_ns) for p in _strs(m.get("excludedNamespaces"))):
        return f"namespace {own_ns} is in match.excludedNamespaces"
    return ""


def explain_match(
    constraint: Constraint,
    body: Mapping[str, Any],
    namespaces: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    namespace: str | None = None,
) -> MatchResult:
    """Whether `constraint` applies to `body`. `namespace` overrides metadata.namespace (a
    rendered resource's default namespace); `namespaces` maps known namespaces to labels."""
    m, key = constraint.match, ResourceKey.of(body)
    labels = _map(_map(body.get("metadata")).get("labels"))
    ns = key.namespace if namespace is None else namespace
    is_ns = key.kind == "Namespace" and key.api_group == ""
    reason = _kind_reason(m, key) or _namespace_reason(m, ns, key.name if is_ns else ns, is_ns)
    name = str(m.get("name") or "")
    if not reason and name and not _glob(name, key.name):
        reason = f"name {key.name} does not match match.name {name}"
    ns_labels = {**labels, _NAME_LABEL: key.name} if is_ns else (namespaces or {}).get(ns)
    try:
        selector = m.get("labelSelector")
        if not reason and selector is not None and not selector_matches(_map(selector), labels):
            reason = "the labels do not match match.labelSelector"
        if not reason and m.get("namespaceSelector") is not None and (is_ns or ns):
            if ns_labels is None:
                why = f"namespace {ns} is unknown, so match.namespaceSelector cannot be checked"
                return MatchResult(False, why, undecided=True)
            if not selector_matches(_map(m["namespaceSelector"]), ns_labels):
                reason = f"namespace {ns} does not match match.namespaceSelector"
    except ValueError as error:
        reason = str(error)
    return MatchResult(not reason, reason)


def match(
    constraint: Constraint,
    body: Mapping[str, Any],
    namespaces: Namespaces | None = None,
    *,
    namespace: str | None = None,
) -> bool:
    return explain_match(constraint, body, namespaces, namespace=namespace).matched


def review_input(constraint: Constraint, body: Mapping[str, Any], namespace: str) -> Any:
    """The `input` Gatekeeper gives a template for one object at admission."""
    key = ResourceKey.of(body)
    version = str(body.get("apiVersion") or "").rpartition("/")[2]
    kind = {"group": key.api_group, "version": version, "kind": key.kind}
    review = {"object": body, "kind": kind, "name": key.name, "namespace": namespace}
    review |= {"operation": "CREATE", "userInfo": {}}
    return {"review": review, "parameters": constraint.parameters}


def inventory_data(objects: Iterable[tuple[Mapping[str, Any], str]]) -> dict[str, Any]:
    """`data.inventory` from (body, namespace) pairs, laid out as Gatekeeper syncs it:
    cluster/<apiVersion>/<kind>/<name> and namespace/<ns>/<apiVersion>/<kind>/<name>."""
    cluster: dict[str, Any] = {}
    by_ns: dict[str, Any] = {}
    for body, namespace in objects:
        key, api_version = ResourceKey.of(body), str(body.get("apiVersion") or "")
        root = by_ns.setdefault(namespace, {}) if namespace else cluster
        root.setdefault(api_version, {}).setdefault(key.kind, {})[key.name] = body
    return {"inventory": {"cluster": cluster, "namespace": by_ns}}


def violation_messages(value: Any) -> list[str]:
    """The `msg` of each result of a template's `violation` rule."""
    return [str(i.get("msg", "")) if isinstance(i, Mapping) else str(i) for i in _list(value)]


def find_gatekeeper_objects(
    resources: Iterable[Resource],
) -> tuple[list[ConstraintTemplate], list[Constraint]]:
    templates: list[ConstraintTemplate] = []
    constraints: list[Constraint] = []
    for r in resources:
        if r.key.api_group == TEMPLATE_GROUP and r.key.kind == "ConstraintTemplate":
            templates.append(ConstraintTemplate.parse(r.body, r.origin))
        elif r.key.api_group == CONSTRAINT_GROUP:
            constraints.append(Constraint.parse(r.body, r.origin))
    return templates, constraints


def namespace_labels(resources: Iterable[Resource]) -> dict[str, Mapping[str, Any]]:
    """Labels of the rendered Namespaces, plus the one Kubernetes gives every namespace."""
    return {
        r.key.name: {**_map(_map(r.body.get("metadata")).get("labels")), _NAME_LABEL: r.key.name}
        for r in resources
        if r.key.kind == "Namespace" and r.key.api_group == ""
    }


def evaluate_gatekeeper(
    templates: Sequence[ConstraintTemplate],
    constraints: Sequence[Constraint],
    resources: Sequence[Resource],
    engine: PolicyEngine,
    budget_seconds: float,
    *,
    known_namespaces: Namespaces | None = None,
) -> tuple[list[Finding], list[Finding]]:
    """(findings, problems): every constraint against every resource it matches.
    `known_namespaces` adds namespaces (name -> labels) that are not among the resources."""
    findings: list[Finding] = []
    problems: list[Finding] = []
    for c in (c for c in constraints if c.kind not in {t.kind for t in templates}):
        why = f"constraint {c.display}: no ConstraintTemplate defines kind {c.kind}"
        problems.append(Finding("gatekeeper-template-missing", Severity.WARNING, why, c.origin))
    namespaces = {**(known_namespaces or {}), **namespace_labels(resources)}
    data = inventory_data((r.body, r.key.namespace) for r in resources)
    for t in templates:
        try:
            if t.problem:
                raise PolicyCompileError(t.problem, t.origin)
            compiled = engine.compile(t.modules(), data, budget_seconds)
        except PolicyCompileError as error:
            why = f"ConstraintTemplate {t.name} ({t.origin.path}): {error.message}"
            problems.append(Finding("gatekeeper-template-invalid", Severity.ERROR, why, t.origin))
            continue
        try:
            for constraint in (c for c in constraints if c.kind == t.kind):
                found, trouble = _check(compiled, t, constraint, resources, namespaces)
                findings += found
                problems += trouble
        finally:
            compiled.close()
    return findings, problems


def _check(
    compiled: CompiledPolicies,
    template: ConstraintTemplate,
    constraint: Constraint,
    resources: Sequence[Resource],
    namespaces: Namespaces,
) -> tuple[list[Finding], list[Finding]]:
    meta = {"constraint": constraint.display, "template": template.name}
    targets: list[Resource] = []
    unknown: set[str] = set()
    for r in resources:
        matched = explain_match(constraint, r.body, namespaces, namespace=r.key.namespace)
        targets += [r] if matched.matched else []
        unknown |= {r.key.namespace} if matched.undecided else set()
    problems: list[Finding] = []
    if unknown:
        why = (
            f"constraint {constraint.display} has a namespaceSelector, but namespace(s) "
            f"{', '.join(sorted(unknown))} are not rendered: their resources were not checked"
        )
        where = constraint.origin
        problems.append(
            Finding("gatekeeper-namespace-unknown", Severity.INFO, why, where, None, metadata=meta)
        )
    inputs = [review_input(constraint, r.body, r.key.namespace) for r in targets]
    outcomes = compiled.evaluate(f"data.{template.package}.violation", inputs)
    findings: list[Finding] = []
    rule, severity = f"gatekeeper-{constraint.kind.lower()}", constraint.severity
    action = {**meta, "enforcement_action": constraint.enforcement_action}
    for r, outcome in zip(targets, outcomes, strict=True):
        if outcome.error:
            why = f"{r.key.display()}: {template.name} ({template.origin.path}): {outcome.error}"
            problems.append(
                Finding(
                    "policy-evaluation-failed", Severity.ERROR, why, r.origin, r.key, metadata=meta
                )
            )
        for msg in violation_messages(outcome.value):
            why = f"{r.key.display()}: {msg}"
            findings.append(Finding(rule, severity, why, r.origin, r.key, metadata=action))
    return findings, problems
