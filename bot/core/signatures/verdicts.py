"""From a verifier's answer to a verdict: identity binding, forge commits, what is required."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence

from bot.model.finding import Finding, Severity
from bot.model.repo_config import SignatureConfig
from bot.model.signatures import CommitVerdict, Verdict
from bot.ports import CommitObject, SignatureCheck, SignatureKind, SignatureStatus

# Commits the forge writes itself: web-UI merges, squashes, "Update branch", web edits.
FORGE_COMMITTERS = frozenset({"noreply@github.com", "noreply@gitlab.com"})

_FROM_STATUS = {
    SignatureStatus.BAD: Verdict.BAD_SIGNATURE,
    SignatureStatus.UNKNOWN_KEY: Verdict.UNKNOWN_KEY,
    SignatureStatus.EXPIRED_KEY: Verdict.EXPIRED_KEY,
    SignatureStatus.REVOKED_KEY: Verdict.REVOKED_KEY,
    SignatureStatus.UNTRUSTED_ROOT: Verdict.UNTRUSTED_ROOT,
    SignatureStatus.UNSUPPORTED: Verdict.UNVERIFIABLE,
}


def is_forge_commit(commit: CommitObject) -> bool:
    return commit.committer_email.lower() in FORGE_COMMITTERS


def required_identity(commit: CommitObject, config: SignatureConfig) -> str:
    """The email the signer must vouch for ("" when any trusted signer will do)."""
    if config.identity == "author":
        return commit.author_email
    if config.identity == "committer":
        return commit.committer_email
    return ""


def judge_commit(
    commit: CommitObject,
    kind: SignatureKind,
    check: SignatureCheck | None,
    config: SignatureConfig,
) -> CommitVerdict:
    def verdict(value: Verdict, reason: str, signer: str = "") -> CommitVerdict:
        person = config.people.get(signer, "") if signer else ""
        return CommitVerdict(
            commit.sha,
            commit.summary,
            commit.committer_email,
            kind.value,
            value,
            signer,
            person,
            reason,
        )

    if is_forge_commit(commit):
        return verdict(Verdict.FORGE_COMMIT, f"committed by the forge ({commit.committer_name})")
    if check is None:
        return verdict(Verdict.UNSIGNED, "the commit carries no signature")
    if check.status is not SignatureStatus.GOOD:
        return verdict(_FROM_STATUS[check.status], check.reason or check.status.value, check.signer)
    wanted = required_identity(commit, config)
    if wanted and wanted.lower() not in {i.lower() for i in check.identities}:
        vouched = ", ".join(check.identities) or "no email"
        return verdict(
            Verdict.IDENTITY_MISMATCH,
            f"signed by a trusted key for {vouched}, but the {config.identity} is {wanted}",
            check.signer,
        )
    return verdict(Verdict.VERIFIED, check.reason, check.signer)


def signatures_required(config: SignatureConfig, changed_paths: Iterable[str]) -> bool:
    if config.require == "all":
        return True
    if config.require == "paths":
        return any(
            fnmatch.fnmatchcase(path, glob)
            for path in changed_paths
            for glob in config.required_paths
        )
    return False


def signature_findings(
    verdicts: Sequence[CommitVerdict], config: SignatureConfig, required: bool
) -> list[Finding]:
    """One finding per commit that is not verified, where signing is required (the per-commit
    table of the report shows every verdict either way)."""
    if not required:
        return []
    findings = []
    for v in verdicts:
        if v.verdict is Verdict.VERIFIED:
            continue
        blocking = not (v.verdict is Verdict.FORGE_COMMIT and config.forge_commits == "allow")
        findings.append(
            Finding(
                rule_id=f"commit-{v.verdict.value}",
                severity=Severity.ERROR if blocking else Severity.INFO,
                message=f"commit {v.sha[:12]} ({v.summary}): {v.reason}",
                hint="sign commits with a key listed in the base branch's trusted signers"
                if v.verdict is not Verdict.FORGE_COMMIT
                else "forge-made commits are allowed or refused by signatures.forge_commits",
                metadata={"sha": v.sha, "verdict": v.verdict.value},
            )
        )
    return findings
