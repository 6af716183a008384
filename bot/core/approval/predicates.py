"""The conditions under a rule's `if:`, one small class per YAML key, and their parsing."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.model.approval import ApprovalFacts
from bot.model.diff import ChangeKind, ResourceDiff
from bot.model.finding import Severity

_GLOB_TOKEN = re.compile(r"\*\*/|\*\*|\*|\?")
_GLOB_PARTS = {"**/": ".*/", "**": ".*", "*": "[^/]*", "?": "[^/]"}


class Predicate(Protocol):
    def evaluate(self, facts: ApprovalFacts) -> tuple[bool, str]: ...


@functools.lru_cache(maxsize=1024)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    parts, pos = [], 0
    for token in _GLOB_TOKEN.finditer(pattern):
        parts.append(re.escape(pattern[pos : token.start()]))
        at_dir = token.start() == 0 or pattern[token.start() - 1] == "/"
        # `a/**/b` also matches `a/b`: `**/` is zero or more whole directories.
        parts.append("(?:.*/)?" if token[0] == "**/" and at_dir else _GLOB_PARTS[token[0]])
        pos = token.end()
    parts.append(re.escape(pattern[pos:]))
    return re.compile("".join(parts), re.DOTALL)


def glob_match(pattern: str, text: str) -> bool:
    """`*` and `?` stay within one path segment, `**` crosses `/`; everything else is literal."""
    return _glob_regex(pattern).fullmatch(text) is not None


def _any_glob(patterns: Iterable[str], text: str) -> bool:
    return any(glob_match(p, text) for p in patterns)


def listed(items: Iterable[str]) -> str:
    return ", ".join(items)


@dataclass(frozen=True, slots=True)
class ChangedFiles:
    globs: tuple[str, ...]

    def evaluate(self, facts: ApprovalFacts) -> tuple[bool, str]:
        for path in facts.changed_files:
            if _any_glob(self.globs, path):
                return True, f"changed {path}"
        return False, f"no changed file matches {listed(self.globs)}"


@dataclass(frozen=True, slots=True)
class OnlyChangedFiles:
    globs: tuple[str, ...]

    def evaluate(self, facts: ApprovalFacts) -> tuple[bool, str]:
        if not facts.changed_files:
            return False, "no files changed"
        for path in facts.changed_files:
            if not _any_glob(self.globs, path):
                return False, f"changed {path}, outside {listed(self.globs)}"
        return True, f"all changed files match {listed(self.globs)}"


def _app_names(app: str) -> tuple[str, ...]:
    """ "Kustomization flux-system/apps" answers to itself, "flux-system/apps" and "apps"."""
    if not app:
        return ()
    qualified = app.partition(" ")[2] or app
    return (app, qualified, qualified.rpartition("/")[2])


@dataclass(frozen=True, slots=True)
class Rendered:
    """A change to a rendered resource; an empty field matches anything."""

    kinds: tuple[str, ...] = ()
    api_groups: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    names: tuple[str, ...] = ()  # globs
    changes: tuple[ChangeKind, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()  # (label key, value glob): all must match
    clusters: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()  # globs on "Kind namespace/name", "namespace/name" or "name"

    def _matches(self, diff: ResourceDiff) -> bool:
        key = diff.key
        return (
            (not self.kinds or key.kind in self.kinds)
            and (not self.api_groups or key.api_group in self.api_groups)
            and (not self.namespaces or key.namespace in self.namespaces)
            and (not self.names or _any_glob(self.names, key.name))
            and (not self.changes or diff.change in self.changes)
            and all(k in diff.labels and _any_glob((v,), diff.labels[k]) for k, v in self.labels)
            and (not self.clusters or diff.cluster in self.clusters)
            and (not self.apps or any(_any_glob(self.apps, n) for n in _app_names(diff.app)))
        )

    def evaluate(self, facts: ApprovalFacts) -> tuple[bool, str]:
        for diff in facts.diffs:
            if self._matches(diff):
                return True, f"{diff.key.display()} {diff.change.value}"
        return False, "no rendered change matches"


@dataclass(frozen=True, slots=True)
class PolicyFindings:
    severity: Severity = Severity.ERROR  # this or worse
    rule_ids: tuple[str, ...] = ()
    requires_approval: bool = False  # only findings with metadata requires_approval: "true"

    def evaluate(self, facts: ApprovalFacts) -> tuple[bool, str]:
        for f in facts.findings:
            if (
                f.severity >= self.severity
                and (not self.rule_ids or f.rule_id in self.rule_ids)
                and (not self.requires_approval or f.metadata.get("requires_approval") == "true")
            ):
                return True, f"{f.severity.label} finding {f.rule_id}"
        return False, f"no matching finding at {self.severity.label} or above"


def _author_in(users: Sequence[str], teams: Sequence[str], facts: ApprovalFacts) -> str | None:
    """What the author matched (logins compare case-insensitively), or None."""
    author = facts.author.casefold()
    if author in {u.casefold() for u in users}:
        return f"author {facts.author}"
    for team in teams:
        if author in {m.casefold() for m in facts.teams.get(team, ())}:
            return f"author {facts.author} is in {team}"
    return None


@dataclass(frozen=True, slots=True)
class Author:
    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()  # "org/team"

    def evaluate(self, facts: ApprovalFacts) -> tuple[bool, str]:
        hit = _author_in(self.users, self.teams, facts)
        names = listed(self.users + self.teams)
        return (True, hit) if hit else (False, f"author {facts.author} is not in {names}")


@dataclass(frozen=True, slots=True)
class AuthorNot:
    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()

    def evaluate(self, facts: ApprovalFacts) -> tuple[bool, str]:
        hit = _author_in(self.users, self.teams, facts)
        names = listed(self.users + self.teams)
        return (False, hit) if hit else (True, f"author {facts.author} is not in {names}")


@dataclass(frozen=True, slots=True)
class HasLabels:
    labels: tuple[str, ...]  # all of them

    def evaluate(self, facts: ApprovalFacts) -> tuple[bool, str]:
        missing = [label for label in self.labels if label not in facts.labels]
        if missing:
            return False, f"not labeled {listed(missing)}"
        return True, f"labeled {listed(self.labels)}"


@dataclass(frozen=True, slots=True)
class TitleMatches:
    patterns: tuple[re.Pattern[str], ...]  # any of them, anywhere in the title (re.search)

    def evaluate(self, facts: ApprovalFacts) -> tuple[bool, str]:
        for pattern in self.patterns:
            if pattern.search(facts.title):
                return True, f"title matches {pattern.pattern!r}"
        return False, f"title matches none of {listed(repr(p.pattern) for p in self.patterns)}"


@dataclass(frozen=True, slots=True)
class TargetBranch:
    patterns: tuple[str, ...]  # globs

    def evaluate(self, facts: ApprovalFacts) -> tuple[bool, str]:
        branch = facts.target_branch
        if branch and _any_glob(self.patterns, branch):
            return True, f"targets {branch}"
        return False, f"target branch {branch or '(unknown)'} is not {listed(self.patterns)}"


@dataclass(frozen=True, slots=True)
class Signatures:
    verified: bool

    def evaluate(self, facts: ApprovalFacts) -> tuple[bool, str]:
        state = facts.signatures_verified
        if state is None:
            return False, "commit signatures not checked"
        return state == self.verified, f"commit signatures {'' if state else 'not '}verified"


def evaluate_all(predicates: Sequence[Predicate], facts: ApprovalFacts) -> tuple[bool, list[str]]:
    """All must match. Reasons: every predicate's when all match, else those that did not."""
    results = [p.evaluate(facts) for p in predicates]
    failed = [reason for ok, reason in results if not ok]
    return not failed, failed or [reason for _, reason in results]


# --- parsing `if:` -------------------------------------------------------------------------
