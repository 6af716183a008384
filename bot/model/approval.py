"""Approval rules, the facts they are judged on, and the result tree."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from bot.model.diff import ResourceDiff
from bot.model.finding import Finding


class RuleStatus(IntEnum):
    """Ordered: a parent's status is computed by comparing its children's."""

    SKIPPED = 0  # the rule's `if:` did not match this change
    PENDING = 1
    APPROVED = 2
    DISAPPROVED = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Review:
    """A forge review: who, in which state, on which commit."""

    user: str
    state: str  # "approved" | "changes_requested" | "commented" | "dismissed"
    commit_sha: str


@dataclass(frozen=True, slots=True)
class ForgeFacts:
    """What only the forge knows about a pull request (the server fills it in)."""

    author: str = ""
    reviews: tuple[Review, ...] = ()
    labels: frozenset[str] = frozenset()
    title: str = ""
    target_branch: str = ""
    committers: frozenset[str] = frozenset()
    teams: Mapping[str, frozenset[str]] = field(default_factory=dict)
    permissions: Mapping[str, str] = field(default_factory=dict)
    # commit SHA -> rendered fingerprint of the change at that commit, as the server computed it
    # when it reviewed that commit (see bot/core/approval/fingerprint.py)
    rendered_fingerprints: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ApprovalFacts:
    """Everything the approval rules look at, gathered by adapters (forge) and the review."""

    head_sha: str
    author: str
    changed_files: tuple[str, ...] = ()
    diffs: tuple[ResourceDiff, ...] = ()
    findings: tuple[Finding, ...] = ()
    labels: frozenset[str] = frozenset()
    title: str = ""
    target_branch: str = ""
    signatures_verified: bool | None = None  # None: not checked
    reviews: tuple[Review, ...] = ()
    committers: frozenset[str] = frozenset()
    teams: Mapping[str, frozenset[str]] = field(default_factory=dict)  # "org/team" -> members
    permissions: Mapping[str, str] = field(default_factory=dict)  # user -> read..admin
    # commit SHA -> fingerprint of the rendered desired state at that commit (see
    # keep_if_rendered_unchanged); commits without one keep the plain head-SHA binding
    rendered_fingerprints: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RuleResult:
    name: str
    status: RuleStatus
    description: str
    children: tuple[RuleResult, ...] = ()
