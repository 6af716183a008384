"""Gatekeeper support: match semantics, the review input, enforcement actions, bad templates.

Uses the real embedded engine (InProcessRegorusEngine): the templates are Rego v0.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from bot.core.policy.gatekeeper import (
    Constraint,
    ConstraintTemplate,
    evaluate_gatekeeper,
    explain_match,
    find_gatekeeper_objects,
    match,
    review_input,
)
from bot.engines.regorus_engine import InProcessRegorusEngine
from bot.model.finding import Finding, Severity
from bot.model.resource import Location, Resource, ResourceKey

ENGINE = InProcessRegorusEngine()

ALWAYS = """package always

violation[{"msg": msg}] {
  msg := sprintf("%v is not allowed", [input.review.object.metadata.name])
}
"""
ECHO = """package echo

violation[{"msg": json.marshal(input)}] { true }
"""


def obj(
    kind: str = "Pod",
    name: str = "web",
    namespace: str | None = "prod",
    api_version: str = "v1",
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    if labels is not None:
        metadata["labels"] = dict(labels)
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}


def resource(body: Mapping[str, Any], path: str = "apps/app.yaml") -> Resource:
    return Resource(ResourceKey.of(body), body, Location(path, 3), "cluster")


def template_body(kind: str, rego: str | None, libs: list[Any] | None = None) -> dict[str, Any]:
    target: dict[str, Any] = {"target": "admission.k8s.gatekeeper.sh"}
    if rego is not None:
        target["rego"] = rego
    if libs is not None:
        target["libs"] = libs
    return {
        "apiVersion": "templates.gatekeeper.sh/v1",
        "kind": "ConstraintTemplate",
        "metadata": {"name": kind.lower()},
        "spec": {"crd": {"spec": {"names": {"kind": kind}}}, "targets": [target]},
    }


def template(kind: str, rego: str | None, libs: list[str] | None = None) -> ConstraintTemplate:
    return ConstraintTemplate.parse(
        template_body(kind, rego, libs), Location(f"policies/{kind.lower()}.yaml", 1)
    )


def constraint_body(
    kind: str = "Always",
    name: str = "no-web",
    match_spec: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
    action: str | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"match": dict(match_spec or {})}
    if parameters is not None:
        spec["parameters"] = dict(parameters)
    if action is not None:
        spec["enforcementAction"] = action
    return {
        "apiVersion": "constraints.gatekeeper.sh/v1beta1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": spec,
    }


def constraint(**kwargs: Any) -> Constraint:
    return Constraint.parse(constraint_body(**kwargs), Location("policies/constraint.yaml", 1))


def evaluate(
    templates: list[ConstraintTemplate],
    constraints: list[Constraint],
    resources: list[Resource],
    **kwargs: Any,
) -> tuple[list[Finding], list[Finding]]:
    return evaluate_gatekeeper(templates, constraints, resources, ENGINE, 5.0, **kwargs)


def kinds(groups: list[str], names: list[str] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"apiGroups": groups}
    if names is not None:
        entry["kinds"] = names
    return {"kinds": [entry]}


def labels(**match_labels: str) -> dict[str, Any]:
    return {"labelSelector": {"matchLabels": match_labels}}


def expr(key: str, operator: str, *values: str, field: str = "labelSelector") -> dict[str, Any]:
    expression: dict[str, Any] = {"key": key, "operator": operator}
    if values:
        expression["values"] = list(values)
    return {field: {"matchExpressions": [expression]}}


def ns_labels(**match_labels: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": match_labels}}


POD_KINDS = kinds([""], ["Pod"])
DEPLOY = obj("Deployment", api_version="apps/v1")
CLUSTER_ROLE = obj("ClusterRole", namespace=None, api_version="rbac.authorization.k8s.io/v1")
NO_NS = obj(namespace=None)
NS_LABELS = {"prod": {"env": "prod"}, "dev": {"env": "dev"}}
BOTH_KINDS = {"kinds": [*POD_KINDS["kinds"], *kinds(["apps"], ["Deployment"])["kinds"]]}
EVERYTHING = {**POD_KINDS, "namespaces": ["prod"], **labels(app="web"), "name": "web"}

MATCH_CASES = [
    # (id, match spec, object, namespace override, expected)
    ("empty-match-matches-all", {}, DEPLOY, None, True),
    ("kind-and-core-group", POD_KINDS, obj(), None, True),
    ("kind-mismatch", POD_KINDS, DEPLOY, None, False),
    ("group-mismatch", kinds(["apps"], ["Pod"]), obj(), None, False),
    ("group-wildcard", kinds(["*"], ["Deployment"]), DEPLOY, None, True),
    ("kind-wildcard", kinds(["apps"], ["*"]), DEPLOY, None, True),
    ("no-kinds-any-kind", kinds(["apps"]), DEPLOY, None, True),
    ("any-kinds-entry", BOTH_KINDS, DEPLOY, None, True),
    ("namespaces-listed", {"namespaces": ["prod"]}, obj(), None, True),
    ("namespaces-not-listed", {"namespaces": ["default"]}, obj(), None, False),
    ("namespaces-prefix", {"namespaces": ["kube-*"]}, obj(namespace="kube-system"), None, True),
    ("namespaces-suffix", {"namespaces": ["*-system"]}, obj(namespace="kube-pub"), None, False),
    ("namespaces-none-cannot-disqualify", {"namespaces": ["default"]}, NO_NS, None, True),
    ("namespaces-ns-by-name", {"namespaces": ["*-a"]}, obj("Namespace", "x-a", None), None, True),
    ("namespaces-override", {"namespaces": ["prod"]}, NO_NS, "prod", True),
    ("namespaces-override-wins", {"namespaces": ["prod"]}, obj(), "dev", False),
    ("excluded", {"excludedNamespaces": ["kube-*"]}, obj(namespace="kube-system"), None, False),
    ("excluded-other", {"excludedNamespaces": ["kube-*"]}, obj(), None, True),
    ("excluded-cluster-scoped", {"excludedNamespaces": ["*"]}, CLUSTER_ROLE, None, True),
    ("scope-cluster-namespaced", {"scope": "Cluster"}, obj(), None, False),
    ("scope-cluster-cluster", {"scope": "Cluster"}, CLUSTER_ROLE, None, True),
    ("scope-cluster-ns-object", {"scope": "Cluster"}, obj("Namespace", "a", None), None, True),
    ("scope-namespaced-namespaced", {"scope": "Namespaced"}, obj(), None, True),
    ("scope-namespaced-cluster", {"scope": "Namespaced"}, CLUSTER_ROLE, None, False),
    (
        "scope-namespaced-ns-object",
        {"scope": "Namespaced"},
        obj("Namespace", "a", None),
        None,
        False,
    ),
    ("scope-star", {"scope": "*"}, CLUSTER_ROLE, None, True),
    ("labels-match", labels(app="web"), obj(labels={"app": "web"}), None, True),
    ("labels-value-differs", labels(app="web"), obj(labels={"app": "db"}), None, False),
    ("labels-missing", labels(app="web"), obj(), None, False),
    ("labels-empty-selector", {"labelSelector": {}}, obj(), None, True),
    ("expr-in", expr("tier", "In", "a", "b"), obj(labels={"tier": "b"}), None, True),
    ("expr-in-missing", expr("tier", "In", "a"), obj(), None, False),
    ("expr-notin", expr("tier", "NotIn", "a"), obj(labels={"tier": "a"}), None, False),
    ("expr-notin-missing", expr("tier", "NotIn", "a"), obj(), None, True),
    ("expr-exists", expr("tier", "Exists"), obj(labels={"tier": ""}), None, True),
    ("expr-exists-missing", expr("tier", "Exists"), obj(), None, False),
    ("expr-doesnotexist", expr("tier", "DoesNotExist"), obj(), None, True),
    (
        "labels-and-expressions",
        {
            "labelSelector": {
                **labels(app="web")["labelSelector"],
                **expr("t", "DoesNotExist")["labelSelector"],
            }
        },
        obj(labels={"app": "web", "t": "x"}),
        None,
        False,
    ),
    ("ns-selector-match", ns_labels(env="prod"), obj(), None, True),
    ("ns-selector-mismatch", ns_labels(env="prod"), obj(namespace="dev"), None, False),
    (
        "ns-selector-ns-object",
        ns_labels(env="x"),
        obj("Namespace", "o", None, labels={"env": "x"}),
        None,
        True,
    ),
    ("ns-selector-cluster-scoped", ns_labels(env="prod"), CLUSTER_ROLE, None, True),
    (
        "ns-selector-expr",
        expr("env", "NotIn", "prod", field="namespaceSelector"),
        obj(namespace="dev"),
        None,
        True,
    ),
    ("name-exact", {"name": "web"}, obj(), None, True),
    ("name-glob", {"name": "we*"}, obj(), None, True),
    ("name-mismatch", {"name": "db-*"}, obj(), None, False),
    ("all-together", EVERYTHING, obj(labels={"app": "web"}), None, True),
]


@pytest.mark.parametrize(
    ("spec", "body", "namespace", "expected"),
    [case[1:] for case in MATCH_CASES],
    ids=[case[0] for case in MATCH_CASES],
)
def test_match_semantics(
    spec: Mapping[str, Any], body: Mapping[str, Any], namespace: str | None, expected: bool
) -> None:
    c = constraint(match_spec=spec)
    result = explain_match(c, body, NS_LABELS, namespace=namespace)
    assert result.matched is expected
    assert match(c, body, NS_LABELS, namespace=namespace) is expected
    assert (result.reason == "") is expected  # a mismatch always says why
    assert not result.undecided


def test_namespace_selector_with_unknown_namespace_is_undecided() -> None:
    c = constraint(match_spec={"namespaceSelector": {"matchLabels": {"env": "prod"}}})
    result = explain_match(c, obj(namespace="elsewhere"), NS_LABELS)
    assert not result.matched
    assert result.undecided
    assert "elsewhere" in result.reason
    assert not match(c, obj(namespace="elsewhere"))  # no namespaces known at all


def test_unknown_selector_operator_does_not_match_and_says_why() -> None:
    spec = {"labelSelector": {"matchExpressions": [{"key": "a", "operator": "Near"}]}}
    result = explain_match(constraint(match_spec=spec), obj(labels={"a": "b"}))
    assert not result.matched
    assert "Near" in result.reason


def test_review_input_shape() -> None:
    body = obj("Deployment", api_version="apps/v1", namespace=None)
    c = constraint(parameters={"repos": ["x/"]})
    assert review_input(c, body, "prod") == {
        "review": {
            "object": body,
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "name": "web",
            "namespace": "prod",
            "operation": "CREATE",
            "userInfo": {},
        },
        "parameters": {"repos": ["x/"]},
    }


def test_template_sees_the_review_input_and_parameters() -> None:
    body = obj(namespace=None, labels={"app": "web"})
    rendered = Resource(ResourceKey.of(body, "team-a"), body, Location("a.yaml", 1), "c")
    c = constraint(kind="Echo", parameters={"limit": 3})
    findings, problems = evaluate([template("Echo", ECHO)], [c], [rendered])
    assert problems == []
    (finding,) = findings
    prefix = "Pod team-a/web: "
    assert finding.message.startswith(prefix)
    seen = json.loads(finding.message.removeprefix(prefix))
    assert seen == review_input(c, body, "team-a")  # the rendered default namespace
    assert seen["review"]["kind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert seen["parameters"] == {"limit": 3}


def test_violation_becomes_a_finding_on_the_resource() -> None:
    body = obj()
    c = constraint(match_spec=POD_KINDS)
    findings, problems = evaluate(
        [template("Always", ALWAYS)], [c], [resource(body), resource(DEPLOY)]
    )
    assert problems == []
    (finding,) = findings
    assert finding.rule_id == "gatekeeper-always"
    assert finding.severity is Severity.ERROR
    assert finding.message == "Pod prod/web: web is not allowed"
    assert finding.location == Location("apps/app.yaml", 3)
    assert finding.resource == ResourceKey("", "Pod", "prod", "web")
    assert finding.metadata == {
        "constraint": "Always/no-web",
        "template": "always",
        "enforcement_action": "deny",
    }


@pytest.mark.parametrize(
    ("spec", "severity", "action"),
    [
        ({}, Severity.ERROR, "deny"),
        ({"enforcementAction": "deny"}, Severity.ERROR, "deny"),
        ({"enforcementAction": "warn"}, Severity.WARNING, "warn"),
        ({"enforcementAction": "dryrun"}, Severity.WARNING, "dryrun"),
        ({"enforcementAction": "Warn"}, Severity.WARNING, "warn"),
        (
            {
                "enforcementAction": "scoped",
                "scopedEnforcementActions": [{"action": "warn"}, {"action": "dryrun"}],
            },
            Severity.WARNING,
            "warn",
        ),
        (
            {
                "enforcementAction": "scoped",
                "scopedEnforcementActions": [{"action": "warn"}, {"action": "deny"}],
            },
            Severity.ERROR,
            "deny",
        ),
    ],
)
def test_enforcement_actions(spec: Mapping[str, Any], severity: Severity, action: str) -> None:
    body = constraint_body()
    body["spec"].update(spec)
    c = Constraint.parse(body, Location("c.yaml", 1))
    assert c.enforcement_action == action
    findings, _ = evaluate([template("Always", ALWAYS)], [c], [resource(obj())])
    assert [(f.severity, f.metadata["enforcement_action"]) for f in findings] == [
        (severity, action)
    ]


def test_every_constraint_of_a_template_is_applied() -> None:
    strict = constraint(name="everywhere")
    lenient = constraint(name="prod-only", match_spec={"namespaces": ["prod"]}, action="warn")
    pods = [resource(obj(namespace="prod")), resource(obj("Pod", "api", "dev"))]
    findings, _ = evaluate([template("Always", ALWAYS)], [strict, lenient], pods)
    assert sorted((f.metadata["constraint"], f.resource.name) for f in findings if f.resource) == [
        ("Always/everywhere", "api"),
        ("Always/everywhere", "web"),
        ("Always/prod-only", "web"),
    ]


def test_libs_and_the_code_form_are_compiled_with_the_template() -> None:
    lib = 'package lib.names\n\nbad(name) { startswith(name, "w") }\n'
    rego = (
        "package withlib\n\nimport data.lib.names.bad\n\n"
        'violation[{"msg": "bad name"}] { bad(input.review.object.metadata.name) }\n'
    )
    body = template_body("WithLib", None)
    body["spec"]["targets"][0]["code"] = [
        {"engine": "K8sNativeValidation", "source": {"validations": []}},
        {"engine": "Rego", "source": {"rego": rego, "libs": [lib]}},
    ]
    t = ConstraintTemplate.parse(body, Location("t.yaml", 1))
    assert (t.kind, t.package, t.problem, len(t.modules())) == ("WithLib", "withlib", "", 2)
    assert all(m.rego_v0 for m in t.modules())
    findings, problems = evaluate([t], [constraint(kind="WithLib")], [resource(obj())])
    assert problems == []
    assert [f.message for f in findings] == ["Pod prod/web: bad name"]


def test_inventory_holds_the_rendered_resources() -> None:
    rego = """package unique

violation[{"msg": msg}] {
  other := data.inventory.namespace[ns][_]["Service"][name]
  name != input.review.object.metadata.name
  other.spec.port == input.review.object.spec.port
  msg := sprintf("port clashes with %v/%v", [ns, name])
}
"""
    svc_a = {**obj("Service", "a"), "spec": {"port": 80}}
    svc_b = {**obj("Service", "b"), "spec": {"port": 80}}
    svc_c = {**obj("Service", "c", "other"), "spec": {"port": 81}}
    resources = [resource(svc_a), resource(svc_b), resource(svc_c)]
    findings, problems = evaluate(
        [template("Unique", rego)], [constraint(kind="Unique")], resources
    )
    assert problems == []
    assert sorted(f.message for f in findings) == [
        "Service prod/a: port clashes with prod/b",
        "Service prod/b: port clashes with prod/a",
    ]


def test_namespace_selector_uses_rendered_namespaces_and_reports_unknown_ones() -> None:
    namespace = obj("Namespace", "prod", None, labels={"env": "prod"})
    spec = {**POD_KINDS, "namespaceSelector": {"matchLabels": {"env": "prod"}}}
    pods = [resource(obj()), resource(obj("Pod", "api", "dev")), resource(obj("Pod", "x", "ghost"))]
    findings, problems = evaluate(
        [template("Always", ALWAYS)],
        [constraint(match_spec=spec)],
        [resource(namespace), *pods],
        known_namespaces={"dev": {"env": "dev"}},
    )
    assert [f.message for f in findings] == ["Pod prod/web: web is not allowed"]
    (problem,) = problems
    assert problem.rule_id == "gatekeeper-namespace-unknown"
    assert problem.severity is Severity.INFO
    assert "ghost" in problem.message


def test_kubernetes_name_label_is_added_to_rendered_namespaces() -> None:
    spec = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "prod"}}}
    resources = [resource(obj("Namespace", "prod", None)), resource(obj())]
    findings, _ = evaluate([template("Always", ALWAYS)], [constraint(match_spec=spec)], resources)
    assert sorted(f.message for f in findings) == [
        "Namespace prod: prod is not allowed",
        "Pod prod/web: web is not allowed",
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (template_body("Broken", "package broken\n\nviolation[{"), "does not compile"),
        (template_body("", ALWAYS), "names.kind is missing"),
        (template_body("Cel", None), "no Rego"),
        (template_body("NoPkg", "violation[{}] { true }"), "no Rego"),
        (template_body("BadLibs", ALWAYS, libs=[{"not": "a string"}]), "libs must be"),
    ],
)
def test_bad_templates_become_problem_findings(body: dict[str, Any], expected: str) -> None:
    t = ConstraintTemplate.parse(body, Location("policies/bad.yaml", 4))
    good = template("Always", ALWAYS)
    constraints = [constraint(kind=t.kind or "Missing"), constraint()]
    findings, problems = evaluate([t, good], constraints, [resource(obj())])
    invalid = [p for p in problems if p.rule_id == "gatekeeper-template-invalid"]
    assert len(invalid) == 1
    assert invalid[0].severity is Severity.ERROR
    assert invalid[0].location == Location("policies/bad.yaml", 4)
    assert "policies/bad.yaml" in invalid[0].message
    assert expected in invalid[0].message
    assert [f.rule_id for f in findings] == ["gatekeeper-always"]  # the good template still runs


def test_constraint_without_template_is_a_problem() -> None:
    findings, problems = evaluate([], [constraint(kind="Nowhere")], [resource(obj())])
    assert findings == []
    assert [(p.rule_id, p.severity) for p in problems] == [
        ("gatekeeper-template-missing", Severity.WARNING)
    ]
    assert "Nowhere/no-web" in problems[0].message


def test_evaluation_error_is_a_problem_for_that_resource_only() -> None:
    rego = """package numbers

violation[{"msg": msg}] {
  n := to_number(input.review.object.metadata.name)
  msg := sprintf("%v", [n])
}
"""
    resources = [resource(obj(name="abc"), "bad.yaml"), resource(obj(name="12"), "good.yaml")]
    findings, problems = evaluate(
        [template("Numbers", rego)], [constraint(kind="Numbers")], resources
    )
    assert [f.message for f in findings] == ["Pod prod/12: 12"]
    (problem,) = problems
    assert problem.rule_id == "policy-evaluation-failed"
    assert problem.location == Location("bad.yaml", 3)
    assert "policies/numbers.yaml" in problem.message
    assert "Stack backtrace" not in problem.message


def test_find_gatekeeper_objects() -> None:
    v1beta1 = {**template_body("Always", ALWAYS), "apiVersion": "templates.gatekeeper.sh/v1beta1"}
    resources = [
        resource(v1beta1, "t.yaml"),
        resource(constraint_body(), "c.yaml"),
        resource(obj()),
        resource({**obj("ConstraintTemplate"), "apiVersion": "example.com/v1"}),
    ]
    templates, constraints = find_gatekeeper_objects(resources)
    assert [(t.kind, t.name, t.origin.path) for t in templates] == [("Always", "always", "t.yaml")]
    assert [(c.display, c.origin.path) for c in constraints] == [("Always/no-web", "c.yaml")]
