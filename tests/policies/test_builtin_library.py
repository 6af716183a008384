"""The built-in policy library under policies/.

Its Rego unit tests pass on the embedded engine (regorus), every rule carries the metadata the
bot relies on (a stable id, a severity, a rationale, a remediation), every rule is documented in
docs/policies.md, and the rules behave when the bot queries them: whole packages per document
(or once over all documents for combine-mode rules), on good, bad and malformed manifests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.engines.regorus_engine import InProcessPolicies, InProcessRegorusEngine
from bot.ports import PolicyModule

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
DOCS = ROOT / "docs" / "policies.md"

_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_\w+)\b", re.MULTILINE)
_RESULT_RULE = re.compile(r"^(deny|warn|violation)\w*\b", re.MULTILINE)
_KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_KINDS = {"error": "deny", "warning": "warn"}


def _relative(path: Path) -> str:
    return path.relative_to(POLICIES).as_posix()


def _is_test(path: Path) -> bool:
    return path.name.endswith("_test.rego")


def _package(source: str) -> str:
    found = _PACKAGE.search(source)
    return found.group(1) if found else ""


def _metadata(source: str) -> Mapping[str, Any] | None:
    """The package-scope `# METADATA` block (the comment block right before `package`), or
    None when there is none; a block that is not valid YAML reads as {"yaml-error": ...}."""
    lines = source.splitlines()
    for start, line in enumerate(lines):
        if line.strip() != "# METADATA":
            continue
        end = start + 1
        while end < len(lines) and lines[end].startswith("#"):
            end += 1
        if end < len(lines) and lines[end].startswith("package "):
            text = "\n".join(line[1:].removeprefix(" ") for line in lines[start + 1 : end])
            try:
                loaded = yaml.safe_load(text)
            except yaml.YAMLError as error:
                return {"yaml-error": str(error)}
            return loaded if isinstance(loaded, Mapping) else {}
    return None


@dataclass(frozen=True)
class Rule:
    path: Path
    source: str
    package: str
    meta: Mapping[str, Any]

    @property
    def custom(self) -> Mapping[str, Any]:
        custom = self.meta.get("custom")
        return custom if isinstance(custom, Mapping) else {}

    @property
    def rule_id(self) -> str:
        return str(self.custom.get("id", ""))

    @property
    def combine(self) -> bool:
        return self.custom.get("input") == "combine"


REGO_FILES = sorted(POLICIES.rglob("*.rego"))
TEST_FILES = [p for p in REGO_FILES if _is_test(p)]
RULE_FILES = [p for p in REGO_FILES if not _is_test(p) and p.parent.name != "lib"]


def _rules() -> list[Rule]:
    rules = []
    for path in RULE_FILES:
        source = path.read_text(encoding="utf-8")
        rules.append(Rule(path, source, _package(source), _metadata(source) or {}))
    return rules


RULES = _rules()


def _modules() -> list[PolicyModule]:
    return [
        PolicyModule(f"policies/{_relative(p)}", p.read_text(encoding="utf-8")) for p in REGO_FILES
    ]


def _compile(data: Mapping[str, Any]) -> InProcessPolicies:
    return InProcessRegorusEngine().compile(_modules(), data, 10)


@cache
def _test_engine() -> InProcessPolicies:
    return _compile({})


def _test_cases() -> list[Any]:
    cases = []
    for path in TEST_FILES:
        source = path.read_text(encoding="utf-8")
        package = _package(source)
        for rule in dict.fromkeys(_TEST_RULE.findall(source)):
            cases.append(pytest.param(package, rule, id=f"{_relative(path)}::{rule}"))
    return cases


# --- The Rego unit tests ------------------------------------------------------------------------


@pytest.mark.parametrize(("package", "rule"), _test_cases())
def test_rego_unit_test_passes_on_regorus(package: str, rule: str) -> None:
    [result] = _test_engine().evaluate(f"data.{package}.{rule}", [{}])
    assert result.error == ""
    assert result.value is True, f"data.{package}.{rule} is {result.value!r}, not true"


def test_every_test_file_has_tests_in_its_own_package() -> None:
    for path in TEST_FILES:
        source = path.read_text(encoding="utf-8")
        assert _package(source).endswith("_test"), path
        assert _TEST_RULE.search(source), f"{path} has no test_ rules"


# --- Metadata and layout ------------------------------------------------------------------------


def test_library_has_at_least_25_rules() -> None:
    assert len(RULES) >= 25


def test_rule_ids_are_unique_kebab_case() -> None:
    ids = [rule.rule_id for rule in RULES]
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)
    for rule_id in ids:
        assert _KEBAB.match(rule_id), rule_id


@pytest.mark.parametrize("rule", RULES, ids=lambda r: _relative(r.path))
def test_rule_metadata_and_layout(rule: Rule) -> None:
    area, name = rule.path.parent.name, rule.path.stem
    assert rule.package == f"gitops_bot.{area}.{name}"
    assert rule.meta, "no package-scope # METADATA block"
    assert "yaml-error" not in rule.meta, rule.meta.get("yaml-error")
    assert isinstance(rule.meta.get("title"), str)
    assert rule.meta["title"].strip()
    for key in ("id", "severity", "rationale", "remediation"):
        value = rule.custom.get(key)
        assert isinstance(value, str), f"custom.{key} missing"
        assert value.strip(), f"custom.{key} empty"
    severity = rule.custom["severity"]
    assert severity in _KINDS
    # A rule named after its severity: error rules are `deny`, warnings are `warn`.
    assert set(_RESULT_RULE.findall(rule.source)) == {_KINDS[severity]}
    test_file = rule.path.with_name(f"{name}_test.rego")
    assert test_file.exists(), f"missing {test_file.name}"
    assert _package(test_file.read_text(encoding="utf-8")) == f"{rule.package}_test"


def test_helpers_have_tests() -> None:
    assert (POLICIES / "lib" / "kubernetes.rego").exists()
    assert (POLICIES / "lib" / "kubernetes_test.rego").exists()
    for path in REGO_FILES:
        if path.parent.name == "lib":
            assert _metadata(path.read_text(encoding="utf-8")) is None, (
                f"{path}: helpers have no id"
            )


def test_every_rule_is_documented() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    headings = set(re.findall(r"^## (\S+)\s*$", docs, re.MULTILINE))
    missing = [rule.rule_id for rule in RULES if rule.rule_id not in headings]
    assert not missing, f"docs/policies.md has no section for {missing}"


# --- The rules as the bot queries them ----------------------------------------------------------

PARAMETERS = {
    "allowed_registries": ["registry.example.com"],
    "required_labels": ["app", "team"],
}

LABELS = {"app": "web", "team": "payments"}
META = {"name": "web", "namespace": "shop", "labels": LABELS}

GOOD_CONTAINER = {
    "name": "app",
    "image": "registry.example.com/shop/web:1.4.2",
    "ports": [{"containerPort": 8080}],
    "env": [{"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}],
    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
    "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    },
}

GOOD_POD_SPEC = {
    "automountServiceAccountToken": False,
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [GOOD_CONTAINER],
    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
}

BAD_CONTAINER = {
    "name": "app",
    "image": "nginx",
    "ports": [{"containerPort": 80, "hostPort": 80}],
    "env": [{"name": "DB_PASSWORD", "value": "hunter2"}],
    "securityContext": {
        "privileged": True,
        "runAsUser": 0,
        "capabilities": {"add": ["SYS_ADMIN"]},
        "seccompProfile": {"type": "Unconfined"},
    },
}

BAD_POD_SPEC = {
    "hostNetwork": True,
    "containers": [BAD_CONTAINER],
    "volumes": [{"name": "root", "hostPath": {"path": "/"}}, {"name": "tmp", "emptyDir": {}}],
}


def deployment(spec: Mapping[str, Any], metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": dict(metadata),
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": dict(spec)},
        },
    }


def rbac(kind: str, body: Mapping[str, Any], metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": dict(metadata),
    } | dict(body)


GOOD_DOCUMENTS: list[dict[str, Any]] = [
    deployment(GOOD_POD_SPEC, META),
    {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": META,
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}},
    },
    {"apiVersion": "v1", "kind": "Service", "metadata": META, "spec": {"type": "ClusterIP"}},
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": META,
        "spec": {
            "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
            "rules": [{"host": "shop.example.com"}],
        },
    },
    {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": META,
        "automountServiceAccountToken": False,
    },
    rbac("Role", {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}, META),
    rbac("RoleBinding", {"roleRef": {"kind": "ClusterRole", "name": "view"}}, META),
]

BAD_DOCUMENTS: list[dict[str, Any]] = [
    deployment(BAD_POD_SPEC, {"name": "web", "namespace": "default"}),
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "lb"},
        "spec": {"type": "LoadBalancer"},
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "np"},
        "spec": {"type": "NodePort"},
    },
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web"},
        "spec": {"rules": [{"host": "*.example.com"}]},
    },
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web"}},
    rbac(
        "ClusterRole",
        {"rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]},
        {"name": "god"},
    ),
    rbac(
        "ClusterRoleBinding",
        {
            "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "ci", "namespace": "ci"}],
        },
        {"name": "ci"},
    ),
]

MALFORMED_DOCUMENTS: list[Any] = [
    None,
    3,
    "text",
    [],
    {},
    {"kind": 3, "metadata": "x"},
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": 3, "namespace": 5, "labels": "x"},
        "spec": {
            "replicas": "2",
            "template": {
                "metadata": {"labels": [1]},
                "spec": {
                    "hostNetwork": "yes",
                    "securityContext": [],
                    "initContainers": {"name": "x"},
                    "containers": [
                        {
                            "name": 1,
                            "image": 5,
                            "env": "x",
                            "ports": "p",
                            "securityContext": "s",
                            "resources": {"requests": "r", "limits": [1]},
                        },
                        {
                            "name": "c",
                            "image": "",
                            "env": [1, {"name": 2, "value": 3}, {"name": "TOKEN", "value": 7}],
                            "ports": [1, {"hostPort": "80"}],
                            "securityContext": {
                                "runAsUser": "0",
                                "seccompProfile": "x",
                                "capabilities": {"add": "SYS_ADMIN", "drop": [1]},
                            },
                        },
                        "str",
                        None,
                    ],
                    "volumes": [1, {"name": 1, "emptyDir": None}, {"hostPath": "x"}],
                },
            },
        },
    },
    {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "c"},
        "spec": {"jobTemplate": 1},
    },
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": "x"},
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "i"},
        "spec": {"tls": [1, {"hosts": "a"}], "rules": [1, {"host": 3}, {"host": "*"}]},
    },
    rbac("ClusterRole", {"rules": [1, {"verbs": "*", "resources": [1, "*"]}]}, {"name": "r"}),
    rbac("ClusterRoleBinding", {"roleRef": "x", "subjects": "x"}, {"name": "b"}),
    rbac(
        "RoleBinding",
        {"roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}, "subjects": [1]},
        {},
    ),
    {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "p"},
        "spec": {
            "selector": {"matchLabels": "x", "matchExpressions": [1, {"key": 1, "operator": "In"}]}
        },
    },
]

MALFORMED_PARAMETERS = {
    "allowed_registries": "x",
    "required_labels": {"a": 1},
    "allowed_capabilities": 3,
}


def _fired(
    compiled: InProcessPolicies, rules: Sequence[Rule], documents: Sequence[Any]
) -> dict[str, list[Any]]:
    """Every rule's results as the bot reads them: `data.<package>` per document, or once over
    all of them as conftest's --combine array for combine-mode rules."""
    combined = [{"path": f"manifests/{i}.yaml", "contents": doc} for i, doc in enumerate(documents)]
    fired: dict[str, list[Any]] = {}
    for rule in rules:
        inputs = [combined] if rule.combine else list(documents)
        for result in compiled.evaluate(f"data.{rule.package}", inputs):
            assert result.error == "", f"{rule.rule_id}: {result.error}"
            assert isinstance(result.value, Mapping), rule.rule_id
            for name, values in result.value.items():
                if _RESULT_RULE.fullmatch(name) and values:
                    fired.setdefault(rule.rule_id, []).extend(values)
    return fired


def test_compliant_resources_pass_every_rule() -> None:
    fired = _fired(_compile({"gitops_bot": {"parameters": PARAMETERS}}), RULES, GOOD_DOCUMENTS)
    assert fired == {}


def test_every_rule_fires_on_the_bad_resources() -> None:
    fired = _fired(_compile({"gitops_bot": {"parameters": PARAMETERS}}), RULES, BAD_DOCUMENTS)
    assert sorted(fired) == sorted(rule.rule_id for rule in RULES)
    for rule_id, results in fired.items():
        for result in results:
            assert isinstance(result, Mapping), rule_id
            assert isinstance(result.get("details"), Mapping), rule_id
            # Every message starts with the resource's identity: "Deployment web: ...".
            assert re.match(r"^[A-Z]\w+ [\w.*()-]+: \S", result["msg"]), result["msg"]
    # A secret's value never reaches a message or its details.
    assert "hunter2" not in repr(fired)


def test_parameterised_rules_are_inactive_without_parameters() -> None:
    fired = _fired(_compile({}), RULES, BAD_DOCUMENTS)
    assert "image-registry-not-allowed" not in fired
    assert "required-labels" not in fired
    assert "image-latest-tag" in fired


def test_malformed_documents_never_raise() -> None:
    compiled = _compile({"gitops_bot": {"parameters": MALFORMED_PARAMETERS}})
    _fired(compiled, RULES, MALFORMED_DOCUMENTS)  # asserts that no evaluation errs
    _fired(_compile({"gitops_bot": {"parameters": PARAMETERS}}), RULES, MALFORMED_DOCUMENTS)
