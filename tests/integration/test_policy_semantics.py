"""conftest semantics, end to end on the real embedded engine (regorus in its worker)."""

from dataclasses import replace

import pytest

from bot.core.memory_tree import InMemoryTree
from bot.core.pipeline import Ports
from bot.core.policy.stage import ChangedResource, evaluate_policies
from bot.core.tree_view import TreeView
from bot.engines.opa_server import OpaServerEngine
from bot.engines.regorus_worker import RegorusEngine
from bot.model.finding import Severity
from bot.model.repo_config import PolicyConfig
from bot.model.resource import Location, Resource, ResourceKey

pytestmark = pytest.mark.integration

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web"},
    "spec": {"hostNetwork": True},
}
CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}}


def resource(body, path="apps/x.yaml", line=1):
    return Resource(ResourceKey.of(body), body, Location(path, line), "t")


RESOURCES = [resource(POD, "apps/pod.yaml", 3), resource(CM, "apps/cm.yaml")]
CONFIG = PolicyConfig(builtin=False, budget_seconds=2.0)


def run(files, config=CONFIG, resources=RESOURCES, changes=()):
    tree = TreeView(InMemoryTree({k: v.encode() for k, v in files.items()}), 1 << 20)
    return evaluate_policies(
        RegorusEngine(), config, trusted=tree, builtin=(), resources=resources, changes=changes
    )


def brief(findings):
    return [
        (f.rule_id, f.severity.label, f.location.display() if f.location else "", f.message)
        for f in findings
    ]


CASES = [
    pytest.param(
        {
            "policy/pods.rego": 'package main\ndeny contains msg if {\n  input.spec.hostNetwork\n  msg := "host network"\n}\n'
        },
        CONFIG,
        [("main.deny", "error", "apps/pod.yaml:3", "host network")],
        (2, 1, 0, 1, 0),
        id="deny-string",
    ),
    pytest.param(
        {
            "policy/w.rego": 'package main\nwarn contains {"msg": "a configmap", "details": {"k": 1}} if input.kind == "ConfigMap"\n'
        },
        CONFIG,
        [("main.warn", "warning", "apps/cm.yaml:1", "a configmap")],
        (2, 1, 1, 0, 0),
        id="warn-object",
    ),
    pytest.param(
        {
            "policy/v.rego": 'package main\nviolation contains {"msg": "pod", "_loc": {"file": "apps/pod.yaml", "line": 9}} if input.kind == "Pod"\n'
        },
        CONFIG,
        [("main.violation", "error", "apps/pod.yaml:9", "pod")],
        (2, 1, 0, 1, 0),
        id="violation-with-loc",
    ),
    pytest.param(
        {
            "policy/p.rego": 'package main\ndeny_host contains "host" if input.spec.hostNetwork\n'
            'deny_other contains "other" if input.kind == "Pod"\n'
            'exception contains rules if { input.metadata.name == "web"; rules := ["host"] }\n'
        },
        CONFIG,
        [("main.deny_other", "error", "apps/pod.yaml:3", "other")],
        (4, 2, 0, 1, 1),
        id="prefixed-and-exception",
    ),
    pytest.param(
        {
            "policy/a.rego": 'package main\ndeny contains "main" if input.kind == "Pod"\n',
            "policy/b.rego": 'package extra\ndeny contains "extra" if input.kind == "Pod"\n',
        },
        replace(CONFIG, namespaces=("extra",)),
        [("extra.deny", "error", "apps/pod.yaml:3", "extra")],
        (2, 1, 0, 1, 0),
        id="namespace-selected",
    ),
    pytest.param(
        {
            "policy/a.rego": 'package main\ndeny contains "main" if input.kind == "Pod"\n',
            "policy/b.rego": 'package extra\ndeny contains "extra" if input.kind == "Pod"\n',
        },
        replace(CONFIG, all_namespaces=True),
        [
            ("extra.deny", "error", "apps/pod.yaml:3", "extra"),
            ("main.deny", "error", "apps/pod.yaml:3", "main"),
        ],
        (4, 2, 0, 2, 0),
        id="all-namespaces",
    ),
    pytest.param(
        {
            "policy/d.rego": 'package main\ndeny contains sprintf("%s is banned", [input.kind]) if input.kind in data.banned.kinds\n',
            "policy/data/banned.yaml": "banned:\n  kinds: [ConfigMap]\n",
        },
        replace(CONFIG, data=("policy/data",)),
        [("main.deny", "error", "apps/cm.yaml:1", "ConfigMap is banned")],
        (2, 1, 0, 1, 0),
        id="data-files",
    ),
    pytest.param(
        {
            "policy/c.rego": 'package main\ndeny contains msg if { count(input) > 1; msg := sprintf("%d documents", [count(input)]) }\n'
        },
        replace(CONFIG, combine=True),
        [("main.deny", "error", "apps/pod.yaml:3", "2 documents")],
        (1, 0, 0, 1, 0),
        id="combine",
    ),
    pytest.param(
        {
            "policy/legacy/old.rego": 'package main\ndeny[msg] {\n  input.kind == "Pod"\n  msg := "v0 syntax"\n}\n'
        },
        replace(CONFIG, rego_v0=("policy/legacy",)),
        [("main.deny", "error", "apps/pod.yaml:3", "v0 syntax")],
        (2, 1, 0, 1, 0),
        id="rego-v0-directory",
    ),
    pytest.param(
        {
            "policy/m.rego": "# METADATA\n# title: no host network\n# custom:\n#   id: no-host-network\n"
            "#   severity: warning\n#   approvers: [platform]\npackage main\n"
            'deny contains "host" if input.spec.hostNetwork\n'
        },
        CONFIG,
        [("no-host-network", "warning", "apps/pod.yaml:3", "host")],
        (2, 1, 0, 1, 0),
        id="metadata-id-severity",
    ),
]


@pytest.mark.parametrize(("files", "config", "expected", "tally"), CASES)
def test_conftest_semantics(files, config, expected, tally):
    findings, exceptions, summary = run(files, config)
    assert brief(findings) == expected
    assert (
        summary.tests,
        summary.passed,
        summary.warnings,
        summary.failures,
        summary.exceptions,
    ) == tally
    assert len(exceptions) == tally[4]


def test_a_violation_with_approvers_is_an_approval_requirement_not_a_failure():
    files = {
        "policy/m.rego": "# METADATA\n# custom:\n#   id: no-host-network\n#   approvers: [platform, '@alice']\n"
        'package main\ndeny contains "host" if input.spec.hostNetwork\n'
    }
    (finding,), _, _ = run(files)
    assert finding.severity is Severity.WARNING
    assert (finding.metadata["approvers"], finding.metadata["requires_approval"]) == (
        "platform,@alice",
        "true",
    )


def test_recursive_rules_are_a_clear_error():
    findings, _, _ = run(
        {"policy/r.rego": 'package main\na := b\nb := a\ndeny contains "x" if a\n'}
    )
    assert [(f.rule_id, f.location.display()) for f in findings] == [
        ("policy-evaluation-failed", "apps/pod.yaml:3"),
        ("policy-evaluation-failed", "apps/cm.yaml:1"),
    ]
    assert "recursion detected when evaluating rule: (policy/r.rego:2:1)" in findings[0].message


def test_parse_error_names_file_line_and_column():
    findings, _, summary = run(
        {"policy/bad.rego": "package main\ndeny contains x if {\n  x := [1,2\n}\n"}
    )
    assert [(f.rule_id, f.location.display(), f.location.column) for f in findings] == [
        ("policy-invalid", "policy/bad.rego:3", 5)
    ]
    assert summary.tests == 0


def test_builtin_error_in_one_document_leaves_the_others():
    files = {
        "policy/z.rego": 'package main\ndeny contains "odd" if { 1 / count(object.get(input, "data", {})) > 0.5; input.kind == "Pod" }\n'
        'deny contains "cm" if input.kind == "ConfigMap"\n'
    }
    pod_without_data = resource({**POD}, "apps/pod.yaml", 3)
    findings, _, _ = run(files, resources=[pod_without_data, RESOURCES[1]])
    assert [(f.rule_id, f.location.display()) for f in findings] == [
        ("policy-evaluation-failed", "apps/pod.yaml:3"),
        ("main.deny", "apps/cm.yaml:1"),
    ]
    assert "divide by zero" in findings[0].message


def test_looping_policy_is_stopped_within_the_budget():
    # 9 million iterations over small arrays: seconds of CPU, no memory to speak of.
    slow = (
        'deny contains "slow" if { input.kind == "Pod"; some x in numbers.range(1, 3000); '
        "some y in numbers.range(1, 3000); x * y < 0 }\n"
    )
    files = {
        "policy/slow.rego": f'package main\n{slow}deny contains "cm" if input.kind == "ConfigMap"\n'
    }
    findings, _, _ = run(files, replace(CONFIG, budget_seconds=1.0))
    assert [f.rule_id for f in findings] == ["policy-evaluation-failed", "main.deny"]
    assert "exceeded the 1 s budget" in findings[0].message


def test_exploding_comprehension_is_stopped():
    boom = 'boom := count([x | some x in numbers.range(1, 100000000000)]) if input.kind == "Pod"\n'
    files = {
        "policy/boom.rego": f'package main\n{boom}deny contains "cm" if input.kind == "ConfigMap"\n'
    }
    findings, _, _ = run(files)
    assert [f.rule_id for f in findings] == ["policy-evaluation-failed", "main.deny"]
    assert "crashed (out of memory?)" in findings[0].message


def test_change_aware_rules_see_base_and_head():
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"}}

    def dep(n):
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"replicas": n},
        }

    files = {
        "policy/change.rego": "package change\n"
        'deny contains "deleting a PVC loses its data" if { input.change == "removed"; input.base.kind == "PersistentVolumeClaim" }\n'
        'warn contains "replicas drop by more than half" if { input.change == "modified"; input.head.spec.replicas * 2 < input.base.spec.replicas }\n'
    }
    changes = [
        ChangedResource(resource(pvc), None, "removed"),
        ChangedResource(resource(dep(10)), resource(dep(4)), "modified"),
        ChangedResource(resource(dep(4)), resource(dep(3)), "modified"),
    ]
    findings, _, _ = run(files, changes=changes)
    assert [(f.rule_id, f.severity, f.message) for f in findings] == [
        ("change.deny", Severity.ERROR, "deleting a PVC loses its data"),
        ("change.warn", Severity.WARNING, "replicas drop by more than half"),
    ]


@pytest.mark.parametrize(
    "call",
    [
        'http.send({"method": "get", "url": "http://127.0.0.1:9"})',
        'net.lookup_ip_addr("example.com")',
        "opa.runtime().env",
    ],
    ids=["http-send", "dns", "environment"],
)
def test_network_and_environment_builtins_are_refused(call):
    files = {"policy/leak.rego": f'package main\n\nleak := {call}\n\ndeny contains "x" if leak\n'}
    findings, _, summary = run(files)
    assert [(f.rule_id, f.location.display()) for f in findings] == [
        ("policy-invalid", "policy/leak.rego:3")
    ]
    assert (
        "is not allowed: policies get no network access and no environment" in findings[0].message
    )
    assert summary.tests == 0


# Engine parity: the same conftest semantics through a real OPA (its Go engine behind OPA's REST
# API on a loopback server), selected the way a repository selects it: `opa.url`.
V1_CASES = [c for c in CASES if c.id != "rego-v0-directory"]  # the loopback OPA parses v1 only


@pytest.mark.parametrize(("files", "config", "expected", "tally"), V1_CASES)
def test_opa_server_gives_the_same_findings(opa_server, files, config, expected, tally):
    ports = Ports(runner=None, schemas=None, policies=RegorusEngine(), opa_server=OpaServerEngine)  # type: ignore[arg-type]
    engine = ports.policy_engine(opa_server.url)
    assert engine.name == "opa"
    tree = TreeView(InMemoryTree({k: v.encode() for k, v in files.items()}), 1 << 20)
    findings, _, summary = evaluate_policies(
        engine, config, trusted=tree, builtin=(), resources=RESOURCES, changes=()
    )
    assert brief(findings) == expected
    assert (
        summary.tests,
        summary.passed,
        summary.warnings,
        summary.failures,
        summary.exceptions,
    ) == tally
