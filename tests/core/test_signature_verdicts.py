"""Verdicts from verifier answers: identity binding, forge commits, what is required."""

from dataclasses import replace

import pytest

from bot.core.memory_tree import InMemoryTree
from bot.core.signatures.stage import check_signatures, trusted_signers
from bot.core.tree_view import TreeView
from bot.model.finding import Severity
from bot.model.repo_config import SignatureConfig
from bot.model.signatures import Verdict
from bot.ports import CommitObject, SignatureCheck, SignatureStatus

SIG = b"gpgsig -----BEGIN SSH SIGNATURE-----\n AAAA\n -----END SSH SIGNATURE-----\n"


def commit(
    sha="a" * 40, signed=True, committer="dev@example.com", author="dev@example.com", name="Dev"
):
    header = f"tree t\nauthor A <{author}> 1 +0000\ncommitter {name} <{committer}> 1700000000 +0000\n".encode()
    raw = header + (SIG if signed else b"") + b"\nchange things\n"
    return CommitObject(sha, raw, (), author, name, committer, 1700000000, "change things")


class FakeVerifier:
    def __init__(self, check):
        self.check = check
        self.calls = []

    def verify_all(self, requests, trusted):
        for r in requests:
            self.calls.append((r.kind, r.payload, r.principal, r.signed_at, trusted))
        return [self.check for _ in requests]


GOOD = SignatureCheck(SignatureStatus.GOOD, "SHA256:abc", ("dev@example.com",), "Good signature")


REQUIRE_ALL = SignatureConfig(require="all")


def run(commits, check=GOOD, config=REQUIRE_ALL, changed=("apps/x.yaml",)):
    view = TreeView(
        InMemoryTree({".gitops-bot/allowed_signers": b"dev@example.com ssh-ed25519 AAAA"}), 1 << 20
    )
    verifier = FakeVerifier(check)
    verdicts, findings = check_signatures(commits, verifier, view, config, changed)
    return verdicts, findings, verifier


@pytest.mark.parametrize(
    ("check", "verdict"),
    [
        (GOOD, Verdict.VERIFIED),
        (
            SignatureCheck(SignatureStatus.BAD, "", (), "signature does not match"),
            Verdict.BAD_SIGNATURE,
        ),
        (SignatureCheck(SignatureStatus.UNKNOWN_KEY, "K"), Verdict.UNKNOWN_KEY),
        (SignatureCheck(SignatureStatus.EXPIRED_KEY, "K"), Verdict.EXPIRED_KEY),
        (SignatureCheck(SignatureStatus.REVOKED_KEY, "K"), Verdict.REVOKED_KEY),
        (SignatureCheck(SignatureStatus.UNTRUSTED_ROOT, "CN=x"), Verdict.UNTRUSTED_ROOT),
        (
            SignatureCheck(SignatureStatus.UNSUPPORTED, "", (), "not verified yet"),
            Verdict.UNVERIFIABLE,
        ),
        (
            SignatureCheck(SignatureStatus.GOOD, "K", ("someone@else.com",)),
            Verdict.IDENTITY_MISMATCH,
        ),
    ],
    ids=[
        "good",
        "bad",
        "unknown",
        "expired",
        "revoked",
        "untrusted-root",
        "unsupported",
        "identity",
    ],
)
def test_verdict_per_verifier_answer(check, verdict):
    (result,), findings, _ = run([commit()], check)
    assert result.verdict is verdict
    expected = [] if verdict is Verdict.VERIFIED else [(f"commit-{verdict.value}", Severity.ERROR)]
    assert [(f.rule_id, f.severity) for f in findings] == expected


def test_unsigned_commit_is_not_sent_to_the_verifier():
    (result,), findings, verifier = run([commit(signed=False)])
    assert result.verdict is Verdict.UNSIGNED and verifier.calls == []
    assert findings[0].metadata == {"sha": "a" * 40, "verdict": "unsigned"}


def test_payload_principal_time_and_trust_reach_the_verifier():
    _, _, verifier = run(
        [commit(committer="c@example.com", author="a@example.com")],
        config=SignatureConfig(require="all", identity="author"),
    )
    kind, payload, principal, signed_at, trusted = verifier.calls[0]
    assert (kind.value, principal, signed_at) == ("ssh", "a@example.com", 1700000000)
    assert b"gpgsig" not in payload
    assert trusted.ssh_allowed_signers == b"dev@example.com ssh-ed25519 AAAA"


@pytest.mark.parametrize(
    ("identity", "identities", "verdict"),
    [
        ("committer", ("dev@example.com",), Verdict.VERIFIED),
        ("committer", ("DEV@example.com",), Verdict.VERIFIED),
        ("author", ("dev@example.com",), Verdict.IDENTITY_MISMATCH),
        ("any", ("whoever@example.com",), Verdict.VERIFIED),
    ],
    ids=["committer", "case-insensitive", "author-differs", "any"],
)
def test_identity_binding(identity, identities, verdict):
    check = SignatureCheck(SignatureStatus.GOOD, "K", identities)
    c = commit(author="author@example.com")
    (result,), _, _ = run([c], check, SignatureConfig(require="all", identity=identity))
    assert result.verdict is verdict


@pytest.mark.parametrize(
    ("policy", "severity"),
    [("allow", Severity.INFO), ("deny", Severity.ERROR)],
    ids=["allow", "deny"],
)
def test_forge_commits_are_recognised_and_follow_the_policy(policy, severity):
    forge = commit(committer="noreply@github.com", name="GitHub")
    (result,), findings, _ = run(
        [forge], config=SignatureConfig(require="all", forge_commits=policy)
    )
    assert result.verdict is Verdict.FORGE_COMMIT
    assert [(f.rule_id, f.severity) for f in findings] == [("commit-forge-commit", severity)]


@pytest.mark.parametrize(
    ("config", "changed", "severity"),
    [
        (SignatureConfig(require="none"), ("prod/app.yaml",), None),
        (
            SignatureConfig(require="paths", required_paths=("prod/**",)),
            ("prod/app.yaml",),
            Severity.ERROR,
        ),
        (
            SignatureConfig(require="paths", required_paths=("prod/**",)),
            ("staging/app.yaml",),
            Severity.INFO,
        ),
    ],
    ids=["none", "paths-touched", "paths-not-touched"],
)
def test_what_is_required(config, changed, severity):
    (verdict,), findings, _ = run([commit(signed=False)], config=config, changed=changed)
    assert verdict.verdict is Verdict.UNSIGNED  # always in the per-commit table
    assert [f.severity for f in findings] == ([severity] if severity else [])


def test_people_name_the_signer_and_every_commit_of_a_long_pr_is_judged():
    config = SignatureConfig(require="all", people={"SHA256:abc": "Dana (platform)"})
    commits = [commit(sha=f"{i:040x}") for i in range(300)]
    verdicts, findings, verifier = run(commits, config=config)
    assert len(verdicts) == 300 and len(verifier.calls) == 300 and findings == []
    assert verdicts[0].person == "Dana (platform)"


def test_trusted_signers_come_from_the_given_base_tree_only():
    base = TreeView(
        InMemoryTree({"keys/trusted.asc": b"KEYS", ".gitops-bot/allowed_signers": b"SIGNERS"}),
        1 << 20,
    )
    trusted = trusted_signers(
        base, replace(SignatureConfig(), gpg_keys="keys/trusted.asc", gpg_fingerprints=("ABCD",))
    )
    assert (trusted.gpg_public_keys, trusted.ssh_allowed_signers, trusted.gpg_fingerprints) == (
        b"KEYS",
        b"SIGNERS",
        frozenset({"ABCD"}),
    )
    assert trusted.x509_roots == b""
