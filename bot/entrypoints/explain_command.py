"""`gitops-bot explain`: the approval tree for a change, and what if some users approve."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from bot.core.approval.decide import decide_approval
from bot.core.trusted_inputs import load_trusted_inputs
from bot.engines.git_tree import GitTree
from bot.entrypoints.arguments import add_commit_range
from bot.model.approval import ApprovalFacts, Review, RuleResult
from bot.model.errors import UsageError
from bot.model.repo_config import CONFIG_PATH
from bot.model.report import Report
from bot.model.signatures import Verdict

FORMATS = ("text", "json")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "explain",
        help="show the approval rules' verdict for a change",
        description="Review --base..--head, evaluate the base branch's approval rules on it and "
        "print the result tree: who still has to approve, and why. --approved-by simulates "
        "approvals on the head commit.",
    )
    add_commit_range(parser, "base ref: the rules come from it")
    parser.add_argument(
        "--approved-by", default="", metavar="USER,...", help="users approving the head commit"
    )
    parser.add_argument("--author", default="", help="the pull request's author (login)")
    parser.add_argument(
        "--team",
        action="append",
        default=[],
        metavar="ORG/TEAM=USER,...",
        help="team members (the server asks the forge; locally say who is in which team)",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")


def _teams(specs: list[str]) -> dict[str, frozenset[str]]:
    teams = {}
    for spec in specs:
        name, sep, members = spec.partition("=")
        if not sep or "/" not in name:
            raise UsageError(f"--team {spec!r}: expected ORG/TEAM=USER,...")
        teams[name.lstrip("@")] = frozenset(m.strip().lstrip("@") for m in members.split(",") if m)
    return teams


def _tree(result: RuleResult, depth: int = 0) -> list[str]:
    line = f"{'  ' * depth}{result.status.label:<11} {result.name}: {result.description}"
    return [line, *(x for child in result.children for x in _tree(child, depth + 1))]


def _json(result: RuleResult) -> dict[str, Any]:
    return {
        "name": result.name,
        "status": result.status.label,
        "description": result.description,
        "rules": [_json(child) for child in result.children],
    }


def explain(args: argparse.Namespace, report: Report) -> int:
    with GitTree.open(args.repo, args.base) as base:
        trusted = load_trusted_inputs(base, base.commit[:7])
    if trusted.approval is None:
        sys.stdout.write(f"no approval rules in {CONFIG_PATH} on {args.base}\n")
        return 0
    approvers = [u.strip().lstrip("@") for u in args.approved_by.split(",") if u.strip()]
    head_sha = report.change.head.commit
    verdicts = report.signatures
    facts = ApprovalFacts(
        head_sha=head_sha,
        author=args.author,
        changed_files=tuple(f.path for f in report.changed_files),
        diffs=report.diffs,
        findings=report.findings,
        signatures_verified=None
        if verdicts is None
        else all(v.verdict is Verdict.VERIFIED for v in verdicts),
        reviews=tuple(Review(user, "approved", head_sha) for user in approvers),
        teams=_teams(args.team),
        # Locally nobody's permission is known: simulated approvers count as writers.
        permissions=dict.fromkeys(approvers, "write"),
    )
    config_changed = any(f.path == CONFIG_PATH for f in report.changed_files)
    result = decide_approval(trusted.approval, facts, config_changed)
    if args.format == "json":
        sys.stdout.write(json.dumps(_json(result), indent=2) + "\n")
    else:
        sys.stdout.write("\n".join(_tree(result)) + "\n")
    return 0


def run(
    args: argparse.Namespace, review_change: Callable[[argparse.Namespace, ExitStack], Report]
) -> int:
    with ExitStack() as stack:
        report = review_change(args, stack)
    return explain(args, report)
