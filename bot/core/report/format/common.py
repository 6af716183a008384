"""Vocabulary shared by the formatters."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from bot.model.approval import RuleResult
from bot.model.diff import ResourceDiff
from bot.model.finding import Severity
from bot.model.render import CoverageStatus
from bot.model.report import Report

COMMENT_MARKER = "<!-- gitops-bot:review -->"

SEVERITY_ICON = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}
STATUS_ICON = {
    CoverageStatus.RENDERED: "✅",
    CoverageStatus.UNCHANGED: "➖",
    CoverageStatus.SKIPPED: "⏭️",
    CoverageStatus.FAILED: "❌",
}


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def verdict(report: Report) -> str:
    if report.trusted_input_error is not None:
        return "configuration error"
    errors, warnings = report.count(Severity.ERROR), report.count(Severity.WARNING)
    if not errors and not warnings:
        return "no problems found"
    return ", ".join(
        part
        for part in (
            plural(errors, "error") if errors else "",
            plural(warnings, "warning") if warnings else "",
        )
        if part
    )


def coverage_summary(report: Report) -> str:
    return " · ".join(
        f"{report.coverage_count(status)} {status.value}" for status in CoverageStatus
    )


def diffs_by_target(diffs: Sequence[ResourceDiff]) -> dict[str, list[ResourceDiff]]:
    grouped: dict[str, list[ResourceDiff]] = defaultdict(list)
    for diff in diffs:
        grouped[diff.target].append(diff)
    return dict(sorted(grouped.items()))


def diffs_by_cluster_and_app(
    report: Report,
) -> list[tuple[str, list[tuple[str, str, list[ResourceDiff]]]]]:
    """[(cluster, [(target, title, diffs)])]: targets without a cluster first, then each
    cluster; within it, GitOps apps by their name (the title), other targets by id."""
    entries = {c.target_id: c for c in report.coverage}
    clusters: dict[str, list[tuple[str, str, list[ResourceDiff]]]] = defaultdict(list)
    for target, diffs in diffs_by_target(report.diffs).items():
        entry = entries.get(target)
        cluster = entry.cluster if entry else ""
        clusters[cluster].append((target, entry.app if entry and entry.app else target, diffs))
    return [
        (cluster, sorted(groups, key=lambda g: (g[1], g[0])))
        for cluster, groups in sorted(clusters.items())
    ]


def target_counts(diffs: Sequence[ResourceDiff]) -> str:
    symbols = [d.change.symbol for d in diffs]
    return " ".join(f"{s}{symbols.count(s)}" for s in "+~-" if symbols.count(s))


def secret_note(diff: ResourceDiff) -> str:
    if not diff.secret_keys:
        return ""
    keys = ", ".join(f"{k.change.symbol}{k.key}" for k in diff.secret_keys)
    return f"Secret keys changed (values hidden): {keys}"


def validation_summary(report: Report) -> str:
    """One line, e.g. "12 resources valid · Kubernetes 1.31, 1.33 (strict) · 1 without schema"."""
    summary = report.validation
    if summary is None:
        return "not run"
    valid = summary.valid
    parts = [
        f"{plural(summary.invalid, 'resource')} invalid of {summary.resources}"
        if summary.invalid
        else f"{plural(valid, 'resource')} valid",
        f"Kubernetes {', '.join(summary.kubernetes_versions)}"
        + (" (strict)" if summary.strict else ""),
    ]
    if summary.without_schema:
        parts.append(f"{summary.without_schema} without schema")
    if summary.crd_kinds:
        parts.append(f"{plural(summary.crd_kinds, 'CRD kind')} from the repository")
    if summary.cel_rules_not_evaluated:
        parts.append(f"{plural(summary.cel_rules_not_evaluated, 'CEL rule')} not evaluated")
    return " · ".join(parts)


def policy_summary(report: Report) -> str:
    """One line, e.g. "2 failures, 1 warning, 0 exceptions · 31 modules on 12 resources"."""
    summary = report.policy
    if summary is None:
        return "not run"
    counts = [
        plural(summary.failures, "failure"),
        plural(summary.warnings, "warning"),
        plural(summary.exceptions, "exception"),
    ]
    return (
        f"{', '.join(counts)} · {plural(summary.modules, 'module')} on "
        f"{plural(summary.documents, 'resource')} ({summary.engine})"
    )


def signatures_summary(report: Report) -> str:
    """e.g. "3 of 4 commits verified · 1 unsigned"."""
    verdicts = report.signatures or ()
    counts = Counter(v.verdict.value for v in verdicts)
    verified = counts.pop("verified", 0)
    others = [f"{n} {name}" for name, n in sorted(counts.items())]
    return " · ".join([f"{verified} of {plural(len(verdicts), 'commit')} verified", *others])


APPROVAL_ICON = {"skipped": "➖", "pending": "⏳", "approved": "✅", "disapproved": "❌"}


def approval_lines(result: RuleResult, depth: int = 0) -> list[tuple[int, RuleResult]]:
    """The tree flattened for display, leaves last; skipped rules are left out."""
    rows = [(depth, result)]
    for child in result.children:
        if child.status.label != "skipped":
            rows += approval_lines(child, depth + 1)
    return rows
