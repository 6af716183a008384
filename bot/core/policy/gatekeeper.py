"""Gatekeeper ConstraintTemplates and constraints on rendered resources, on the PolicyEngine port.

Match semantics follow Gatekeeper's `pkg/mutation/match`: kinds, scope, namespaces and
excludedNamespaces (prefix/suffix globs; a resource without a namespace is never disqualified),
labelSelector, namespaceSelector and name. A namespaceSelector needs the labels of the
resource's namespace: when that namespace is unknown, the constraint does not match and the
MatchResult is `undecided` (Gatekeeper itself errors); `evaluate_gatekeeper` reports those as
INFO problems. Findings are `gatekeeper-<constraint kind lower>`, ERROR for `deny`, WARNING for
`warn` and `dryrun`.
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


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _group(body: Mapping[str, Any]) -> str:
    return ResourceKey.of(body).api_group


@dataclass(frozen=True, slots=True)
class ConstraintTemplate:
    """`problem` non-empty: the template cannot be used (and says why)."""

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
        name = str(_map(body.get("metadata")).get("name") or "")
        kind = str(_map(_map(_map(spec.get("crd")).get("spec")).get("names")).get("kind") or "")
        targets = spec.get("targets")
        target = _map(targets[0]) if isinstance(targets, list) and targets else {}
        rego, libs = target.get("rego"), target.get("libs")
        codes = target.get("code") if rego is None else None
        for code in codes if isinstance(codes, list) else []:
            if _map(code).get("engine") == "Rego":  # the `code:` form (Rego next to CEL)
                source = _map(_map(code).get("source"))
                rego, libs = source.get("rego"), source.get("libs")
        problem = ""
        if not kind:
            problem = "spec.crd.spec.names.kind is missing"
        elif not isinstance(rego, str) or not rego.strip():
            problem = "no Rego source in spec.targets[0] (CEL-only templates are not supported)"
        elif not package_of(rego):
            problem = "the Rego source has no package"
        elif libs is not None and not (
            isinstance(libs, list) and all(isinstance(lib, str) for lib in libs)
        ):
            problem = "spec.targets[0].libs must be a list of strings"
        rego_text = rego if isinstance(rego, str) else ""
        return cls(name, kind, rego_text, _strs(libs), origin, problem)

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
        spec = _map(body.get("spec"))
        action = str(spec.get("enforcementAction") or "deny").lower()
        if action == "scoped":  # the strongest action of any enforcement point
            scoped = [
                str(_map(s).get("action")).lower()
                for s in spec.get("scopedEnforcementActions") or []
            ]
            action = max(scoped, key=lambda a: _ACTIONS.get(a, Severity.ERROR), default="deny")
        key = ResourceKey.of(body)
        return cls(
            key.kind,
            key.name,
            _map(spec.get("match")),
            _map(spec.get("parameters")),
            action,
            origin,
        )

    @property
    def severity(self) -> Severity:
        return _ACTIONS.get(self.enforcement_action, Severity.ERROR)


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
    """A Kubernetes LabelSelector; raises ValueError for a malformed one."""
    for key, value in _map(selector.get("matchLabels")).items():
        if key not in labels or str(labels[key]) != str(value):
            return False
    for expression in selector.get("matchExpressions") or []:
        expr = _map(expression)
        key, op, values = str(expr.get("key")), expr.get("operator"), _strs(expr.get("values"))
        present = key in labels
        value = str(labels.get(key))
        checks = {
            "In": present and value in values,
            "NotIn": not present or value not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }
        if op not in checks:
            raise ValueError(f"unknown operator {op!r}")
        if not checks[str(op)]:
            return False
    return True


def explain_match(
    constraint: Constraint,
    body: Mapping[str, Any],
    namespaces: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    namespace: str | None = None,
) -> MatchResult:
    """Whether `constraint` applies to `body`. `namespace` overrides metadata.namespace (a
    rendered resource's default namespace); `namespaces` gives known namespaces' labels."""
    m, key = constraint.match, ResourceKey.of(body)
    meta = _map(body.get("metadata"))
    labels = _map(meta.get("labels"))
    ns = key.namespace if namespace is None else namespace
    is_namespace = key.kind == "Namespace" and key.api_group == ""
    own_ns = key.name if is_namespace else ns
    kinds = [_map(k) for k in m.get("kinds") or []]
    if kinds and not any(
        (not _strs(k.get("kinds")) or {"*", key.kind} & set(_strs(k.get("kinds"))))
        and (not _strs(k.get("apiGroups")) or {"*", key.api_group} & set(_strs(k.get("apiGroups"))))
        for k in kinds
    ):
        return MatchResult(False, f"kind {key.api_group}/{key.kind} is not in match.kinds")
    scope = m.get("scope")
    if (scope == "Cluster" and ns and not is_namespace) or (
        scope == "Namespaced" and (is_namespace or not ns)
    ):
        return MatchResult(False, f"the resource is not in scope {scope}")
    included = _strs(m.get("namespaces"))
    if included and own_ns and not any(_glob(p, own_ns) for p in included):
        return MatchResult(False, f"namespace {own_ns} is not in match.namespaces")
    if own_ns and any(_glob(p, own_ns) for p in _strs(m.get("excludedNamespaces"))):
        return MatchResult(False, f"namespace {own_ns} is in match.excludedNamespaces")
    try:
        if "labelSelector" in m and not selector_matches(_map(m["labelSelector"]), labels):
            return MatchResult(False, "labels do not match match.labelSelector")
        ns_selector = m.get("namespaceSelector")
        if ns_selector is not None and (is_namespace or ns):
            ns_labels = labels if is_namespace else (namespaces or {}).get(ns)
            if ns_labels is None:
                reason = f"namespace {ns} is unknown, so match.namespaceSelector cannot be checked"
                return MatchResult(False, reason, undecided=True)
            if not selector_matches(_map(ns_selector), ns_labels):
                return MatchResult(False, f"namespace {own_ns} does not match namespaceSelector")
    except ValueError as error:
        return MatchResult(False, f"invalid selector: {error}")
    name = str(m.get("name") or "")
    if name and not _glob(name, key.name):
        return MatchResult(False, f"name {key.name} does not match match.name {name}")
    return MatchResult(True)


def match(
    constraint: Constraint,
    body: Mapping[str, Any],
    namespaces: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    namespace: str | None = None,
) -> bool:
    return explain_match(constraint, body, namespaces, namespace=namespace).matched


def review_input(constraint: Constraint, body: Mapping[str, Any], namespace: str) -> Any:
    """The `input` document Gatekeeper gives a template for one object at admission."""
    key = ResourceKey.of(body)
    version = str(body.get("apiVersion") or "").rpartition("/")[2]
    kind = {"group": key.api_group, "version": version, "kind": key.kind}
    review = {"object": body, "kind": kind, "name": key.name, "namespace": namespace}
    review |= {"operation": "CREATE", "userInfo": {}}
    return {"review": review, "parameters": constraint.parameters}


def inventory_data(bodies: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """`data.inventory` as Gatekeeper syncs it: cluster/<apiVersion>/<kind>/<name> and
    namespace/<ns>/<apiVersion>/<kind>/<name>."""
    cluster: dict[str, Any] = {}
    by_ns: dict[str, Any] = {}
    for body in bodies:
        key, api_version = ResourceKey.of(body), str(body.get("apiVersion") or "")
        root = by_ns.setdefault(key.namespace, {}) if key.namespace else cluster
        root.setdefault(api_version, {}).setdefault(key.kind, {})[key.name] = body
    return {"inventory": {"cluster": cluster, "namespace": by_ns}}


def violation_messages(value: Any) -> list[str]:
    """The `msg` of each result of a template's `violation` rule."""
    items = value if isinstance(value, list) else []
    return [str(_map(i).get("msg", "")) if isinstance(i, Mapping) else str(i) for i in items]


def find_gatekeeper_objects(
    resources: Iterable[Resource],
) -> tuple[list[ConstraintTemplate], list[Constraint]]:
    templates: list[ConstraintTemplate] = []
    constraints: list[Constraint] = []
    for resource in resources:
        group = _group(resource.body)
        if group == TEMPLATE_GROUP and resource.key.kind == "ConstraintTemplate":
            templates.append(ConstraintTemplate.parse(resource.body, resource.origin))
        elif group == CONSTRAINT_GROUP:
            constraints.append(Constraint.parse(resource.body, resource.origin))
    return templates, constraints


def namespace_labels(resources: Iterable[Resource]) -> dict[str, Mapping[str, Any]]:
    """Labels of the rendered Namespaces, with the one Kubernetes adds to every namespace."""
    return {
        r.key.name: {
            **_map(_map(r.body.get("metadata")).get("labels")),
            "kubernetes.io/metadata.name": r.key.name,
        }
        for r in resources
        if r.key.kind == "Namespace" and r.key.api_group == ""
    }


def _problem(rule: str, severity: Severity, message: str, where: Location, **meta: str) -> Finding:
    return Finding(rule, severity, message, where, metadata=meta)


def evaluate_gatekeeper(
    templates: Sequence[ConstraintTemplate],
    constraints: Sequence[Constraint],
    resources: Sequence[Resource],
    engine: PolicyEngine,
    budget_seconds: float,
    known_namespaces: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[list[Finding], list[Finding]]:
    """(findings, problems): every constraint against every resource it matches."""
    findings: list[Finding] = []
    problems: list[Finding] = []
    namespaces = {**(known_namespaces or {}), **namespace_labels(resources)}
    data = inventory_data(r.body for r in resources)
    kinds = {t.kind for t in templates if t.kind}
    for c in constraints:
        if c.kind not in kinds:
            message = f"constraint {c.kind}/{c.name}: no ConstraintTemplate defines kind {c.kind}"
            problems.append(
                _problem("gatekeeper-template-missing", Severity.WARNING, message, c.origin)
            )
    for template in templates:
        if template.problem:
            message = (
                f"ConstraintTemplate {template.name} ({template.origin.path}): {template.problem}"
            )
            problems.append(
                _problem("gatekeeper-template-invalid", Severity.ERROR, message, template.origin)
            )
            continue
        try:
            compiled = engine.compile(template.modules(), data, budget_seconds)
        except PolicyCompileError as error:
            message = (
                f"ConstraintTemplate {template.name} ({template.origin.path}): {error.message}"
            )
            problems.append(
                _problem("gatekeeper-template-invalid", Severity.ERROR, message, template.origin)
            )
            continue
        try:
            for constraint in (c for c in constraints if c.kind == template.kind):
                found, trouble = _check(compiled, template, constraint, resources, namespaces)
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
    namespaces: Mapping[str, Mapping[str, Any]],
) -> tuple[list[Finding], list[Finding]]:
    meta = {"constraint": f"{constraint.kind}/{constraint.name}", "template": template.name}
    targets: list[Resource] = []
    unknown: set[str] = set()
    for r in resources:
        result = explain_match(constraint, r.body, namespaces, namespace=r.key.namespace)
        if result.matched:
            targets.append(r)
        elif result.undecided:
            unknown.add(r.key.namespace)
    problems: list[Finding] = []
    if unknown:
        message = (
            f"constraint {meta['constraint']} has a namespaceSelector, but namespaces "
            f"{', '.join(sorted(unknown))} are not rendered: their resources were not checked"
        )
        problems.append(
            _problem(
                "gatekeeper-namespace-unknown", Severity.INFO, message, constraint.origin, **meta
            )
        )
    inputs = [review_input(constraint, r.body, r.key.namespace) for r in targets]
    results = compiled.evaluate(f"data.{template.package}.violation", inputs)
    findings: list[Finding] = []
    for resource, result in zip(targets, results, strict=True):
        if result.error:
            message = (
                f"{resource.key.display()}: template {template.name} "
                f"({template.origin.path}) failed: {result.error}"
            )
            problems.append(
                Finding(
                    "policy-evaluation-failed",
                    Severity.ERROR,
                    message,
                    resource.origin,
                    resource.key,
                    metadata=meta,
                )
            )
            continue
        for msg in violation_messages(result.value):
            findings.append(
                Finding(
                    f"gatekeeper-{constraint.kind.lower()}",
                    constraint.severity,
                    f"{resource.key.display()}: {msg}",
                    resource.origin,
                    resource.key,
                    metadata={**meta, "enforcement_action": constraint.enforcement_action},
                )
            )
    return findings, problems
