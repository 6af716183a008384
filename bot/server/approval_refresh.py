"""Approval without a re-render: a review event changes who approved, not what the change
renders to, so the last Report of the head SHA is re-judged with fresh forge facts."""

from __future__ import annotations

from dataclasses import replace

from bot.core.approval.predicates import Author, AuthorNot
from bot.core.approval.rules import ApprovalConfig
from bot.core.approval.stage import decide_from_review
from bot.core.trusted_inputs import load_trusted_inputs
from bot.model.approval import ForgeFacts
from bot.model.errors import TrustedInputError
from bot.model.report import Report
from bot.ports import RepoTree


def trusted_approval(base: RepoTree) -> ApprovalConfig | None:
    """The base revision's approval rules; None without rules or with a broken config (the
    review itself then reports the broken file as a failed check)."""
    try:
        return load_trusted_inputs(base, "base").approval
    except TrustedInputError:
        return None


def approval_teams(config: ApprovalConfig | None) -> tuple[str, ...]:
    """Every "org/team" the rules name: the forge resolves their members once per review."""
    if config is None:
        return ()
    requirements = [rule.requires for rule in config.rules.values()]
    if config.config_owners is not None:
        requirements.append(config.config_owners)
    teams = {team for requirement in requirements for team in requirement.teams}
    for rule in config.rules.values():
        for predicate in rule.predicates:
            if isinstance(predicate, Author | AuthorNot):
                teams.update(predicate.teams)
    return tuple(sorted(teams))


def redecide_approval(report: Report, config: ApprovalConfig, facts: ForgeFacts) -> Report:
    """`report` with its approval decided again on `facts`; everything else stays as rendered."""
    result = decide_from_review(
        config,
        facts,
        head_sha=report.change.head.commit,
        files=report.changed_files,
        diffs=report.diffs,
        # review() judges approval before signature problems join the findings.
        findings=tuple(f for f in report.findings if not f.rule_id.startswith("commit-")),
        signatures=report.signatures,
        rendered_fingerprint=report.rendered_fingerprint,
    )
    return replace(report, approval=result)
