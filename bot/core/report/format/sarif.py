"""SARIF 2.1.0, for GitHub code scanning and any SARIF viewer."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.model.finding import Finding, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
RULES_DOC = "docs/rules.md"  # relative: resolved against the repository of the tool
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message + (f" ({finding.hint})" if finding.hint else "")},
    }
    if finding.location is not None:
        result["locations"] = [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": finding.location.path},
                    "region": {
                        "startLine": finding.location.line,
                        "startColumn": finding.location.column,
                    },
                }
            }
        ]
    return result


def format_sarif(findings: Sequence[Finding], version: str) -> str:
    rule_ids = sorted({f.rule_id for f in findings})
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "gitops-bot",
                        "version": version,
                        "rules": [
                            {"id": rule_id, "name": rule_id, "helpUri": f"{RULES_DOC}#{rule_id}"}
                            for rule_id in rule_ids
                        ],
                    }
                },
                "results": [_result(f, index[f.rule_id]) for f in findings],
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
