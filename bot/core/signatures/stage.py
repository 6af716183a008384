"""The signature stage: every commit of base..head against the base branch's signers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.core.signatures.payload import signature_kind, split_signature
from bot.core.signatures.verdicts import judge_commit, signature_findings, signatures_required
from bot.core.tree_view import TreeView
from bot.model.finding import Finding
from bot.model.repo_config import SignatureConfig
from bot.model.signatures import CommitVerdict
from bot.ports import (
    CommitObject,
    SignatureKind,
    SignatureRequest,
    SignatureVerifier,
    TrustedSigners,
)


def _content(view: TreeView, path: str) -> bytes:
    read = view.read(path) if path and view.exists(path) else None
    return read.content if read is not None and read.content is not None else b""


def trusted_signers(view: TreeView, config: SignatureConfig) -> TrustedSigners:
    """Signers named by the BASE revision's config, read from the base revision's files."""
    return TrustedSigners(
        gpg_public_keys=_content(view, config.gpg_keys),
        gpg_fingerprints=frozenset(config.gpg_fingerprints),
        ssh_allowed_signers=_content(view, config.ssh_allowed_signers),
        x509_roots=_content(view, config.x509_roots),
        sigstore_issuers=frozenset(config.sigstore_issuers),
    )


def verify_commits(
    commits: Sequence[CommitObject],
    verifier: SignatureVerifier,
    trusted: TrustedSigners,
    config: SignatureConfig,
) -> list[CommitVerdict]:
    """Verdicts in commit order; every signed commit goes to the verifier in one batch."""
    signed: list[tuple[int, SignatureKind, SignatureRequest]] = []
    for index, commit in enumerate(commits):
        split = split_signature(commit.raw)
        if split is None:
            continue
        payload, signature = split
        kind = signature_kind(signature)
        principal = commit.author_email if config.identity == "author" else commit.committer_email
        request = SignatureRequest(kind, payload, signature, commit.committed_at, principal)
        signed.append((index, kind, request))
    checks = verifier.verify_all([r for _, _, r in signed], trusted) if signed else []
    kinds = {index: kind for index, kind, _ in signed}
    found = {index: check for (index, _, _), check in zip(signed, checks, strict=True)}
    return [
        judge_commit(commit, kinds.get(i, SignatureKind.NONE), found.get(i), config)
        for i, commit in enumerate(commits)
    ]


def check_signatures(
    commits: Sequence[CommitObject],
    verifier: SignatureVerifier,
    trusted_view: TreeView,
    config: SignatureConfig,
    changed_paths: Iterable[str],
) -> tuple[list[CommitVerdict], list[Finding]]:
    verdicts = verify_commits(commits, verifier, trusted_signers(trusted_view, config), config)
    required = signatures_required(config, changed_paths)
    return verdicts, signature_findings(verdicts, config, required)
