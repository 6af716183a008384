import pytest

from bot.core.pipeline import Ports, review
from bot.core.render.manifests import Origin, resources_from_documents
from bot.core.safe_yaml import load_yaml_documents
from bot.model.approval import ForgeFacts, Review, RuleStatus
from bot.model.change import ChangeRequest, Revision
from bot.model.diff import ChangeKind
from bot.model.finding import Severity
from bot.model.render import CoverageStatus
from bot.model.report import ExitCode
from bot.model.resource import Location
from bot.ports import Command, CommandFailure, CommandResult
from tests.core.fakes import FakeCatalog, FakePolicyEngine, FakeRunner, FakeTree, ok

CATALOG = FakeCatalog({"1.37": {("", "v1", "ConfigMap"): {"type": "object"}}})

CHANGE = ChangeRequest(Revision("main", "a" * 40), Revision("pr", "b" * 40))
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: '{value}'\n"
BASE = {
    "k/app/kustomization.yaml": "resources: [cm.yaml]\n",
    "k/app/cm.yaml": CM.format(name="app", value="1"),
    "k/other/kustomization.yaml": "resources: [cm.yaml]\n",
    "k/other/cm.yaml": CM.format(name="other", value="1"),
    "plain/a.yaml": CM.format(name="plain", value="1"),
}


def kustomize_from_tree(command: Command, tree: FakeTree) -> CommandResult:
    """Stand-in for kustomize: concatenates the target's cm.yaml, namespaced like an overlay."""
    path = command.args[0].removeprefix("./")
    body = tree.read(f"{path}/cm.yaml").decode()
    return ok(body.replace("metadata:\n", "metadata:\n  namespace: prod\n"))


def run(base_files, head_files, respond=kustomize_from_tree):
    runner = FakeRunner(respond)
    report = review(
        CHANGE,
        FakeTree(base_files, "base"),
        FakeTree(head_files, "head"),
        Ports(runner, CATALOG, FakePolicyEngine()),
    )
    return report, runner


def test_only_the_affected_kustomization_runs():
    head = {**BASE, "k/app/cm.yaml": CM.format(name="app", value="2")}
    report, runner = run(BASE, head)
    assert [c.args for c in runner.calls] == [
        (
            "./k/app",
            "--load-restrictor=LoadRestrictionsRootOnly",
            "--enable-alpha-plugins=false",
            "--enable-helm=false",
        ),
    ] * 2
    assert {c.target_id: c.status for c in report.coverage} == {
        "kustomize:k/app": CoverageStatus.RENDERED,
        "kustomize:k/other": CoverageStatus.UNCHANGED,
        "plain:plain": CoverageStatus.UNCHANGED,
    }
    (diff,) = report.diffs
    assert (diff.key.display(), diff.change, [f.path for f in diff.fields]) == (
        "ConfigMap prod/app",
        ChangeKind.MODIFIED,
        ["data.k"],
    )
    assert diff.origin.display() == "k/app/cm.yaml:1"
    assert report.plan().line() == "+0 ~1 -0 resource in 1 app"
    assert report.exit_code() is ExitCode.CLEAN


def test_render_failure_is_a_finding_and_the_rest_still_renders():
    head = {
        **BASE,
        "k/app/cm.yaml": CM.format(name="app", value="2"),
        "plain/a.yaml": CM.format(name="plain", value="2"),
    }

    def failing(command, tree):
        return CommandResult(
            b"", "Error: accumulating resources: boom\n", 1, CommandFailure.EXIT_STATUS
        )

    report, _ = run(BASE, head, failing)
    assert [(f.rule_id, f.severity, f.location.display()) for f in report.findings] == [
        ("render-failed", Severity.ERROR, "k/app/kustomization.yaml:1"),
    ]
    assert "boom" in report.findings[0].message
    assert [d.key.name for d in report.diffs] == ["plain"]
    assert report.exit_code() is ExitCode.FINDINGS


def test_missing_tool_names_the_env_var():
    head = {**BASE, "k/app/cm.yaml": CM.format(name="app", value="2")}
    message = "kustomize not found: install it or set GITOPS_BOT_KUSTOMIZE to its path"

    def missing(command, tree):
        return CommandResult(b"", "", None, CommandFailure.TOOL_MISSING, message)

    report, _ = run(BASE, head, missing)
    assert report.findings[0].rule_id == "tool-missing"
    assert "GITOPS_BOT_KUSTOMIZE" in report.findings[0].message


def test_config_is_read_from_base_only():
    base = {**BASE, ".gitops-bot.yaml": "fail_on: never\n"}
    head = {
        **base,
        ".gitops-bot.yaml": "fail_on: [broken\n",
        "plain/a.yaml": "apiVersion: v1\nkind: [\n",
    }
    report, _ = run(base, head)
    assert report.trusted_input_error is None
    assert [f.rule_id for f in report.findings] == ["yaml-malformed"]
    assert report.exit_code() is ExitCode.CLEAN  # the base says fail_on: never
    assert any("edits .gitops-bot.yaml" in note for note in report.notes)


def test_broken_base_config_stops_with_exit_2():
    base = {**BASE, ".gitops-bot.yaml": "render:\n  timeout: 3\n"}
    report, runner = run(base, base)
    assert runner.calls == []
    assert report.trusted_input_error is not None
    assert report.trusted_input_error.location.display() == ".gitops-bot.yaml:2"
    assert report.exit_code() is ExitCode.USAGE_OR_TRUSTED_INPUT


def test_half_objects_are_errors_and_non_manifests_warnings():
    docs = load_yaml_documents("kind: ConfigMap\n---\nkey: value\n", "a.yaml").documents
    _, findings = resources_from_documents(
        docs, "t", lambda d, b: Origin(Location("a.yaml", d.line))
    )
    assert [(f.severity, f.message) for f in findings] == [
        (Severity.ERROR, "document has no apiVersion; it was not rendered"),
        (Severity.WARNING, "document has no apiVersion/kind; it was not rendered"),
    ]


APPROVAL = """approval:
  rules:
    - name: app-needs-owner
      if: {rendered: {kinds: [ConfigMap]}}
      requires: {count: 1, users: [olga]}
"""


def test_review_evaluates_the_approval_gate_with_the_forges_reviews():
    base = {**BASE, ".gitops-bot.yaml": APPROVAL}
    head = {**base, "k/app/cm.yaml": CM.format(name="app", value="2")}
    report, _ = run(base, head)
    assert report.approval.status is RuleStatus.PENDING
    assert (
        report.approval.children[0].description == "1 more from @olga: ConfigMap prod/app modified"
    )
    reviewed = review(
        CHANGE,
        FakeTree(base, "base"),
        FakeTree(head, "head"),
        Ports(
            FakeRunner(kustomize_from_tree),
            CATALOG,
            FakePolicyEngine(),
            forge_facts=ForgeFacts(author="dev", reviews=(Review("olga", "approved", "b" * 40),)),
        ),
    )
    assert reviewed.approval.status is RuleStatus.APPROVED


KEEP = """approval:
  rules:
    - name: app-needs-owner
      if: {rendered: {kinds: [ConfigMap]}}
      requires: {count: 1, users: [olga], keep_if_rendered_unchanged: KEEP}
"""
FIRST_HEAD, REBASED_HEAD = "c" * 40, "d" * 40


def _review_at(base_files, head_files, head_sha, forge_facts=None):
    change = ChangeRequest(Revision("main", "a" * 40), Revision("pr", head_sha))
    ports = Ports(FakeRunner(kustomize_from_tree), CATALOG, FakePolicyEngine())
    if forge_facts is not None:
        ports = Ports(ports.runner, ports.schemas, ports.policies, forge_facts=forge_facts)
    return review(change, FakeTree(base_files, "base"), FakeTree(head_files, "head"), ports)


@pytest.mark.parametrize(
    ("keep", "rebased_base_edit", "rebased_head_edit", "expected"),
    [
        # A rebase onto a base that changed something else: the PR does the same thing.
        ("true", {"k/other/cm.yaml": CM.format(name="other", value="9")}, {}, RuleStatus.APPROVED),
        # A comment-only commit on top: the rendered change is byte-identical.
        ("true", {}, {"k/app/notes.md": "why\n"}, RuleStatus.APPROVED),
        # The rebased head renders differently: the approval no longer covers it.
        ("true", {}, {"k/app/cm.yaml": CM.format(name="app", value="3")}, RuleStatus.PENDING),
        # The base changed the very resource the PR changes: the change is not the same.
        ("true", {"k/app/cm.yaml": CM.format(name="app", value="0")}, {}, RuleStatus.PENDING),
        # Without the option, any new head SHA drops the approval (GitHub's dismissal).
        ("false", {"k/other/cm.yaml": CM.format(name="other", value="9")}, {}, RuleStatus.PENDING),
    ],
    ids=["rebase-kept", "comment-only-kept", "render-changed", "base-touched-same", "option-off"],
)
def test_keep_if_rendered_unchanged_across_a_rebase(
    keep, rebased_base_edit, rebased_head_edit, expected
):
    base = {**BASE, ".gitops-bot.yaml": KEEP.replace("KEEP", keep)}
    head = {**base, "k/app/cm.yaml": CM.format(name="app", value="2")}
    first = _review_at(base, head, FIRST_HEAD)
    assert first.rendered_fingerprint
    rebased_base = {**base, **rebased_base_edit}
    rebased_head = {**rebased_base, "k/app/cm.yaml": head["k/app/cm.yaml"], **rebased_head_edit}
    facts = ForgeFacts(
        author="dev",
        reviews=(Review("olga", "approved", FIRST_HEAD),),
        rendered_fingerprints={FIRST_HEAD: first.rendered_fingerprint},
    )
    rebased = _review_at(rebased_base, rebased_head, REBASED_HEAD, facts)
    assert rebased.approval.status is expected


def test_the_fingerprint_sees_secret_values_but_never_shows_them():
    secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {v}\n"
    base = {**BASE, "k/app/cm.yaml": secret.format(v="old")}
    one = _review_at(base, {**base, "k/app/cm.yaml": secret.format(v="hunter2")}, FIRST_HEAD)
    two = _review_at(base, {**base, "k/app/cm.yaml": secret.format(v="s3cret")}, FIRST_HEAD)
    # Both diffs are redacted to the same text, yet the fingerprints differ.
    assert [d.unified_diff for d in one.diffs] == [d.unified_diff for d in two.diffs]
    assert one.rendered_fingerprint != two.rendered_fingerprint
    assert "hunter2" not in one.rendered_fingerprint
