"""Parsing a rule's `if:` from `.gitops-bot.yaml` into predicates; errors name file and line."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.core.approval.predicates import (
    Author,
    AuthorNot,
    ChangedFiles,
    HasLabels,
    OnlyChangedFiles,
    PolicyFindings,
    Predicate,
    Rendered,
    Signatures,
    TargetBranch,
    TitleMatches,
    listed,
)
from bot.core.config.reader import SEVERITIES, ConfigReader
from bot.core.safe_yaml import format_field_path
from bot.model.diff import ChangeKind


def _sub(path: str, key: Any) -> str:
    part = format_field_path([str(key)])
    return f"{path}{part}" if part.startswith("[") else f"{path}.{part}"


def _strings(r: ConfigReader, value: Any, where: str, blank_ok: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise r.fail(where, f"must be a non-empty list of strings, got {value!r}", "")
    for i, item in enumerate(value):
        if not isinstance(item, str) or not (item or blank_ok):
            raise r.fail(f"{where}[{i}]", f"must be a non-empty string, got {item!r}", "")
    return tuple(value)


def _fields(
    r: ConfigReader, value: Any, where: str, known: Sequence[str], later: Sequence[str] = ()
) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise r.fail(where, f"must be a mapping, got {value!r}", f"keys: {listed(known)}")
    for key in value:
        if key in later:
            raise r.fail(_sub(where, key), f"{key!r} is not supported yet", "remove it")
        if key not in known:
            raise r.fail(_sub(where, key), f"unknown key {key!r}", f"keys: {listed(known)}")
    return value


def _rendered(r: ConfigReader, value: Any, where: str) -> Rendered:
    keys = ("kinds", "api_groups", "namespaces", "names", "changes", "clusters", "apps")
    raw = _fields(r, value, where, (*keys, "labels"))
    got = {k: _strings(r, raw[k], f"{where}.{k}", k in keys[1:3]) for k in keys if k in raw}
    labels = raw.get("labels", {})
    if not isinstance(labels, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        raise r.fail(
            f"{where}.labels", "must map label keys to value globs", 'e.g. labels: {tier: "*"}'
        )
    allowed = [c.value for c in ChangeKind]
    for i, change in enumerate(got.get("changes", ())):
        if change not in allowed:
            raise r.fail(f"{where}.changes[{i}]", f"unknown change {change!r}", "|".join(allowed))
    return Rendered(
        kinds=got.get("kinds", ()),
        api_groups=got.get("api_groups", ()),
        namespaces=got.get("namespaces", ()),
        names=got.get("names", ()),
        changes=tuple(ChangeKind(c) for c in got.get("changes", ())),
        labels=tuple(sorted(labels.items())),
        clusters=got.get("clusters", ()),
        apps=got.get("apps", ()),
    )


def _policy_findings(r: ConfigReader, value: Any, where: str) -> PolicyFindings:
    raw = _fields(r, value, where, ("severity", "rule_ids", "requires_approval"))
    severity = raw.get("severity", "error")
    if not isinstance(severity, str) or severity not in SEVERITIES:
        raise r.fail(f"{where}.severity", f"unknown severity {severity!r}", "|".join(SEVERITIES))
    ids = _strings(r, raw["rule_ids"], f"{where}.rule_ids") if "rule_ids" in raw else ()
    approval = r.boolean(raw, where, "requires_approval", False)
    return PolicyFindings(SEVERITIES[severity], ids, approval)


def _author(r: ConfigReader, value: Any, where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    raw = _fields(r, value, where, ("users", "teams"))
    if not raw:
        raise r.fail(where, "needs users or teams", "e.g. {users: [alice], teams: [org/sre]}")
    users = _strings(r, raw["users"], f"{where}.users") if "users" in raw else ()
    teams = _strings(r, raw["teams"], f"{where}.teams") if "teams" in raw else ()
    for i, team in enumerate(teams):
        if not re.fullmatch(r"[^/\s]+/[^/\s]+", team):
            raise r.fail(f"{where}.teams[{i}]", f"team {team!r} is not org/team", "")
    return users, teams


def _title(r: ConfigReader, value: Any, where: str) -> TitleMatches:
    patterns = []
    for i, text in enumerate(_strings(r, value, where)):
        try:
            patterns.append(re.compile(text))
        except re.error as exc:
            raise r.fail(
                f"{where}[{i}]", f"invalid regular expression {text!r}: {exc}", ""
            ) from exc
    return TitleMatches(tuple(patterns))


def _signatures(r: ConfigReader, value: Any, where: str) -> Signatures:
    raw = _fields(r, value, where, ("verified",))
    if "verified" not in raw:
        raise r.fail(where, "needs `verified: true` or `verified: false`", "")
    return Signatures(r.boolean(raw, where, "verified", True))


_PARSERS: dict[str, Callable[[ConfigReader, Any, str], Predicate]] = {
    "changed_files": lambda r, v, w: ChangedFiles(_strings(r, v, w)),
    "only_changed_files": lambda r, v, w: OnlyChangedFiles(_strings(r, v, w)),
    "rendered": _rendered,
    "policy_findings": _policy_findings,
    "author": lambda r, v, w: Author(*_author(r, v, w)),
    "author_not": lambda r, v, w: AuthorNot(*_author(r, v, w)),
    "has_labels": lambda r, v, w: HasLabels(_strings(r, v, w)),
    "title_matches": _title,
    "target_branch": lambda r, v, w: TargetBranch(_strings(r, v, w)),
    "signatures": _signatures,
}


def parse_predicates(
    raw: Mapping[str, Any] | None, path: str, reader: ConfigReader
) -> tuple[Predicate, ...]:
    """A rule's `if:` (at `path`) as predicates that must all match; empty or missing: always."""
    if not raw:
        return ()
    _fields(reader, raw, path, tuple(_PARSERS))
    return tuple(_PARSERS[key](reader, value, _sub(path, key)) for key, value in raw.items())
