"""Machine-readable report, schema `gitops-bot/report/v1` (additive changes only within v1)."""

from __future__ import annotations

import json
from typing import Any

from bot.model.approval import RuleResult
from bot.model.finding import Finding
from bot.model.report import REPORT_SCHEMA, Report
from bot.model.resource import Location, ResourceKey
from bot.model.signatures import CommitVerdict


def _location(location: Location | None) -> dict[str, Any] | None:
    if location is None:
        return None
    return {"path": location.path, "line": location.line, "column": location.column}


def _key(key: ResourceKey | None) -> dict[str, str] | None:
    if key is None:
        return None
    return {"group": key.api_group, "kind": key.kind, "namespace": key.namespace, "name": key.name}


def finding_to_dict(f: Finding) -> dict[str, Any]:
    return {
        "rule_id": f.rule_id,
        "severity": f.severity.label,
        "message": f.message,
        "hint": f.hint,
        "location": _location(f.location),
        "resource": _key(f.resource),
        "metadata": dict(f.metadata),
    }


def approval_to_dict(result: RuleResult) -> dict[str, Any]:
    return {
        "name": result.name,
        "status": result.status.label,
        "description": result.description,
        "rules": [approval_to_dict(child) for child in result.children],
    }


def commit_to_dict(v: CommitVerdict) -> dict[str, Any]:
    return {
        "sha": v.sha,
        "summary": v.summary,
        "committer_email": v.committer_email,
        "kind": v.kind,
        "verdict": v.verdict.value,
        "signer": v.signer,
        "person": v.person,
        "reason": v.reason,
    }


def report_to_dict(report: Report) -> dict[str, Any]:
    plan = report.plan()
    change = report.change
    return {
        "schema": REPORT_SCHEMA,
        "change": {
            "base": {"ref": change.base.ref, "commit": change.base.commit},
            "head": {"ref": change.head.ref, "commit": change.head.commit},
            "title": change.title,
            "number": change.number,
        },
        "conclusion": report.conclusion().value,
        "exit_code": int(report.exit_code()),
        # Added within v1 so that a report read back from JSON formats exactly like the original.
        "fail_on": report.fail_on.label if report.fail_on is not None else "never",
        "trusted_input_error": None
        if report.trusted_input_error is None
        else finding_to_dict(report.trusted_input_error),
        "plan": {
            "added": plan.added,
            "modified": plan.modified,
            "removed": plan.removed,
            "apps": plan.apps,
            "secrets_changed": plan.secrets_changed,
            "summary": plan.line(),
        },
        "changed_files": [{"path": f.path, "status": f.status.value} for f in report.changed_files],
        "coverage": [
            {
                "target": c.target_id,
                "kind": c.kind.value,
                "status": c.status.value,
                "reason": c.reason,
                "base_resources": c.base_resources,
                "head_resources": c.head_resources,
                # GitOps apps only: the app (Flux/Argo CD object) and its cluster.
                **({"app": c.app, "cluster": c.cluster} if c.app or c.cluster else {}),
            }
            for c in report.coverage
        ],
        "diffs": [
            {
                "target": d.target,
                "resource": _key(d.key),
                "change": d.change.value,
                "origin": _location(d.origin),
                "fields": [{"path": f.path, "change": f.change.value} for f in d.fields],
                "secret_keys": [{"key": k.key, "change": k.change.value} for k in d.secret_keys],
                "unified_diff": d.unified_diff,
            }
            for d in report.diffs
        ],
        "validation": None
        if report.validation is None
        else {
            "resources": report.validation.resources,
            "valid": report.validation.valid,
            "invalid": report.validation.invalid,
            "without_schema": report.validation.without_schema,
            "kubernetes_versions": list(report.validation.kubernetes_versions),
            "strict": report.validation.strict,
            "crd_kinds": report.validation.crd_kinds,
            "cel_rules_not_evaluated": report.validation.cel_rules_not_evaluated,
        },
        "policy": None
        if report.policy is None
        else {
            "engine": report.policy.engine,
            "policy_sets": report.policy.policy_sets,
            "modules": report.policy.modules,
            "documents": report.policy.documents,
            "tests": report.policy.tests,
            "passed": report.policy.passed,
            "warnings": report.policy.warnings,
            "failures": report.policy.failures,
            "exceptions": report.policy.exceptions,
        },
        "approval": None if report.approval is None else approval_to_dict(report.approval),
        "signatures": None
        if report.signatures is None
        else [commit_to_dict(v) for v in report.signatures],
        "findings": [finding_to_dict(f) for f in report.findings],
        "ignored": [finding_to_dict(f) for f in report.ignored],
        "notes": list(report.notes),
    }


def format_json(report: Report) -> str:
    return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n"
