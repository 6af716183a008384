"""The desired-state diff: what changes in the cluster, per resource and per field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bot.model.resource import Location, ResourceKey


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"

    @property
    def symbol(self) -> str:
        return {"added": "+", "removed": "-", "modified": "~"}[self.value]


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One changed leaf or subtree, e.g. `spec.template.spec.containers[0].image`."""

    path: str
    change: ChangeKind


@dataclass(frozen=True, slots=True)
class SecretKeyChange:
    """A Secret key whose value changed. The value itself is never kept."""

    key: str
    change: ChangeKind


@dataclass(frozen=True, slots=True)
class ResourceDiff:
    """A resource that differs between base and head. Everything in it is already redacted."""

    key: ResourceKey
    change: ChangeKind
    target: str
    origin: Location
    fields: tuple[FieldChange, ...]
    unified_diff: str
    secret_keys: tuple[SecretKeyChange, ...] = ()
    # For approval rules that look at the rendered change: the resource's labels (head side,
    # base side when removed), and the GitOps app and cluster its target belongs to.
    labels: Mapping[str, str] = field(default_factory=dict, compare=False)
    app: str = ""
    cluster: str = ""

    @property
    def is_secret(self) -> bool:
        return self.key.kind == "Secret" and self.key.api_group == ""
