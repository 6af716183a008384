"""The approval stage of a review: the gate's facts from the review and the forge."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.approval.decide import decide_approval
from bot.core.approval.rules import ApprovalConfig
from bot.model.approval import ApprovalFacts, ForgeFacts, RuleResult
from bot.model.change import FileChange
from bot.model.diff import ResourceDiff
from bot.model.finding import Finding
from bot.model.repo_config import CONFIG_PATH
from bot.model.signatures import CommitVerdict, Verdict


def decide_from_review(
    config: ApprovalConfig,
    forge: ForgeFacts | None,
    *,
    head_sha: str,
    files: Sequence[FileChange],
    diffs: Sequence[ResourceDiff],
    findings: Sequence[Finding],
    signatures: Sequence[CommitVerdict] | None,
    rendered_fingerprint: str = "",
) -> RuleResult:
    """Without forge facts (a local run) nobody has reviewed yet: the tree says who must."""
    known = forge or ForgeFacts()
    verified = (
        None if signatures is None else all(v.verdict is Verdict.VERIFIED for v in signatures)
    )
    facts = ApprovalFacts(
        head_sha=head_sha,
        author=known.author,
        changed_files=tuple(f.path for f in files),
        diffs=tuple(diffs),
        findings=tuple(findings),
        labels=known.labels,
        title=known.title,
        target_branch=known.target_branch,
        signatures_verified=verified,
        reviews=known.reviews,
        committers=known.committers,
        teams=known.teams,
        permissions=known.permissions,
        rendered_fingerprints=(
            {**known.rendered_fingerprints, head_sha: rendered_fingerprint}
            if rendered_fingerprint and head_sha
            else known.rendered_fingerprints
        ),
    )
    config_changed = any(f.path == CONFIG_PATH for f in files)
    return decide_approval(config, facts, config_changed)
