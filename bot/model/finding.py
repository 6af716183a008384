"""Findings: everything the bot has to say about the change, each with a place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from bot.model.resource import Location, ResourceKey


class Severity(IntEnum):
    INFO = 0
    WARNING = 1
    ERROR = 2

    @property
    def label(self) -> str:
        return self.name.lower()


# How configuration and policy metadata spell severities.
SEVERITY_BY_LABEL = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong (or worth knowing) about the change.

    `rule_id` is stable kebab-case (`yaml-malformed`, `render-failed`, `path-escapes-repo`, ...)
    so users can suppress or search for it.
    """

    rule_id: str
    severity: Severity
    message: str
    location: Location | None = None
    resource: ResourceKey | None = None
    hint: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict, hash=False)

    def sort_key(self) -> tuple[int, str, int, str]:
        loc = self.location
        return (-int(self.severity), loc.path if loc else "", loc.line if loc else 0, self.rule_id)
