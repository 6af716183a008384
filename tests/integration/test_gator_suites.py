"""`gator verify` on the gatekeeper-library suites in the shared fixtures, with the real engine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.core.memory_tree import InMemoryTree
from bot.core.policy.gator_suite import CaseStatus, check_assertion, find_suites, run_suite
from bot.engines.local_tree import LocalTree
from bot.engines.regorus_engine import InProcessRegorusEngine

pytestmark = pytest.mark.integration

GATEKEEPER = Path(__file__).parents[2].parent / "shared/fixtures/gatekeeper"
if not GATEKEEPER.is_dir():
    raise FileNotFoundError(
        f"gatekeeper fixtures are missing: expected {GATEKEEPER} "
        "(the shared fixtures next to the project checkout)"
    )
SUITES = sorted(GATEKEEPER.glob("*/suite.yaml"))


def test_the_fixtures_hold_suites() -> None:
    assert {p.parent.name for p in SUITES} >= {"requiredlabels", "allowedrepos", "containerlimits"}
    assert find_suites(LocalTree.open(GATEKEEPER)) == [
        p.relative_to(GATEKEEPER).as_posix() for p in SUITES
    ]


@pytest.mark.parametrize("suite", SUITES, ids=[p.parent.name for p in SUITES])
def test_every_case_of_the_library_suite_passes(suite: Path) -> None:
    result = run_suite(LocalTree.open(suite.parent), "suite.yaml", InProcessRegorusEngine())
    assert result.error == ""
    assert result.cases, "the suite ran no cases"
    assert [c for c in result.cases if not c.passed] == []
    assert result.passed


def test_suite_in_a_subdirectory_resolves_paths_from_the_suite_file() -> None:
    result = run_suite(
        LocalTree.open(GATEKEEPER), "allowedrepos/suite.yaml", InProcessRegorusEngine()
    )
    assert result.passed
    assert len(result.cases) == 5


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    copy = tmp_path / "allowedrepos"
    shutil.copytree(GATEKEEPER / "allowedrepos", copy)
    suite = copy / "suite.yaml"
    text = suite.read_text(encoding="utf-8")
    assert old in text
    suite.write_text(text.replace(old, new, 1), encoding="utf-8")
    return copy


def test_a_wrong_count_fails_the_case_with_a_reason(tmp_path: Path) -> None:
    # both-disallowed has exactly 2 violations; claim 3.
    copy = _broken_copy(tmp_path, "    - violations: 2\n", "    - violations: 3\n")
    result = run_suite(LocalTree.open(copy), "suite.yaml", InProcessRegorusEngine())
    assert not result.passed
    (failed,) = result.failures
    assert (failed.test, failed.case, failed.status) == (
        "allowed-repos",
        "both-disallowed",
        CaseStatus.FAILED,
    )
    assert "got 2 violations but want exactly 3" in failed.reason
    assert sum(c.passed for c in result.cases) == 4


def test_a_wrong_yes_no_fails_the_case_with_a_reason(tmp_path: Path) -> None:
    copy = _broken_copy(tmp_path, "violations: no", "violations: yes")  # example-allowed
    result = run_suite(LocalTree.open(copy), "suite.yaml", InProcessRegorusEngine())
    (failed,) = result.failures
    assert failed.case == "example-allowed"
    assert "got 0 violations but want at least 1" in failed.reason


def test_a_wrong_message_fails_the_case_with_a_reason(tmp_path: Path) -> None:
    copy = _broken_copy(tmp_path, "message: container\n", "message: sidecar\n")
    result = run_suite(LocalTree.open(copy), "suite.yaml", InProcessRegorusEngine())
    (failed,) = result.failures
    assert failed.case == "container-disallowed"
    assert "containing 'sidecar'" in failed.reason
    assert "container <nginx>" in failed.reason  # the messages it did get


def test_a_missing_file_fails_its_test_and_not_the_suite(tmp_path: Path) -> None:
    copy = _broken_copy(tmp_path, "template: template.yaml", "template: nowhere.yaml")
    result = run_suite(LocalTree.open(copy), "suite.yaml", InProcessRegorusEngine())
    assert result.error == ""
    assert len(result.failures) == 5
    assert all("nowhere.yaml: no such file" in c.reason for c in result.failures)


def test_unreadable_or_foreign_suite_files_are_suite_errors() -> None:
    tree = InMemoryTree({"a.yaml": b"kind: Pod\n", "b.yaml": b"kind: [\n"})
    engine = InProcessRegorusEngine()
    assert "no Suite" in run_suite(tree, "a.yaml", engine).error
    assert run_suite(tree, "b.yaml", engine).error.startswith("b.yaml")
    assert "no such file" in run_suite(tree, "c.yaml", engine).error
    assert find_suites(tree) == []


def test_skip_invalid_and_empty_assertions() -> None:
    template = (GATEKEEPER / "allowedrepos/template.yaml").read_bytes()
    constraint = (
        GATEKEEPER / "allowedrepos/samples/repo-must-be-openpolicyagent/constraint.yaml"
    ).read_bytes()
    pod = b"kind: Pod\napiVersion: v1\nmetadata: {name: p}\n"
    pod += b"spec: {containers: [{name: c, image: x}]}\n"
    suite = b"""kind: Suite
apiVersion: test.gatekeeper.sh/v1alpha1
tests:
- name: skipped
  skip: true
  template: t.yaml
  constraint: c.yaml
  cases: [{name: one, object: pod.yaml, assertions: [{violations: 1}]}]
- name: invalid
  invalid: true
  template: t.yaml
  constraint: c.yaml
- name: run
  template: t.yaml
  constraint: c.yaml
  cases:
  - name: violating
    object: pod.yaml
    assertions: [{violations: 1}, {message: "^container <c>", violations: yes}]
  - name: no-assertions
    object: pod.yaml
  - name: skipped-case
    skip: true
    object: pod.yaml
"""
    tree = InMemoryTree(
        {"s/suite.yaml": suite, "s/t.yaml": template, "s/c.yaml": constraint, "s/pod.yaml": pod}
    )
    assert find_suites(tree) == ["s/suite.yaml"]
    result = run_suite(tree, "s/suite.yaml", InProcessRegorusEngine())
    statuses = [(c.test, c.case, c.status) for c in result.cases]
    assert statuses == [
        ("skipped", "one", CaseStatus.SKIPPED),
        ("invalid", "", CaseStatus.UNSUPPORTED),
        ("run", "violating", CaseStatus.PASSED),
        ("run", "no-assertions", CaseStatus.FAILED),
        ("run", "skipped-case", CaseStatus.SKIPPED),
    ]
    assert "assertions must be non-empty" in result.cases[3].reason


def test_inventory_becomes_data_inventory() -> None:
    template = b"""apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: uniquename}
spec:
  crd: {spec: {names: {kind: UniqueName}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package uniquename
      violation[{"msg": msg}] {
        other := data.inventory.namespace[ns]["v1"]["Pod"][input.review.object.metadata.name]
        ns != input.review.namespace
        msg := sprintf("name taken in %v", [ns])
      }
"""
    constraint = b"""apiVersion: constraints.gatekeeper.sh/v1beta1
kind: UniqueName
metadata: {name: unique}
spec: {match: {kinds: [{apiGroups: [""], kinds: [Pod]}]}}
"""
    suite = b"""kind: Suite
apiVersion: test.gatekeeper.sh/v1alpha1
tests:
- name: unique
  template: t.yaml
  constraint: c.yaml
  cases:
  - name: taken
    object: pod.yaml
    inventory: [others.yaml]
    assertions: [{violations: 1, message: "taken in b"}]
  - name: free
    object: pod.yaml
    assertions: [{violations: no}]
"""
    pod = b"apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\n"
    others = pod + b"---\n" + pod.replace(b"namespace: a", b"namespace: b")
    files = {"suite.yaml": suite, "t.yaml": template, "c.yaml": constraint, "pod.yaml": pod}
    tree = InMemoryTree({**files, "others.yaml": others})
    result = run_suite(tree, "suite.yaml", InProcessRegorusEngine())
    assert [(c.case, c.status, c.reason) for c in result.cases] == [
        ("taken", CaseStatus.PASSED, ""),
        ("free", CaseStatus.PASSED, ""),
    ]


@pytest.mark.parametrize(
    ("assertion", "messages", "fails_with"),
    [
        ({}, ["a"], ""),  # violations defaults to yes
        ({}, [], "want at least 1"),
        ({"violations": True}, ["a"], ""),
        ({"violations": "no"}, [], ""),
        ({"violations": False}, ["a"], "want none"),
        ({"violations": 0, "message": "b"}, ["a"], ""),
        ({"violations": 2, "message": "^x"}, ["xa", "xb", "y"], ""),
        ({"violations": 1, "message": "^x"}, ["xa", "xb"], "got 2 violations containing '^x'"),
        ({"violations": -1}, [], "nonnegative integer"),
        ({"violations": "maybe"}, [], "nonnegative integer"),
        ({"message": "("}, ["a"], "invalid message regex"),
    ],
)
def test_assertion_semantics(
    assertion: dict[str, object], messages: list[str], fails_with: str
) -> None:
    reason = check_assertion(assertion, messages)
    assert (reason == "") == (fails_with == "")
    assert fails_with in reason
