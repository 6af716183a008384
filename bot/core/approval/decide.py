"""decide_approval(): the result tree for one head SHA. Never raises."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.approval.predicates import evaluate_all
from bot.core.approval.rules import PERMISSIONS, ApprovalConfig, Node, Requirement, Rule
from bot.model.approval import ApprovalFacts, RuleResult, RuleStatus

CONFIG_OWNERS = "config-owners"


def _latest_states(facts: ApprovalFacts, requirement: Requirement) -> dict[str, str]:
    """Each reviewer's last word; with invalidate_on_push, only reviews of the head SHA count."""
    states: dict[str, str] = {}
    for review in facts.reviews:
        if requirement.invalidate_on_push and not _still_valid(
            review.commit_sha, facts, requirement
        ):
            continue
        if review.state in ("approved", "changes_requested", "dismissed"):
            states[review.user] = review.state
    return states


def _still_valid(commit: str, facts: ApprovalFacts, requirement: Requirement) -> bool:
    """A review binds to the SHA it was made on; with keep_if_rendered_unchanged, also to any
    commit whose rendered desired state is byte-identical (a rebase, a comment-only commit)."""
    if commit == facts.head_sha:
        return True
    if not requirement.keep_if_rendered_unchanged:
        return False
    then = facts.rendered_fingerprints.get(commit)
    return then is not None and then == facts.rendered_fingerprints.get(facts.head_sha)


def _eligible(user: str, facts: ApprovalFacts, requirement: Requirement) -> bool:
    if user == facts.author and not requirement.author_can_approve:
        return False
    if requirement.ignore_committers and user in facts.committers:
        return False
    listed = bool(requirement.users or requirement.teams)
    in_list = user in requirement.users or any(
        user in facts.teams.get(team, frozenset()) for team in requirement.teams
    )
    if listed and not in_list:
        return False
    if requirement.permissions:
        held = facts.permissions.get(user, "read")
        lowest = min(PERMISSIONS.index(p) for p in requirement.permissions)
        return held in PERMISSIONS and PERMISSIONS.index(held) >= lowest
    return True


def _who(requirement: Requirement) -> str:
    names = [f"@{u}" for u in requirement.users] + [f"@{t}" for t in requirement.teams]
    if requirement.permissions:
        names.append(f"anyone with {' or '.join(requirement.permissions)} permission")
    return " or ".join(names) or "any reviewer"


def judge_requirement(
    name: str, requirement: Requirement, facts: ApprovalFacts, why: Iterable[str]
) -> RuleResult:
    states = _latest_states(facts, requirement)
    eligible = {u: s for u, s in states.items() if _eligible(u, facts, requirement)}
    reasons = "; ".join(why)
    against = sorted(u for u, s in eligible.items() if s == "changes_requested")
    if against:
        return RuleResult(
            name, RuleStatus.DISAPPROVED, f"changes requested by @{', @'.join(against)}"
        )
    approved = sorted(u for u, s in eligible.items() if s == "approved")
    missing = requirement.count - len(approved)
    if missing <= 0:
        return RuleResult(name, RuleStatus.APPROVED, f"approved by @{', @'.join(approved)}")
    return RuleResult(
        name,
        RuleStatus.PENDING,
        f"{missing} more from {_who(requirement)}" + (f": {reasons}" if reasons else ""),
    )


def judge_rule(rule: Rule, facts: ApprovalFacts) -> RuleResult:
    matched, reasons = evaluate_all(rule.predicates, facts)
    if not matched:
        return RuleResult(rule.name, RuleStatus.SKIPPED, "does not apply to this change")
    return judge_requirement(rule.name, rule.requires, facts, reasons[:3])


def _combine(op: str, children: tuple[RuleResult, ...]) -> RuleStatus:
    statuses = [c.status for c in children]
    applied = [s for s in statuses if s is not RuleStatus.SKIPPED]
    if not applied:
        return RuleStatus.SKIPPED
    if op == "and":
        return max(applied) if RuleStatus.DISAPPROVED in applied else min(applied)
    if RuleStatus.APPROVED in applied:
        return RuleStatus.APPROVED
    return RuleStatus.PENDING if RuleStatus.PENDING in applied else RuleStatus.DISAPPROVED


def _evaluate(node: Node, results: dict[str, RuleResult]) -> RuleResult:
    if node.op == "rule":
        return results[node.rule]
    children = tuple(_evaluate(child, results) for child in node.children)
    status = _combine(node.op, children)
    waiting = [c.name for c in children if c.status is RuleStatus.PENDING]
    description = f"{node.op}: " + (
        f"waiting for {', '.join(waiting)}" if waiting else status.label
    )
    return RuleResult(node.op, status, description, children)


def decide_approval(
    config: ApprovalConfig, facts: ApprovalFacts, config_changed: bool = False
) -> RuleResult:
    """The tree for `facts.head_sha`. A change to the approval config also needs its owners."""
    results = {name: judge_rule(rule, facts) for name, rule in config.rules.items()}
    tree = _evaluate(config.policy, results)
    if config_changed and config.config_owners is not None:
        owners = judge_requirement(
            CONFIG_OWNERS, config.config_owners, facts, ["this change edits the approval rules"]
        )
        children = (tree, owners)
        return RuleResult("approval", _combine("and", children), "approval rules", children)
    return RuleResult("approval", tree.status, tree.description, tree.children or (tree,))
