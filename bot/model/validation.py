"""What schema validation covered, for the report's status line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ValidationSummary:
    resources: int  # head resources validated
    valid: int  # checked against at least one schema, no error
    kubernetes_versions: tuple[str, ...]
    strict: bool
    invalid: int  # resources with at least one error
    without_schema: int
    crd_kinds: int  # custom resource kinds whose schema came from a CRD in the repository
    cel_rules_not_evaluated: int = 0
