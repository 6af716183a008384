"""Approval rules from `.gitops-bot.yaml` (base branch): requirements and the and/or tree."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.approval.predicate_config import parse_predicates
from bot.core.approval.predicates import Predicate
from bot.core.config.reader import ConfigReader

MAX_DEPTH = 8
PERMISSIONS = ("read", "triage", "write", "maintain", "admin")
_RULE_KEYS = {"name", "if", "requires"}
_REQUIRES_KEYS = {
    "count",
    "users",
    "teams",
    "permissions",
    "author_can_approve",
    "ignore_committers",
    "invalidate_on_push",
    "keep_if_rendered_unchanged",
}


@dataclass(frozen=True, slots=True)
class Requirement:
    count: int = 1
    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    permissions: tuple[str, ...] = ()
    author_can_approve: bool = False
    ignore_committers: bool = False
    invalidate_on_push: bool = True
    keep_if_rendered_unchanged: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    predicates: tuple[Predicate, ...]
    requires: Requirement


@dataclass(frozen=True, slots=True)
class Node:
    """`and`/`or` over children, or a leaf naming a rule."""

    op: str  # "and" | "or" | "rule"
    rule: str = ""
    children: tuple[Node, ...] = ()


@dataclass(frozen=True, slots=True)
class ApprovalConfig:
    rules: Mapping[str, Rule]
    policy: Node
    config_owners: Requirement | None = None


def _strings(reader: ConfigReader, data: Mapping[str, Any], path: str, key: str) -> tuple[str, ...]:
    values = reader.strings(data, path, key) or ()
    if key in data and not values:
        raise reader.fail(f"{path}.{key}", "must not be empty", "remove the key instead")
    return values


def _requirement(reader: ConfigReader, raw: Any, path: str) -> Requirement:
    if not isinstance(raw, Mapping):
        raise reader.fail(path, "must be a mapping", f"keys: {', '.join(sorted(_REQUIRES_KEYS))}")
    unknown = sorted(set(raw) - _REQUIRES_KEYS, key=str)
    if unknown:
        raise reader.fail(
            f"{path}.{unknown[0]}", "unknown key", f"keys: {', '.join(sorted(_REQUIRES_KEYS))}"
        )
    count = raw.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise reader.fail(f"{path}.count", f"must be a positive integer, got {count!r}")
    permissions = _strings(reader, raw, path, "permissions")
    bad = [p for p in permissions if p not in PERMISSIONS]
    if bad:
        raise reader.fail(
            f"{path}.permissions", f"unknown permission {bad[0]!r}", ", ".join(PERMISSIONS)
        )
    return Requirement(
        count=count,
        users=tuple(u.lstrip("@") for u in _strings(reader, raw, path, "users")),
        teams=tuple(t.lstrip("@") for t in _strings(reader, raw, path, "teams")),
        permissions=permissions,
        author_can_approve=reader.boolean(raw, path, "author_can_approve", False),
        ignore_committers=reader.boolean(raw, path, "ignore_committers", False),
        invalidate_on_push=reader.boolean(raw, path, "invalidate_on_push", True),
        keep_if_rendered_unchanged=reader.boolean(raw, path, "keep_if_rendered_unchanged", False),
    )


def _node(reader: ConfigReader, raw: Any, path: str, names: set[str], depth: int) -> Node:
    if depth > MAX_DEPTH:
        raise reader.fail(path, f"nested deeper than {MAX_DEPTH} levels", "flatten the tree")
    if isinstance(raw, str):
        if raw not in names:
            raise reader.fail(path, f"no rule named {raw!r}", f"rules: {', '.join(sorted(names))}")
        return Node("rule", raw)
    if not isinstance(raw, Mapping) or len(raw) != 1 or next(iter(raw)) not in ("and", "or"):
        raise reader.fail(path, "must be a rule name or {and: [...]} / {or: [...]}")
    op, children = next(iter(raw.items()))
    if not isinstance(children, list) or not children:
        raise reader.fail(f"{path}.{op}", "must be a non-empty list")
    return Node(
        op,
        children=tuple(
            _node(reader, c, f"{path}.{op}[{i}]", names, depth + 1) for i, c in enumerate(children)
        ),
    )


def parse_approval(reader: ConfigReader, raw: Mapping[str, Any]) -> ApprovalConfig | None:
    """`approval:` of the base branch's config; None when the repository has no gate."""
    if not raw:
        return None
    unknown = sorted(set(raw) - {"rules", "policy", "config_owners"}, key=str)
    if unknown:
        raise reader.fail(
            f"approval.{unknown[0]}", "unknown key", "keys: config_owners, policy, rules"
        )
    rules_raw = raw.get("rules")
    if not isinstance(rules_raw, list) or not rules_raw:
        raise reader.fail("approval.rules", "must be a non-empty list of rules")
    rules: dict[str, Rule] = {}
    for i, item in enumerate(rules_raw):
        path = f"approval.rules[{i}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise reader.fail(path, "needs `name:`", "each rule: {name, if, requires}")
        unknown = sorted(set(item) - _RULE_KEYS, key=str)
        if unknown:
            raise reader.fail(f"{path}.{unknown[0]}", "unknown key", "keys: if, name, requires")
        if item["name"] in rules:
            raise reader.fail(f"{path}.name", f"duplicate rule name {item['name']!r}")
        condition = item.get("if") or {}
        if not isinstance(condition, Mapping):
            raise reader.fail(f"{path}.if", "must be a mapping of predicates")
        rules[item["name"]] = Rule(
            item["name"],
            parse_predicates(condition, f"{path}.if", reader),
            _requirement(reader, item.get("requires", {}), f"{path}.requires"),
        )
    default: Any = {"and": list(rules)}
    policy = _node(reader, raw.get("policy", default), "approval.policy", set(rules), 1)
    owners = raw.get("config_owners")
    return ApprovalConfig(
        rules,
        policy,
        _requirement(reader, owners, "approval.config_owners") if owners is not None else None,
    )


def rule_names(node: Node) -> Sequence[str]:
    if node.op == "rule":
        return [node.rule]
    return [name for child in node.children for name in rule_names(child)]
