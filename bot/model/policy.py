"""What policy evaluation covered, for the report's status line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PolicySummary:
    engine: str  # "regorus", "opa"
    policy_sets: int
    modules: int
    documents: int
    tests: int  # (document, rule) pairs checked, as conftest counts them
    passed: int
    warnings: int
    failures: int
    exceptions: int
