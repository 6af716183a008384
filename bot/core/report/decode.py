"""A `gitops-bot/report/v1` JSON document read back into the Report it was made from.

The GitHub Action runs `gitops-bot review --format json` once and derives the step summary,
annotations, SARIF and the PR comment from that one file; reading it back into a Report lets the
same pure formatters produce all of them, so the Action shows exactly what the CLI and the App do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.model.approval import RuleResult, RuleStatus
from bot.model.change import ChangeRequest, FileChange, FileStatus, Revision
from bot.model.diff import ChangeKind, FieldChange, ResourceDiff, SecretKeyChange
from bot.model.errors import UsageError
from bot.model.finding import SEVERITY_BY_LABEL, Finding, Severity
from bot.model.policy import PolicySummary
from bot.model.render import CoverageEntry, CoverageStatus, TargetKind
from bot.model.report import REPORT_SCHEMA, Report
from bot.model.resource import Location, ResourceKey
from bot.model.signatures import CommitVerdict, Verdict
from bot.model.validation import ValidationSummary


def _location(raw: Mapping[str, Any] | None) -> Location | None:
    if raw is None:
        return None
    return Location(str(raw["path"]), int(raw["line"]), int(raw["column"]))


def _key(raw: Mapping[str, Any] | None) -> ResourceKey | None:
    if raw is None:
        return None
    return ResourceKey(raw["group"], raw["kind"], raw["namespace"], raw["name"])


def decode_finding(raw: Mapping[str, Any]) -> Finding:
    return Finding(
        rule_id=raw["rule_id"],
        severity=SEVERITY_BY_LABEL[raw["severity"]],
        message=raw["message"],
        location=_location(raw.get("location")),
        resource=_key(raw.get("resource")),
        hint=raw.get("hint") or "",
        metadata={str(k): str(v) for k, v in (raw.get("metadata") or {}).items()},
    )


def _approval(raw: Mapping[str, Any]) -> RuleResult:
    return RuleResult(
        name=raw["name"],
        status=RuleStatus[str(raw["status"]).upper()],
        description=raw["description"],
        children=tuple(_approval(child) for child in raw.get("rules", ())),
    )


def _commit(raw: Mapping[str, Any]) -> CommitVerdict:
    return CommitVerdict(
        sha=raw["sha"],
        summary=raw["summary"],
        committer_email=raw["committer_email"],
        kind=raw["kind"],
        verdict=Verdict(raw["verdict"]),
        signer=raw.get("signer", ""),
        person=raw.get("person", ""),
        reason=raw.get("reason", ""),
    )


def _diff(raw: Mapping[str, Any]) -> ResourceDiff:
    key, origin = _key(raw["resource"]), _location(raw["origin"])
    if key is None or origin is None:
        raise UsageError("a diff in the report has no resource or origin")
    return ResourceDiff(
        key=key,
        change=ChangeKind(raw["change"]),
        target=raw["target"],
        origin=origin,
        fields=tuple(FieldChange(f["path"], ChangeKind(f["change"])) for f in raw["fields"]),
        unified_diff=raw["unified_diff"],
        secret_keys=tuple(
            SecretKeyChange(k["key"], ChangeKind(k["change"])) for k in raw["secret_keys"]
        ),
    )


def _coverage(raw: Mapping[str, Any]) -> CoverageEntry:
    return CoverageEntry(
        target_id=raw["target"],
        kind=TargetKind(raw["kind"]),
        status=CoverageStatus(raw["status"]),
        reason=raw.get("reason", ""),
        base_resources=int(raw.get("base_resources", 0)),
        head_resources=int(raw.get("head_resources", 0)),
        app=raw.get("app", ""),
        cluster=raw.get("cluster", ""),
    )


def _validation(raw: Mapping[str, Any] | None) -> ValidationSummary | None:
    if raw is None:
        return None
    return ValidationSummary(
        resources=raw["resources"],
        valid=raw["valid"],
        kubernetes_versions=tuple(raw["kubernetes_versions"]),
        strict=raw["strict"],
        invalid=raw["invalid"],
        without_schema=raw["without_schema"],
        crd_kinds=raw["crd_kinds"],
        cel_rules_not_evaluated=raw.get("cel_rules_not_evaluated", 0),
    )


def _policy(raw: Mapping[str, Any] | None) -> PolicySummary | None:
    if raw is None:
        return None
    names = PolicySummary.__dataclass_fields__
    return PolicySummary(**{name: raw[name] for name in names})


def _revision(raw: Mapping[str, Any]) -> Revision:
    return Revision(raw["ref"], raw["commit"])


def _fail_on(doc: Mapping[str, Any]) -> Severity | None:
    label = doc.get("fail_on", "error")
    return None if label == "never" else SEVERITY_BY_LABEL[label]


def decode_report(doc: Any) -> Report:
    """The Report behind a `gitops-bot/report/v1` document; UsageError for anything else."""
    if not isinstance(doc, Mapping) or doc.get("schema") != REPORT_SCHEMA:
        found = doc.get("schema") if isinstance(doc, Mapping) else type(doc).__name__
        raise UsageError(
            f"not a {REPORT_SCHEMA} document (schema: {found!r})",
            hint="produce it with `gitops-bot review --format json`",
        )
    try:
        change = doc["change"]
        trusted = doc.get("trusted_input_error")
        signatures = doc.get("signatures")
        approval = doc.get("approval")
        return Report(
            change=ChangeRequest(
                base=_revision(change["base"]),
                head=_revision(change["head"]),
                title=change.get("title", ""),
                number=change.get("number"),
            ),
            changed_files=tuple(
                FileChange(f["path"], FileStatus(f["status"])) for f in doc["changed_files"]
            ),
            coverage=tuple(_coverage(c) for c in doc["coverage"]),
            diffs=tuple(_diff(d) for d in doc["diffs"]),
            findings=tuple(decode_finding(f) for f in doc["findings"]),
            ignored=tuple(decode_finding(f) for f in doc.get("ignored", ())),
            notes=tuple(doc.get("notes", ())),
            trusted_input_error=None if trusted is None else decode_finding(trusted),
            fail_on=_fail_on(doc),
            validation=_validation(doc.get("validation")),
            policy=_policy(doc.get("policy")),
            signatures=None if signatures is None else tuple(_commit(c) for c in signatures),
            approval=None if approval is None else _approval(approval),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise UsageError(
            f"malformed {REPORT_SCHEMA} document: {type(error).__name__}: {error}",
            hint="produce it with `gitops-bot review --format json`",
        ) from error
