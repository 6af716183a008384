"""GitHub Actions workflow commands: findings become annotations on the PR's files."""

from __future__ import annotations

from collections.abc import Sequence

from bot.model.finding import Finding, Severity

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _data(text: str) -> str:
    # Escaping as the runner parses it (actions/toolkit's command.ts).
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(findings: Sequence[Finding]) -> str:
    lines = []
    for finding in findings:
        props = [f"title={_property(finding.rule_id)}"]
        if finding.location is not None:
            props = [
                f"file={_property(finding.location.path)}",
                f"line={finding.location.line}",
                f"col={finding.location.column}",
                *props,
            ]
        message = finding.message + (f"\n{finding.hint}" if finding.hint else "")
        lines.append(f"::{_COMMAND[finding.severity]} {','.join(props)}::{_data(message)}")
    return "".join(line + "\n" for line in lines)
