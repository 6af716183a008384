"""A report read back from its JSON formats exactly like the report itself."""

import json

import pytest

from bot.core.report.decode import decode_report
from bot.core.report.format.github import format_github
from bot.core.report.format.json_report import format_json, report_to_dict
from bot.core.report.format.markdown import format_markdown
from bot.core.report.format.sarif import format_sarif
from bot.core.report.format.text import format_text
from bot.model.approval import RuleResult, RuleStatus
from bot.model.change import ChangeRequest, FileChange, FileStatus, Revision
from bot.model.diff import ChangeKind, FieldChange, ResourceDiff, SecretKeyChange
from bot.model.errors import UsageError
from bot.model.finding import Finding, Severity
from bot.model.policy import PolicySummary
from bot.model.render import CoverageEntry, CoverageStatus, TargetKind
from bot.model.report import Report
from bot.model.resource import Location, ResourceKey
from bot.model.signatures import CommitVerdict, Verdict
from bot.model.validation import ValidationSummary

CHANGE = ChangeRequest(Revision("main", "a" * 40), Revision("pr", "b" * 40), "Bump", 12)
SECRET = ResourceKey("", "Secret", "prod", "creds")
FULL = Report(
    change=CHANGE,
    changed_files=(FileChange("apps/a.yaml", FileStatus.MODIFIED),),
    coverage=(
        CoverageEntry("kustomize:apps/a", TargetKind.KUSTOMIZE, CoverageStatus.RENDERED, "", 2, 3),
        CoverageEntry("helm:charts/x", TargetKind.HELM, CoverageStatus.SKIPPED, "library chart"),
    ),
    diffs=(
        ResourceDiff(
            SECRET,
            ChangeKind.MODIFIED,
            "kustomize:apps/a",
            Location("apps/a/secret.yaml", 3),
            (FieldChange("data.token", ChangeKind.MODIFIED),),
            "--- a\n+++ b\n",
            (SecretKeyChange("token", ChangeKind.MODIFIED),),
        ),
    ),
    findings=(
        Finding(
            "schema-invalid",
            Severity.ERROR,
            "bad",
            Location("a.yaml", 2, 4),
            ResourceKey("apps", "Deployment", "prod", "web"),
            "fix it",
            {"kubernetes": "1.31"},
        ),
        Finding("pdb-missing", Severity.WARNING, "no PDB", None),
    ),
    ignored=(Finding("privileged", Severity.ERROR, "excepted", Location("b.yaml", 1)),),
    notes=("This change edits .gitops-bot.yaml",),
    fail_on=Severity.WARNING,
    validation=ValidationSummary(5, 4, ("1.31", "1.33"), True, 1, 0, 2, 1),
    policy=PolicySummary("regorus", 2, 30, 5, 60, 57, 1, 2, 0),
    signatures=(
        CommitVerdict("b" * 40, "Bump", "dev@x", "ssh", Verdict.VERIFIED, "SHA256:k", "Dana", ""),
    ),
    approval=RuleResult(
        "policy",
        RuleStatus.PENDING,
        "",
        (RuleResult("prod", RuleStatus.PENDING, "1 more from @acme/platform"),),
    ),
)
BROKEN_CONFIG = Finding(
    "config-invalid", Severity.ERROR, "x: unknown key", Location(".gitops-bot.yaml", 3)
)
CASES = {
    "full": FULL,
    "never-fails": Report(CHANGE, (), (), (), FULL.findings, fail_on=None),
    "broken-config": Report(
        CHANGE, (), (), (), (BROKEN_CONFIG,), trusted_input_error=BROKEN_CONFIG
    ),
    "empty": Report(CHANGE, (), (), (), ()),
}


@pytest.mark.parametrize("report", list(CASES.values()), ids=list(CASES))
def test_every_format_of_the_decoded_report_is_the_original(report):
    decoded = decode_report(json.loads(format_json(report)))
    assert format_markdown(decoded) == format_markdown(report)
    assert format_text(decoded) == format_text(report)
    assert format_json(decoded) == format_json(report)
    assert format_sarif(decoded.findings, "1") == format_sarif(report.findings, "1")
    assert format_github(decoded.findings) == format_github(report.findings)
    assert (decoded.exit_code(), decoded.conclusion()) == (report.exit_code(), report.conclusion())


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "not a gitops-bot/report/v1 document (schema: 'list')"),
        ({"schema": "gitops-bot/report/v2"}, "(schema: 'gitops-bot/report/v2')"),
        (
            {**report_to_dict(FULL), "findings": [{"rule_id": "x"}]},
            "malformed gitops-bot/report/v1 document: KeyError",
        ),
        ({**report_to_dict(FULL), "fail_on": "sometimes"}, "malformed"),
        (
            {
                **report_to_dict(FULL),
                "coverage": [{"target": "t", "kind": "ansible", "status": "rendered"}],
            },
            "ValueError",
        ),
    ],
    ids=["not-a-mapping", "other-schema", "finding-fields", "bad-fail-on", "bad-enum"],
)
def test_anything_else_is_a_usage_error(doc, message):
    with pytest.raises(UsageError) as raised:
        decode_report(doc)
    assert message in raised.value.message
    assert raised.value.hint == "produce it with `gitops-bot review --format json`"
