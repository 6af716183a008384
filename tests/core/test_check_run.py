"""The two checks as CheckReports: conclusions (approval pending stays in_progress), titles,
annotations, limits; one golden file per check."""

import json
from dataclasses import asdict, replace

import pytest

from bot.core.report.format.check_run import (
    APPROVAL_CHECK,
    MAX_ANNOTATIONS,
    REVIEW_CHECK,
    TEXT_LIMIT,
    approval_check,
    failed_checks,
    merge_group_approval_check,
    review_check,
)
from bot.model.approval import RuleResult, RuleStatus
from bot.model.change import ChangeRequest, Revision
from bot.model.diff import ChangeKind, FieldChange, ResourceDiff
from bot.model.finding import Finding, Severity
from bot.model.policy import PolicySummary
from bot.model.render import CoverageEntry, CoverageStatus, TargetKind
from bot.model.report import Report
from bot.model.resource import Location, ResourceKey
from bot.model.validation import ValidationSummary
from bot.ports import CheckAnnotation, CheckState

HEAD = "b" * 40
URL = "https://bot.example/docs"
CHANGE = ChangeRequest(Revision("main", "a" * 40), Revision("feature", HEAD), "Bump app", 7)


def diff(name, change=ChangeKind.MODIFIED):
    return ResourceDiff(
        ResourceKey("apps", "Deployment", "prod", name),
        change,
        "kustomize:apps/prod",
        Location("apps/prod/deploy.yaml", 3),
        (FieldChange("spec.replicas", change),),
        "+  replicas: 3",
    )


FINDINGS = (
    Finding(
        "schema-invalid",
        Severity.ERROR,
        "spec.replicas: 'x' is not an integer",
        Location("apps/prod/deploy.yaml", 12),
        hint="use a number",
    ),
    Finding(
        "deprecated-api",
        Severity.WARNING,
        "policy/v1beta1 is removed in 1.25",
        Location("apps/prod/pdb.yaml", 0),
    ),
    Finding(
        "render-skipped",
        Severity.INFO,
        "chart repo not allow-listed",
        Location("apps/helm/release.yaml", 4),
    ),
    Finding("commit-unsigned", Severity.ERROR, "commit 1234567 is unsigned", None),
)
PENDING = RuleResult(
    "policy",
    RuleStatus.PENDING,
    "1 of 2 rules pending",
    (
        RuleResult(
            "prod-needs-platform", RuleStatus.PENDING, "needs 1 approval from @acme/platform"
        ),
        RuleResult("docs", RuleStatus.SKIPPED, "no docs changed"),
        RuleResult("rbac", RuleStatus.APPROVED, "approved by @alice"),
    ),
)


def report(findings=FINDINGS, approval=PENDING, **changes) -> Report:
    base = Report(
        change=CHANGE,
        changed_files=(),
        coverage=(
            CoverageEntry(
                "kustomize:apps/prod",
                TargetKind.KUSTOMIZE,
                CoverageStatus.RENDERED,
                base_resources=2,
                head_resources=3,
            ),
            CoverageEntry("helm:apps/helm", TargetKind.HELM, CoverageStatus.SKIPPED, "remote"),
        ),
        diffs=(diff("web"), diff("api", ChangeKind.ADDED)),
        findings=findings,
        notes=("Configuration: .gitops-bot.yaml@aaaaaaa.",),
        validation=ValidationSummary(3, 2, ("1.31",), True, 1, 0, 0),
        policy=PolicySummary("regorus", 1, 4, 3, 12, 11, 0, 1, 0),
        approval=approval,
    )
    return replace(base, **changes)


def as_text(check) -> str:
    return json.dumps(asdict(check), indent=2, ensure_ascii=False) + "\n"


def test_review_check_golden(golden):
    golden("check-run-review.json", as_text(review_check(report(), HEAD, URL)))


def test_approval_check_golden(golden):
    golden("check-run-approval.json", as_text(approval_check(report(), HEAD, URL)))


def test_review_check_concludes_as_the_report_does():
    check = review_check(report(), HEAD, URL)
    assert (check.name, check.state, check.conclusion) == (
        REVIEW_CHECK,
        CheckState.COMPLETED,
        "failure",
    )
    assert check.title == "+1 ~1 -0 resources in 1 app · 2 errors, 1 warning"
    clean = review_check(report(findings=()), HEAD)
    assert clean.conclusion == "success"
    assert clean.text == ""
    warn = review_check(report(findings=FINDINGS[1:2]), HEAD)
    assert warn.conclusion == "neutral"


def test_annotations_come_from_findings_with_a_location():
    check = review_check(report(), HEAD)
    assert check.annotations == (
        CheckAnnotation(
            "apps/prod/deploy.yaml",
            12,
            12,
            "failure",
            "spec.replicas: 'x' is not an integer\nuse a number",
            "schema-invalid",
        ),
        CheckAnnotation(
            "apps/prod/pdb.yaml",
            1,
            1,
            "warning",
            "policy/v1beta1 is removed in 1.25",
            "deprecated-api",
        ),
        CheckAnnotation(
            "apps/helm/release.yaml",
            4,
            4,
            "notice",
            "chart repo not allow-listed",
            "render-skipped",
        ),
    )


def test_a_flood_of_findings_is_capped_and_counted():
    many = tuple(
        Finding("x", Severity.WARNING, "w" * 2000, Location(f"f{i}.yaml", i + 1))
        for i in range(1500)
    )
    check = review_check(report(findings=many), HEAD)
    assert len(check.annotations) == MAX_ANNOTATIONS
    assert "500 more annotations not shown." in check.summary
    assert len(check.text) <= TEXT_LIMIT
    shown = check.text.count("- ⚠️ `x`")
    assert 100 < shown < 200
    assert f"…and {1500 - shown} more findings" in check.text


def test_broken_trusted_input_fails_both_checks():
    broken = Finding(
        "config-invalid",
        Severity.ERROR,
        "approval.rules[0]: needs `name:`",
        Location(".gitops-bot.yaml", 4),
    )
    bad = report(findings=(broken,), trusted_input_error=broken, approval=None, coverage=())
    review = review_check(bad, HEAD)
    assert review.conclusion == "failure"
    assert review.title == "Configuration error: approval.rules[0]: needs `name:`"
    approval = approval_check(bad, HEAD)
    assert (approval.state, approval.conclusion) == (CheckState.COMPLETED, "failure")


def leaf(status):
    return RuleResult("policy", status, "because", (RuleResult("r1", status, "because"),))


@pytest.mark.parametrize(
    ("approval", "state", "conclusion", "title"),
    [
        (None, CheckState.COMPLETED, "success", "No approval rules on the base branch"),
        (
            leaf(RuleStatus.SKIPPED),
            CheckState.COMPLETED,
            "success",
            "No approval rule applies to this change",
        ),
        (leaf(RuleStatus.APPROVED), CheckState.COMPLETED, "success", "Approved: r1"),
        (
            leaf(RuleStatus.DISAPPROVED),
            CheckState.COMPLETED,
            "failure",
            "Changes requested: r1: because",
        ),
        # Pending blocks a required check without a red cross: it stays in progress.
        (
            PENDING,
            CheckState.IN_PROGRESS,
            "",
            "Waiting for approval: 1 rule pending: prod-needs-platform",
        ),
    ],
    ids=["no-rules", "skipped", "approved", "disapproved", "pending"],
)
def test_approval_check_policy(approval, state, conclusion, title):
    check = approval_check(report(approval=approval), HEAD, URL)
    assert (check.name, check.state, check.conclusion, check.title) == (
        APPROVAL_CHECK,
        state,
        conclusion,
        title,
    )
    assert check.details_url == URL


def test_failed_checks_complete_both_and_say_how_to_retry():
    checks = failed_checks(HEAD, "after 3 attempts: OSError: git fetch failed")
    assert [(c.name, c.state, c.conclusion) for c in checks] == [
        (REVIEW_CHECK, CheckState.COMPLETED, "failure"),
        (APPROVAL_CHECK, CheckState.COMPLETED, "failure"),
    ]
    assert all(
        "/gitops-bot review" in c.summary and "git fetch failed" in c.summary for c in checks
    )


def test_merge_group_approval_passes():
    check = merge_group_approval_check(HEAD)
    assert (check.state, check.conclusion) == (CheckState.COMPLETED, "success")


def test_titles_are_one_short_line():
    long = Finding("config-invalid", Severity.ERROR, "x\n" * 500, None)
    check = review_check(report(findings=(long,), trusted_input_error=long), HEAD)
    assert "\n" not in check.title
    assert len(check.title) <= 200
