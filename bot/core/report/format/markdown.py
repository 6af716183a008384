"""The PR comment. Always under GitHub's 65,536-character limit; says so when it cuts."""

from __future__ import annotations

from bot.core.report.format.common import (
    APPROVAL_ICON,
    COMMENT_MARKER,
    SEVERITY_ICON,
    STATUS_ICON,
    approval_lines,
    coverage_summary,
    diffs_by_cluster_and_app,
    plural,
    policy_summary,
    secret_note,
    signatures_summary,
    target_counts,
    validation_summary,
    verdict,
)
from bot.model.diff import ResourceDiff
from bot.model.finding import Finding, Severity
from bot.model.report import Report

COMMENT_LIMIT = 65_536
MAX_FINDING_ROWS = 50
_RESERVED_FOR_FOOTER = 1_500


def _cell(text: str) -> str:
    """Make text safe inside a table cell: one line, no pipes, no raw HTML."""
    flat = " ".join(text.split())
    return flat.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    inner = text.replace("`", "'")
    return f"`{inner}`"


def _fence(body: str, lang: str) -> str:
    fence = "```"
    while fence in body:
        fence += "`"
    return f"{fence}{lang}\n{body}\n{fence}"


def _finding_row(finding: Finding) -> str:
    where = _code(finding.location.display()) if finding.location else ""
    message = _cell(finding.message)
    if finding.hint:
        message += f"<br><sub>{_cell(finding.hint)}</sub>"
    return f"| {SEVERITY_ICON[finding.severity]} | {_code(finding.rule_id)} | {where} | {message} |"


def _header(report: Report) -> list[str]:
    change = report.change
    icon = "❌" if report.failing_findings() or report.trusted_input_error else "✅"
    lines = [
        COMMENT_MARKER,
        f"## {icon} gitops-bot: {verdict(report)}",
        "",
        f"**{report.plan().line()}**",
        "",
        f"`{change.base.ref}` ({change.base.short()}) → `{change.head.ref}` "
        f"({change.head.short()}) · {plural(len(report.changed_files), 'file')} changed",
        "",
        "| Check | Result |",
        "|---|---|",
    ]
    if report.trusted_input_error is None:
        failed = any(c.status.value == "failed" for c in report.coverage)
        lines.append(f"| Render | {'❌' if failed else '✅'} {coverage_summary(report)} |")
    if report.validation is not None:
        summary = report.validation
        icon = "❌" if summary.invalid else "⚠️" if summary.without_schema else "✅"
        lines.append(f"| Validation | {icon} {validation_summary(report)} |")
    if report.policy is not None:
        policy = report.policy
        icon = "❌" if policy.failures else "⚠️" if policy.warnings else "✅"
        lines.append(f"| Policy | {icon} {policy_summary(report)} |")
    if report.signatures is not None:
        unverified = [v for v in report.signatures if v.verdict.value != "verified"]
        icon = "✅" if not unverified else "❌" if report.failing_findings() else "⚠️"
        lines.append(f"| Signatures | {icon} {signatures_summary(report)} |")
    if report.approval is not None:
        status = report.approval.status.label
        lines.append(f"| Approval | {APPROVAL_ICON[status]} {status} |")
    errors, warnings = report.count(Severity.ERROR), report.count(Severity.WARNING)
    findings_icon = "❌" if errors else "⚠️" if warnings else "✅"
    lines.append(
        f"| Findings | {findings_icon} {plural(errors, 'error')}, {plural(warnings, 'warning')} |"
    )
    return lines


def _findings(report: Report) -> list[str]:
    if not report.findings:
        return []
    lines = ["", "### Findings", "", "| | Rule | Where | Message |", "|---|---|---|---|"]
    lines += [_finding_row(f) for f in report.findings[:MAX_FINDING_ROWS]]
    hidden = len(report.findings) - MAX_FINDING_ROWS
    if hidden > 0:
        lines.append(f"| | | | …and {hidden} more (see the check run or `--format json`) |")
    return lines


def _approval(report: Report) -> list[str]:
    if report.approval is None or report.approval.status.label == "skipped":
        return []
    lines = ["", "### Approval", ""]
    for depth, node in approval_lines(report.approval)[1:]:
        icon = APPROVAL_ICON[node.status.label]
        name = _code(node.name) if not node.children else f"**{node.name}**"
        lines.append(f"{'  ' * (depth - 1)}- {icon} {name}: {_cell(node.description)}")
    return lines


def _exceptions(report: Report) -> list[str]:
    if not report.ignored:
        return []
    lines = [
        "",
        f"<details><summary>Exceptions: {plural(len(report.ignored), 'policy result')} "
        "excepted by the repository's policies</summary>",
        "",
        "| | Rule | Where | Message |",
        "|---|---|---|---|",
    ]
    lines += [_finding_row(f) for f in report.ignored[:MAX_FINDING_ROWS]]
    return [*lines, "", "</details>"]


def _commits(report: Report) -> list[str]:
    if not report.signatures:
        return []
    lines = [
        "",
        f"<details><summary>Commits: {signatures_summary(report)}</summary>",
        "",
        "| Commit | Verdict | Signer | Reason |",
        "|---|---|---|---|",
    ]
    for v in report.signatures[:MAX_FINDING_ROWS]:
        signer = f"{v.person} ({v.signer})" if v.person else v.signer
        lines.append(
            f"| {_code(v.sha[:12])} {_cell(v.summary[:60])} | {v.verdict.value} | "
            f"{_cell(signer)} | {_cell(v.reason)} |"
        )
    hidden = len(report.signatures) - MAX_FINDING_ROWS
    if hidden > 0:
        lines.append(f"| | | | …and {hidden} more commits (see `--format json`) |")
    return [*lines, "", "</details>"]


def _coverage(report: Report) -> list[str]:
    if not report.coverage:
        return []
    lines = [
        "",
        f"<details><summary>Render coverage: {plural(len(report.coverage), 'target')}</summary>",
        "",
        "| Target | Status | Resources (base → head) | Note |",
        "|---|---|---|---|",
    ]
    for entry in report.coverage:
        counts = (
            f"{entry.base_resources} → {entry.head_resources}"
            if entry.status.value in ("rendered", "failed")
            else ""
        )
        lines.append(
            f"| {_code(entry.target_id)} | {STATUS_ICON[entry.status]} {entry.status.value} | "
            f"{counts} | {_cell(entry.reason)} |"
        )
    lines += ["", "</details>"]
    return lines


def _resource_block(diff: ResourceDiff) -> str:
    parts = [f"#### {diff.change.symbol} {_code(diff.key.display())}"]
    detail = f"from {_code(diff.origin.display())}"
    if diff.fields:
        shown = ", ".join(_code(f.path) for f in diff.fields[:10])
        more = f" and {len(diff.fields) - 10} more" if len(diff.fields) > 10 else ""
        detail += f" · changed: {shown}{more}"
    parts.append(detail)
    note = secret_note(diff)
    if note:
        parts.append(f"🔒 {_cell(note)}")
    parts.append(_fence(diff.unified_diff, "diff"))
    return "\n\n".join(parts)


def format_markdown(report: Report, limit: int = COMMENT_LIMIT) -> str:
    """Render the comment. Diffs fill what is left of `limit`; what does not fit is counted."""
    head = "\n".join(
        _header(report)
        + _approval(report)
        + _findings(report)
        + _exceptions(report)
        + _commits(report)
        + _coverage(report)
    )
    footer_lines = ["", "---", *(f"<sub>{_cell(n)}</sub>" for n in report.notes)]
    budget = limit - len(head) - _RESERVED_FOR_FOOTER
    body: list[str] = []
    used = 0
    omitted = 0
    clusters = diffs_by_cluster_and_app(report)
    if clusters:
        body += ["", "### Changes"]
    groups = []
    for cluster, apps in clusters:
        for i, (target, title, diffs) in enumerate(apps):
            heading = f"\n**Cluster {_code(cluster)}**\n" if cluster and i == 0 else ""
            detail = f" <sub>{_code(target)}</sub>" if title != target else ""
            groups.append((heading, f"<b>{_cell(title)}</b>{detail}", diffs))
    for heading, title, diffs in groups:
        if heading and not omitted:
            body.append(heading)
        opening = f"\n<details><summary>{title} · {target_counts(diffs)}</summary>\n"
        blocks: list[str] = []
        for diff in diffs:
            block = _resource_block(diff)
            cost = len(block) + 2 + (0 if blocks else len(opening) + len("</details>") + 2)
            if omitted or used + cost > budget:
                omitted += 1
                continue
            blocks += [block, ""]
            used += cost
        if blocks:
            body += [opening, *blocks, "</details>"]
    if omitted:
        body += [
            "",
            f"> ✂️ Truncated: {plural(omitted, 'more resource diff')} not shown to stay under "
            f"{limit:,} characters. Run `gitops-bot review --format text` for the full diff.",
        ]
    return "\n".join([head, *body, *footer_lines]) + "\n"
