"""conftest-compatible outputs for `gitops-bot policy check`: text, TAP, JUnit XML, JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from xml.sax.saxutils import quoteattr

from bot.core.policy.conftest import PolicyTally
from bot.model.finding import Finding, Severity


def _label(finding: Finding, excepted: bool) -> str:
    if excepted:
        return "EXCP"
    return "WARN" if finding.severity is Severity.WARNING else "FAIL"


def _line(finding: Finding) -> str:
    path = finding.location.path if finding.location else ""
    policy = finding.metadata.get("policy", finding.rule_id)
    return f"{path} - {policy} - {finding.message}"


def summary_line(tally: PolicyTally) -> str:
    return (
        f"{tally.tests} tests, {tally.passed} passed, {tally.warnings} warnings, "
        f"{tally.failures} failures, {tally.exceptions} exceptions"
    )


def format_conftest_text(
    findings: Sequence[Finding], exceptions: Sequence[Finding], tally: PolicyTally
) -> str:
    lines = [f"{_label(f, False)} - {_line(f)}" for f in findings]
    lines += [f"{_label(f, True)} - {_line(f)}" for f in exceptions]
    return "\n".join([*lines, "", summary_line(tally)]) + "\n"


def format_tap(
    findings: Sequence[Finding], exceptions: Sequence[Finding], tally: PolicyTally
) -> str:
    lines = [f"1..{tally.tests}"]
    number = 0
    for finding in findings:
        number += 1
        status = "not ok" if finding.severity is not Severity.WARNING else "ok"
        directive = " # warn" if finding.severity is Severity.WARNING else ""
        lines.append(f"{status} {number} - {_line(finding)}{directive}")
    for finding in exceptions:
        number += 1
        lines.append(f"ok {number} - {_line(finding)} # SKIP exception")
    for _ in range(tally.passed):
        number += 1
        lines.append(f"ok {number} - passed")
    return "\n".join(lines) + "\n"


def format_junit(
    findings: Sequence[Finding], exceptions: Sequence[Finding], tally: PolicyTally
) -> str:
    cases = []
    for finding in findings:
        path = finding.location.path if finding.location else ""
        name = quoteattr(f"{finding.metadata.get('policy', finding.rule_id)} - {finding.message}")
        kind = "failure" if finding.severity is not Severity.WARNING else "system-out"
        body = f"<{kind} message={quoteattr(finding.message)}/>" if kind == "failure" else ""
        cases.append(f"    <testcase classname={quoteattr(path)} name={name}>{body}</testcase>")
    for finding in exceptions:
        path = finding.location.path if finding.location else ""
        cases.append(
            f"    <testcase classname={quoteattr(path)} "
            f"name={quoteattr(finding.message)}><skipped/></testcase>"
        )
    cases += ['    <testcase classname="gitops-bot" name="passed"/>'] * tally.passed
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n'
        f'  <testsuite name="gitops-bot" tests="{len(cases)}" failures="{tally.failures}" '
        f'skipped="{len(exceptions)}">\n' + "\n".join(cases) + "\n  </testsuite>\n</testsuites>\n"
    )


def format_conftest_json(
    findings: Sequence[Finding], exceptions: Sequence[Finding], tally: PolicyTally
) -> str:
    def item(f: Finding) -> dict[str, object]:
        return {
            "filename": f.location.path if f.location else "",
            "line": f.location.line if f.location else None,
            "policy": f.metadata.get("policy", f.rule_id),
            "rule_id": f.rule_id,
            "msg": f.message,
            "details": json.loads(f.metadata["details"]) if "details" in f.metadata else None,
        }

    document = {
        "schema": "gitops-bot/policy-check/v1",
        "failures": [item(f) for f in findings if f.severity is not Severity.WARNING],
        "warnings": [item(f) for f in findings if f.severity is Severity.WARNING],
        "exceptions": [item(f) for f in exceptions],
        "counts": {
            "tests": tally.tests,
            "passed": tally.passed,
            "warnings": tally.warnings,
            "failures": tally.failures,
            "exceptions": tally.exceptions,
        },
    }
    return json.dumps(document, indent=2) + "\n"
