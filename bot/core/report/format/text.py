"""The terminal view: everything, untruncated, coloured when the caller says it is a TTY."""

from __future__ import annotations

from bot.core.report.format.common import (
    approval_lines,
    coverage_summary,
    diffs_by_target,
    plural,
    policy_summary,
    secret_note,
    signatures_summary,
    target_counts,
    validation_summary,
    verdict,
)
from bot.model.finding import Severity
from bot.model.report import Report

_COLOURS = {"red": "31", "green": "32", "yellow": "33", "cyan": "36", "bold": "1", "dim": "2"}
_SEVERITY_COLOUR = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _stage_lines(report: Report) -> list[str]:
    """Validation, policy, approval and signature summaries, each followed by a blank line."""
    out: list[str] = []
    if report.validation is not None:
        out.extend([f"Validation: {validation_summary(report)}", ""])
    if report.policy is not None:
        out.extend([f"Policy: {policy_summary(report)}", ""])
    if report.approval is not None:
        out.append(f"Approval: {report.approval.status.label}")
        out.extend(
            f"{'  ' * depth}{node.status.label:<11} {node.name}: {node.description}"
            for depth, node in approval_lines(report.approval)[1:]
        )
        out.append("")
    if report.signatures is not None:
        out.append(f"Signatures: {signatures_summary(report)}")
        out.extend(
            f"  {v.verdict.value:<17} {v.sha[:12]} {v.summary[:50]}  {v.signer}"
            for v in report.signatures
        )
        out.append("")
    return out


def format_text(report: Report, colour: bool = False) -> str:
    def paint(text: str, name: str) -> str:
        return f"\033[{_COLOURS[name]}m{text}\033[0m" if colour else text

    def diff_line(line: str) -> str:
        if line.startswith(("+++", "---")):
            return paint(line, "bold")
        if line.startswith("+"):
            return paint(line, "green")
        if line.startswith("-"):
            return paint(line, "red")
        if line.startswith("@@"):
            return paint(line, "cyan")
        return line

    change = report.change
    out = [
        paint(f"gitops-bot review: {verdict(report)}", "bold"),
        f"{change.base.ref} ({change.base.short()}) -> {change.head.ref} ({change.head.short()}), "
        f"{plural(len(report.changed_files), 'file')} changed",
        paint(report.plan().line(), "bold"),
        "",
    ]
    if report.coverage:
        out.append(f"Render coverage: {coverage_summary(report)}")
        for entry in report.coverage:
            note = f"  {entry.reason}" if entry.reason else ""
            out.append(f"  {entry.status.value:<9} {entry.target_id}{paint(note, 'dim')}")
        out.append("")
    out.extend(_stage_lines(report))
    if report.findings:
        out.append(f"Findings ({len(report.findings)}):")
        for f in report.findings:
            where = f"{f.location.display()}: " if f.location else ""
            label = paint(f.severity.label, _SEVERITY_COLOUR[f.severity])
            out.append(f"  {label} [{f.rule_id}] {where}{f.message}")
            if f.hint:
                out.append(paint(f"      hint: {f.hint}", "dim"))
        out.append("")
    for target, diffs in diffs_by_target(report.diffs).items():
        out.append(paint(f"== {target} ({target_counts(diffs)})", "bold"))
        for diff in diffs:
            out.append(f"{diff.change.symbol} {diff.key.display()}  ({diff.origin.display()})")
            if diff.fields:
                out.append("  changed: " + ", ".join(f.path for f in diff.fields))
            note = secret_note(diff)
            if note:
                out.append(f"  {note}")
            out.extend(diff_line(line) for line in diff.unified_diff.splitlines())
            out.append("")
    out.extend(paint(n, "dim") for n in report.notes)
    return "\n".join(out) + "\n"
