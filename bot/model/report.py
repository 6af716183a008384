"""The one result of a review. Formatters are pure functions of it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import Enum, StrEnum

from bot.model.approval import RuleResult
from bot.model.change import ChangeRequest, FileChange
from bot.model.diff import ChangeKind, ResourceDiff
from bot.model.finding import Finding, Severity
from bot.model.policy import PolicySummary
from bot.model.render import CoverageEntry, CoverageStatus
from bot.model.signatures import CommitVerdict
from bot.model.validation import ValidationSummary

REPORT_SCHEMA = "gitops-bot/report/v1"


class Conclusion(StrEnum):
    """Check-run conclusions, in GitHub's vocabulary."""

    SUCCESS = "success"
    NEUTRAL = "neutral"
    FAILURE = "failure"


class ExitCode(int, Enum):
    CLEAN = 0
    FINDINGS = 1
    USAGE_OR_TRUSTED_INPUT = 2


@dataclass(frozen=True, slots=True)
class Plan:
    added: int
    modified: int
    removed: int
    apps: int
    secrets_changed: int
    undiffed_targets: int = 0  # failed to render: their changes are unknown, not absent

    def line(self) -> str:
        failed = ""
        if self.undiffed_targets:
            targets = "target" if self.undiffed_targets == 1 else "targets"
            failed = f"{self.undiffed_targets} {targets} could not be diffed"
        if not (self.added or self.modified or self.removed):
            if failed:
                return f"No changes in the targets that rendered; {failed}."
            return "No changes to the desired state."
        noun = "resource" if self.added + self.modified + self.removed == 1 else "resources"
        apps = "app" if self.apps == 1 else "apps"
        text = f"+{self.added} ~{self.modified} -{self.removed} {noun} in {self.apps} {apps}"
        if self.secrets_changed:
            secret = "Secret" if self.secrets_changed == 1 else "Secrets"
            text += f"; {self.secrets_changed} {secret} changed (values hidden)"
        return f"{text}; {failed}" if failed else text


@dataclass(frozen=True, slots=True)
class Report:
    """What the bot concluded about one change.

    `trusted_input_error` is set when the base branch's own config is broken: the review then
    stops before rendering, and the check fails naming the file and line.
    """

    change: ChangeRequest
    changed_files: tuple[FileChange, ...]
    coverage: tuple[CoverageEntry, ...]
    diffs: tuple[ResourceDiff, ...]
    findings: tuple[Finding, ...]
    ignored: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()
    trusted_input_error: Finding | None = None
    fail_on: Severity | None = Severity.ERROR
    validation: ValidationSummary | None = None  # None: not run (switched off, or no versions)
    policy: PolicySummary | None = None  # None: no policies to evaluate, or switched off
    signatures: tuple[CommitVerdict, ...] | None = None  # None: not checked (no commit range)
    approval: RuleResult | None = None  # None: the repository has no approval rules
    # The change's rendered fingerprint (keep_if_rendered_unchanged). Derived from Secret
    # values, so no formatter publishes it; the server keeps it per head SHA.
    rendered_fingerprint: str = ""

    def plan(self) -> Plan:
        counts = Counter(d.change for d in self.diffs)
        return Plan(
            added=counts[ChangeKind.ADDED],
            modified=counts[ChangeKind.MODIFIED],
            removed=counts[ChangeKind.REMOVED],
            apps=len({d.target for d in self.diffs}),
            secrets_changed=sum(1 for d in self.diffs if d.is_secret),
            undiffed_targets=self.coverage_count(CoverageStatus.FAILED),
        )

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def coverage_count(self, status: CoverageStatus) -> int:
        return sum(1 for c in self.coverage if c.status is status)

    def failing_findings(self) -> tuple[Finding, ...]:
        """Findings at or above `fail_on` (none when `fail_on` is None: never fail)."""
        if self.fail_on is None:
            return ()
        return tuple(f for f in self.findings if f.severity >= self.fail_on)

    def exit_code(self) -> ExitCode:
        if self.trusted_input_error is not None:
            return ExitCode.USAGE_OR_TRUSTED_INPUT
        return ExitCode.FINDINGS if self.failing_findings() else ExitCode.CLEAN

    def conclusion(self) -> Conclusion:
        if self.exit_code() is not ExitCode.CLEAN:
            return Conclusion.FAILURE
        return Conclusion.NEUTRAL if self.findings else Conclusion.SUCCESS
