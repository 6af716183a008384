"""Assemble the frozen Report."""

from __future__ import annotations

from collections.abc import Iterable

from bot.model.approval import RuleResult
from bot.model.change import ChangeRequest, FileChange
from bot.model.diff import ResourceDiff
from bot.model.finding import Finding, Severity
from bot.model.policy import PolicySummary
from bot.model.render import CoverageEntry
from bot.model.report import Report
from bot.model.signatures import CommitVerdict
from bot.model.validation import ValidationSummary


def build_report(
    change: ChangeRequest,
    *,
    files: Iterable[FileChange],
    coverage: Iterable[CoverageEntry],
    diffs: Iterable[ResourceDiff],
    findings: Iterable[Finding],
    notes: Iterable[str],
    fail_on: Severity | None,
    validation: ValidationSummary | None = None,
    policy: PolicySummary | None = None,
    ignored: Iterable[Finding] = (),
    signatures: tuple[CommitVerdict, ...] | None = None,
    approval: RuleResult | None = None,
) -> Report:
    unique = list(dict.fromkeys(findings))  # the same problem found via two targets counts once
    return Report(
        change=change,
        changed_files=tuple(files),
        coverage=tuple(coverage),
        diffs=tuple(sorted(diffs, key=lambda d: (d.target, d.key))),
        findings=tuple(sorted(unique, key=Finding.sort_key)),
        notes=tuple(notes),
        fail_on=fail_on,
        validation=validation,
        policy=policy,
        ignored=tuple(ignored),
        signatures=signatures,
        approval=approval,
    )
