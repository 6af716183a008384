"""The two required checks on a head SHA, as CheckReports: `gitops-bot/review` (is the change
valid and within policy) and `gitops-bot/approval` (has everyone who must approve done so).

Approval conclusions: approved, or no rule applies → success; changes requested → failure;
pending → the check stays `in_progress` titled "Waiting for approval: …". A pending approval is
not a failure (no red cross on a PR that simply awaits review) yet must block a required check,
exactly as policy-bot's `pending` commit status does; the next review event completes it.
"""

from __future__ import annotations

from bot.core.report.format.common import (
    APPROVAL_ICON,
    approval_lines,
    coverage_summary,
    plural,
    policy_summary,
    signatures_summary,
    validation_summary,
    verdict,
)
from bot.model.approval import RuleResult, RuleStatus
from bot.model.finding import Finding, Severity
from bot.model.render import CoverageStatus
from bot.model.report import Conclusion, Report
from bot.ports import CheckAnnotation, CheckReport, CheckState

REVIEW_CHECK = "gitops-bot/review"
APPROVAL_CHECK = "gitops-bot/approval"
TEXT_LIMIT = 65_535  # GitHub's limit for a check run's summary and text
MAX_TITLE = 200
MAX_ANNOTATIONS = 1_000  # published 50 per API call; the rest is counted in the summary
MAX_TEXT_FINDINGS = 200
RETRY_HINT = "Comment `/gitops-bot review` on the pull request, or re-run the check, to retry."

_LEVEL = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.INFO: "notice"}
_ICON = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}


def _title(value: str) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= MAX_TITLE else flat[: MAX_TITLE - 1] + "…"


def _cap(value: str) -> str:
    if len(value) <= TEXT_LIMIT:
        return value
    cut = "\n\n…(cut to fit GitHub's limit)"
    return value[: TEXT_LIMIT - len(cut)] + cut


def _cell(value: str) -> str:
    return " ".join(value.split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _status_table(report: Report) -> list[str]:
    rows = ["| Check | Result |", "|---|---|"]
    if report.trusted_input_error is None:
        failed = report.coverage_count(CoverageStatus.FAILED)
        rows.append(f"| Render | {'❌' if failed else '✅'} {coverage_summary(report)} |")
    if report.validation is not None:
        icon = "❌" if report.validation.invalid else "✅"
        rows.append(f"| Validation | {icon} {validation_summary(report)} |")
    if report.policy is not None:
        icon = "❌" if report.policy.failures else "⚠️" if report.policy.warnings else "✅"
        rows.append(f"| Policy | {icon} {policy_summary(report)} |")
    if report.signatures is not None:
        rows.append(f"| Signatures | {signatures_summary(report)} |")
    if report.approval is not None:
        label = report.approval.status.label
        rows.append(f"| Approval | {APPROVAL_ICON[label]} {label} |")
    errors, warnings = report.count(Severity.ERROR), report.count(Severity.WARNING)
    rows.append(f"| Findings | {plural(errors, 'error')}, {plural(warnings, 'warning')} |")
    return rows


def _annotation(finding: Finding) -> CheckAnnotation | None:
    location = finding.location
    if location is None or not location.path:
        return None
    line = max(location.line, 1)
    message = finding.message + (f"\n{finding.hint}" if finding.hint else "")
    return CheckAnnotation(
        path=location.path,
        start_line=line,
        end_line=line,
        level=_LEVEL[finding.severity],
        message=message[:64_000],
        title=finding.rule_id[:255],
    )


def _finding_lines(report: Report) -> list[str]:
    """As many findings as fit (each message cut to 500 chars); the rest are counted."""
    lines = ["### Findings", ""]
    budget = TEXT_LIMIT - 200
    shown = 0
    for finding in report.findings[:MAX_TEXT_FINDINGS]:
        where = f" `{finding.location.display()}`" if finding.location else ""
        message = _cell(finding.message)
        message = message if len(message) <= 500 else message[:499] + "…"
        line = f"- {_ICON[finding.severity]} `{finding.rule_id}`{where}: {message}"
        budget -= len(line) + 1
        if budget < 0:
            break
        lines.append(line)
        shown += 1
    hidden = len(report.findings) - shown
    if hidden > 0:
        lines.append(f"- …and {plural(hidden, 'more finding')} (see `--format json`)")
    return lines


def review_check(report: Report, head_sha: str, details_url: str = "") -> CheckReport:
    if report.trusted_input_error is not None:
        title = f"Configuration error: {report.trusted_input_error.message}"
    else:
        title = f"{report.plan().line()} · {verdict(report)}"
    annotations = tuple(a for f in report.findings if (a := _annotation(f)) is not None)
    summary = _status_table(report)
    if len(annotations) > MAX_ANNOTATIONS:
        summary += ["", f"{len(annotations) - MAX_ANNOTATIONS} more annotations not shown."]
    summary += ["", *(f"<sub>{_cell(note)}</sub>" for note in report.notes)]
    return CheckReport(
        name=REVIEW_CHECK,
        head_sha=head_sha,
        state=CheckState.COMPLETED,
        conclusion=report.conclusion().value,
        title=_title(title),
        summary=_cap("\n".join(summary).rstrip() + "\n"),
        text="\n".join(_finding_lines(report)) + "\n" if report.findings else "",
        annotations=annotations[:MAX_ANNOTATIONS],
        details_url=details_url,
    )


def _leaves(result: RuleResult, status: RuleStatus) -> list[RuleResult]:
    """The rules (leaves of the tree) in `status`: what a title names."""
    if not result.children:
        return [result] if result.status is status else []
    return [leaf for child in result.children for leaf in _leaves(child, status)]


def _tree(result: RuleResult) -> str:
    lines = []
    for depth, node in approval_lines(result):
        label = node.status.label
        lines.append(
            f"{'  ' * depth}- {APPROVAL_ICON[label]} **{_cell(node.name)}** ({label}): "
            f"{_cell(node.description)}"
        )
    return _cap("\n".join(lines) + "\n")


def approval_check(report: Report, head_sha: str, details_url: str = "") -> CheckReport:
    base = CheckReport(APPROVAL_CHECK, head_sha, CheckState.COMPLETED, details_url=details_url)
    if report.trusted_input_error is not None:
        return _with(
            base,
            Conclusion.FAILURE,
            "Approval rules unavailable: the base branch's configuration is broken",
            f"`{REVIEW_CHECK}` names the file and line: {report.trusted_input_error.message}\n",
        )
    result = report.approval
    if result is None:
        return _with(base, Conclusion.SUCCESS, "No approval rules on the base branch", "")
    status, summary = result.status, _tree(result)
    named = _leaves(result, status) or [result]
    if status is RuleStatus.DISAPPROVED:
        reasons = "; ".join(f"{leaf.name}: {leaf.description}" for leaf in named)
        return _with(base, Conclusion.FAILURE, f"Changes requested: {reasons}", summary)
    if status is RuleStatus.PENDING:
        title = f"Waiting for approval: {plural(len(named), 'rule')} pending: "
        return CheckReport(
            APPROVAL_CHECK,
            head_sha,
            CheckState.IN_PROGRESS,
            title=_title(title + ", ".join(leaf.name for leaf in named)),
            summary=summary,
            details_url=details_url,
        )
    if status is RuleStatus.SKIPPED:
        return _with(base, Conclusion.SUCCESS, "No approval rule applies to this change", summary)
    approved = ", ".join(leaf.name for leaf in named)
    return _with(base, Conclusion.SUCCESS, f"Approved: {approved}", summary)


def _with(check: CheckReport, conclusion: Conclusion, title: str, summary: str) -> CheckReport:
    return CheckReport(
        name=check.name,
        head_sha=check.head_sha,
        state=check.state,
        conclusion=conclusion.value,
        title=_title(title),
        summary=summary,
        details_url=check.details_url,
    )


def merge_group_approval_check(head_sha: str, details_url: str = "") -> CheckReport:
    """A merge group holds only pull requests whose approval check already passed."""
    return CheckReport(
        APPROVAL_CHECK,
        head_sha,
        CheckState.COMPLETED,
        conclusion=Conclusion.SUCCESS.value,
        title="Approval is enforced on each pull request before it joins the merge queue",
        details_url=details_url,
    )


def in_progress_check(name: str, head_sha: str, details_url: str = "") -> CheckReport:
    return CheckReport(
        name, head_sha, CheckState.IN_PROGRESS, title="Reviewing…", details_url=details_url
    )


def failed_checks(head_sha: str, message: str, details_url: str = "") -> tuple[CheckReport, ...]:
    """Both checks completed as failures when the bot itself gave up: never left pending."""
    summary = f"gitops-bot could not finish: {message}\n\n{RETRY_HINT}\n"
    return tuple(
        CheckReport(
            name,
            head_sha,
            CheckState.COMPLETED,
            conclusion=Conclusion.FAILURE.value,
            title="gitops-bot failed; retry with /gitops-bot review",
            summary=_cap(summary),
            details_url=details_url,
        )
        for name in (REVIEW_CHECK, APPROVAL_CHECK)
    )
