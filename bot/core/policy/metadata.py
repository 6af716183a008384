"""OPA rich metadata (`# METADATA` YAML comment blocks) and package names, read from Rego text.

The bot reads these itself so both engines give the same ids, severities and approvers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.safe_yaml import load_yaml_documents
from bot.model.finding import SEVERITY_BY_LABEL, Severity

_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)", re.MULTILINE)
_RULE_HEAD = re.compile(r"^\s*([A-Za-z_]\w*)")


@dataclass(frozen=True, slots=True)
class RuleMetadata:
    """What a policy says about itself. `rule` is empty for package-scope metadata."""

    package: str
    rule: str
    title: str = ""
    rule_id: str = ""
    severity: Severity | None = None
    approvers: tuple[str, ...] = ()
    custom: Mapping[str, Any] = field(default_factory=dict)


def package_of(source: str) -> str:
    found = _PACKAGE.search(source)
    return found.group(1) if found else ""


def _parse_block(lines: list[str]) -> Mapping[str, Any]:
    text = "\n".join(line.lstrip()[1:].removeprefix(" ") for line in lines)
    load = load_yaml_documents(text, "metadata")
    data = load.documents[0].data if load.documents and not load.findings else {}
    return data if isinstance(data, Mapping) else {}


def _metadata(package: str, rule: str, block: Mapping[str, Any]) -> RuleMetadata:
    custom = block.get("custom")
    custom = custom if isinstance(custom, Mapping) else {}
    approvers = custom.get("approvers", ())
    return RuleMetadata(
        package=package,
        rule=rule,
        title=str(block.get("title", "")),
        rule_id=str(custom.get("id", "")),
        severity=SEVERITY_BY_LABEL.get(str(custom.get("severity", "")).lower()),
        approvers=tuple(str(a) for a in approvers) if isinstance(approvers, list) else (),
        custom=custom,
    )


def read_metadata(source: str) -> list[RuleMetadata]:
    """Every `# METADATA` block, attached to the package or rule that follows it."""
    package = package_of(source)
    lines = source.splitlines()
    found: list[RuleMetadata] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != "# METADATA":
            i += 1
            continue
        block: list[str] = []
        i += 1
        while i < len(lines) and lines[i].lstrip().startswith("#"):
            block.append(lines[i])
            i += 1
        following = lines[i] if i < len(lines) else ""
        if following.lstrip().startswith("package"):
            found.append(_metadata(package_of(following), "", _parse_block(block)))
        else:
            head = _RULE_HEAD.match(following)
            found.append(_metadata(package, head.group(1) if head else "", _parse_block(block)))
    return found
