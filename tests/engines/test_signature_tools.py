"""ToolSignatureVerifier with real keys, real signed commits, real gpgv and ssh-keygen.

The module fixture builds, once per worker: OpenPGP keys (trusted, untrusted, expired,
revoked), SSH keys and an allowed_signers file, and a repository with one commit signed by each.
The recipes here are the ones docs/ should show.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from bot.core.signatures.payload import signature_kind, split_signature
from bot.engines.git_commits import GitCommitLog
from bot.engines.signature_tools import ToolSignatureVerifier
from bot.engines.workspace import Workspace
from bot.ports import CommitObject, SignatureKind, SignatureStatus, TrustedSigners

pytestmark = pytest.mark.integration

OLD_TIME = 1_600_000_000  # 2020-09-13: the expired key lives (one day) from here
CAROL_VALID_BEFORE = "20200101"  # carol's SSH key stops being an allowed signer on 2020-01-01


@dataclass(frozen=True)
class Keys:
    alice: str  # primary fingerprint; commits are signed by its signing subkey
    mallory: str  # never trusted
    old: str  # expired (created with a faked system time)
    revoked: str  # revoked after signing
    trusted: TrustedSigners
    commits: dict[str, CommitObject]  # by summary
    other_ca: bytes  # a root that did not issue alice's certificate


def run(argv: list[str], env: dict[str, str], stdin: bytes | None = None) -> str:
    proc = subprocess.run(argv, env=env, input=stdin, capture_output=True, check=False)
    assert proc.returncode == 0, f"{argv}: {proc.stderr.decode()}"
    return proc.stdout.decode()


def primary_fingerprint(gpg: list[str], env: dict[str, str], uid: str) -> str:
    listing = run([*gpg, "--with-colons", "--list-keys", uid], env)
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))


def make_gpg_keys(gpg: list[str], env: dict[str, str]) -> tuple[str, str, str, str]:
    quick = [*gpg, "--passphrase", "", "--quick-gen-key"]
    # Alice: a certify-only primary key with a signing subkey and two user ids.
    run([*quick, "Alice <alice@example.com>", "ed25519", "cert", "1y"], env)
    alice = primary_fingerprint(gpg, env, "alice@example.com")
    run([*gpg, "--passphrase", "", "--quick-add-key", alice, "ed25519", "sign", "1y"], env)
    run([*gpg, "--passphrase", "", "--quick-add-uid", alice, "Alice Work <alice@work.test>"], env)
    run([*quick, "Mallory <mallory@example.com>", "ed25519", "sign", "1y"], env)
    # A key that expired long ago: created "in 2020" with a one-day lifetime.
    faked = [*gpg, "--faked-system-time", f"{OLD_TIME}!", "--passphrase", "", "--quick-gen-key"]
    run([*faked, "Old <old@example.com>", "ed25519", "sign", "1d"], env)
    run([*quick, "Rev <rev@example.com>", "ed25519", "sign", "1y"], env)
    return tuple(  # type: ignore[return-value]
        primary_fingerprint(gpg, env, f"{who}@example.com")
        for who in ("alice", "mallory", "old", "rev")
    )


def git(repo: Path, env: dict[str, str], *args: str) -> str:
    return run(["git", "-C", str(repo), "-c", "commit.gpgsign=false", *args], env)


def commit(repo: Path, env: dict[str, str], who: str, message: str, *config: str) -> None:
    (repo / "file").write_text(message + "\n")
    git(repo, env, "add", "file")
    ident = ["-c", f"user.name={who.title()}", "-c", f"user.email={who}@example.com"]
    git(repo, env, *ident, *config, "commit", "-q", "-S", "-m", message)


def make_x509(root: Path, env: dict[str, str]) -> None:
    """A root CA, a leaf for alice@example.com, an already expired leaf and an unrelated CA."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for ca, name in (("ca", "Test Root CA"), ("other-ca", "Other CA")):
        out = ["-keyout", str(root / f"{ca}.key"), "-out", str(root / f"{ca}.pem")]
        run(["openssl", "req", "-x509", *ec, *out, "-days", "30", "-subj", f"/CN={name}"], env)
    request = ["-keyout", str(root / "leaf.key"), "-out", str(root / "leaf.csr")]
    run(["openssl", "req", *ec, *request, "-subj", "/CN=Alice/emailAddress=alice@example.com"], env)
    (root / "leaf.ext").write_text(
        "subjectAltName=email:alice@example.com\nkeyUsage=digitalSignature\n"
        "extendedKeyUsage=emailProtection\n"
    )
    sign = ["openssl", "x509", "-req", "-in", str(root / "leaf.csr"), "-CA", str(root / "ca.pem")]
    sign += ["-CAkey", str(root / "ca.key"), "-CAcreateserial", "-extfile", str(root / "leaf.ext")]
    run([*sign, "-days", "30", "-out", str(root / "leaf.pem")], env)
    run([*sign, "-days", "-1", "-out", str(root / "expired.pem")], env)  # notAfter: yesterday


def x509_commit(repo: Path, root: Path, env: dict[str, str], cert: str, message: str) -> None:
    """A commit signed the way gpgsm signs for git: detached CMS, "SIGNED MESSAGE" armor."""
    tree = git(repo, env, "rev-parse", "HEAD^{tree}").strip()
    parent = git(repo, env, "rev-parse", "HEAD").strip()
    ident = f"Alice <alice@example.com> {int(time.time())} +0000"
    payload = f"tree {tree}\nparent {parent}\nauthor {ident}\ncommitter {ident}\n\n{message}\n"
    (root / "payload").write_text(payload)
    signer = ["-signer", str(root / cert), "-inkey", str(root / "leaf.key"), "-outform", "DER"]
    cms = ["openssl", "cms", "-sign", "-binary", "-in", str(root / "payload"), *signer]
    der = subprocess.run(cms, env=env, capture_output=True, check=True).stdout
    text = base64.b64encode(der).decode()
    armor = ["-----BEGIN SIGNED MESSAGE-----"] + [text[i : i + 64] for i in range(0, len(text), 64)]
    header = "gpgsig " + "\n ".join([*armor, "-----END SIGNED MESSAGE-----"]) + "\n"
    head, _, body = payload.partition("\n\n")
    raw = (head + "\n" + header + "\n" + body).encode()
    sha = run(["git", "-C", str(repo), "hash-object", "-t", "commit", "-w", "--stdin"], env, raw)
    git(repo, env, "update-ref", "refs/heads/main", sha.strip())


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keys]:
    root = tmp_path_factory.mktemp("sig")
    home = root / "gnupg"
    home.mkdir(mode=0o700)
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(GNUPGHOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null")
    gpg = ["gpg", "--batch"]
    try:
        alice, mallory, old, revoked = make_gpg_keys(gpg, env)
        for who in ("alice", "bob", "carol", "dave"):
            run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", who, "-f", str(root / who)],
                env,
            )
        repo = root / "repo"
        git(root, env, "init", "-q", "-b", "main", str(repo))
        (repo / "file").write_text("base\n")
        git(repo, env, "add", "file")
        git(repo, env, "-c", "user.name=B", "-c", "user.email=b@x.test", "commit", "-qm", "base")
        base = git(repo, env, "rev-parse", "HEAD").strip()

        with_gpg = ["-c", "gpg.program=gpg"]
        commit(repo, env, "alice", "gpg alice", *with_gpg, "-c", f"user.signingkey={alice}")
        commit(repo, env, "mallory", "gpg mallory", *with_gpg, "-c", f"user.signingkey={mallory}")
        # The expired key signs "in 2020", while it was valid: a gpg wrapper fakes the clock.
        wrapper = root / "gpg-2020"
        wrapper.write_text(f'#!/bin/sh\nexec gpg --faked-system-time {OLD_TIME + 100}! "$@"\n')
        wrapper.chmod(0o755)
        dated = {**env, "GIT_COMMITTER_DATE": f"{OLD_TIME + 100} +0000"}
        old_config = ["-c", f"gpg.program={wrapper}", "-c", f"user.signingkey={old}"]
        commit(repo, dated, "old", "gpg old", *old_config)
        commit(repo, env, "rev", "gpg rev", *with_gpg, "-c", f"user.signingkey={revoked}")
        for who in ("alice", "bob", "carol", "dave"):
            ssh = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={root / who}"]
            commit(repo, env, who, f"ssh {who}", *ssh)
        ssh = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={root / 'carol'}"]
        backdated = {**env, "GIT_COMMITTER_DATE": "2019-12-31T23:00:00Z"}
        commit(repo, backdated, "carol", "ssh carol 2019", *ssh)
        make_x509(root, env)
        x509_commit(repo, root, env, "leaf.pem", "x509 alice")
        x509_commit(repo, root, env, "expired.pem", "x509 expired")

        # Revoke after signing: import the certificate gpg wrote when it created the key.
        certificate = (home / "openpgp-revocs.d" / f"{revoked}.rev").read_bytes()
        run([*gpg, "--import"], env, certificate.replace(b":-----BEGIN", b"-----BEGIN"))
        exported = run([*gpg, "--armor", "--export", alice, old, revoked], env).encode()

        def allowed(who: str, options: str = "") -> str:
            key = " ".join((root / f"{who}.pub").read_text().split()[:2])
            return f'{who}@example.com namespaces="git"{options} {key}\n'

        signers = allowed("alice") + allowed("carol", f',valid-before="{CAROL_VALID_BEFORE}"')
        signers += allowed("dave", ',valid-after="29990101"')
        trusted = TrustedSigners(
            gpg_public_keys=exported,
            ssh_allowed_signers=signers.encode(),
            x509_roots=(root / "ca.pem").read_bytes(),
        )
        log = GitCommitLog(repo).commits(base, "main")
        commits = {c.summary: c for c in log}
        yield Keys(
            alice, mallory, old, revoked, trusted, commits, (root / "other-ca.pem").read_bytes()
        )
    finally:
        subprocess.run(["gpgconf", "--kill", "all"], env=env, check=False)


@pytest.fixture
def verifier(workspace: Workspace) -> ToolSignatureVerifier:
    return ToolSignatureVerifier(workspace)


def check(
    verifier: ToolSignatureVerifier,
    keys: Keys,
    summary: str,
    trusted: TrustedSigners | None = None,
    principal: str | None = None,
    tamper: bool = False,
):
    commit = keys.commits[summary]
    split = split_signature(commit.raw)
    assert split is not None
    payload, signature = split
    if tamper:
        payload = payload.replace(summary.encode(), summary.upper().encode())
    return verifier.verify(
        signature_kind(signature),
        payload,
        signature,
        trusted or keys.trusted,
        commit.committed_at,
        commit.committer_email if principal is None else principal,
    )


def test_gpg_good_signature_names_the_primary_key_and_its_emails(verifier, keys):
    result = check(verifier, keys, "gpg alice")
    assert result.status is SignatureStatus.GOOD, result.reason
    assert result.signer == keys.alice
    assert set(result.identities) == {"alice@example.com", "alice@work.test"}
    assert "subkey" in result.reason


def test_gpg_allow_list(verifier, keys):
    listed = replace(keys.trusted, gpg_fingerprints=frozenset({keys.alice.lower()}))
    assert check(verifier, keys, "gpg alice", listed).status is SignatureStatus.GOOD
    other = replace(keys.trusted, gpg_fingerprints=frozenset({keys.old}))
    result = check(verifier, keys, "gpg alice", other)
    assert result.status is SignatureStatus.UNKNOWN_KEY
    assert keys.alice in result.reason and "allow-list" in result.reason


def test_gpg_untrusted_key_is_unknown(verifier, keys):
    result = check(verifier, keys, "gpg mallory")
    assert result.status is SignatureStatus.UNKNOWN_KEY
    assert result.signer == keys.mallory


def test_gpg_key_that_expired_after_signing_is_still_expired(verifier, keys):
    result = check(verifier, keys, "gpg old")
    assert result.status is SignatureStatus.EXPIRED_KEY
    assert result.signer == keys.old
    assert "2020-09-14" in result.reason and "while the key was still valid" in result.reason


def test_gpg_revoked_key(verifier, keys):
    result = check(verifier, keys, "gpg rev")
    assert result.status is SignatureStatus.REVOKED_KEY
    assert result.signer == keys.revoked


def test_gpg_tampered_payload_is_bad(verifier, keys):
    assert check(verifier, keys, "gpg alice", tamper=True).status is SignatureStatus.BAD


def test_gpg_without_usable_trusted_keys(verifier, keys):
    for material in (b"", b"not a key\n"):
        result = check(verifier, keys, "gpg alice", TrustedSigners(gpg_public_keys=material))
        assert result.status is SignatureStatus.UNKNOWN_KEY
        assert "OpenPGP key" in result.reason


def test_gpg_keyring_is_built_once_per_content_and_no_agent_is_started(workspace, keys):
    verifier = ToolSignatureVerifier(workspace)
    for _ in range(3):
        assert check(verifier, keys, "gpg alice").status is SignatureStatus.GOOD
    assert check(verifier, keys, "gpg mallory").status is SignatureStatus.UNKNOWN_KEY
    keyrings = [p for p in workspace.root.iterdir() if p.name.startswith("gpg-keys-")]
    assert len(keyrings) == 1
    assert not [p for p in workspace.root.iterdir() if p.name.startswith("sig-")]
    socket = run(["gpgconf", "--homedir", str(keyrings[0]), "--list-dirs", "agent-socket"], {})
    assert not Path(socket.strip()).exists()


def test_ssh_good_signature_names_the_principal(verifier, keys):
    result = check(verifier, keys, "ssh alice")
    assert result.status is SignatureStatus.GOOD, result.reason
    assert result.signer == "alice@example.com"
    assert result.identities == ("alice@example.com",)


def test_ssh_key_not_allowed_for_the_principal_is_unknown(verifier, keys):
    assert check(verifier, keys, "ssh bob").status is SignatureStatus.UNKNOWN_KEY
    wrong = check(verifier, keys, "ssh alice", principal="carol@example.com")
    assert wrong.status is SignatureStatus.UNKNOWN_KEY
    assert "carol@example.com" in wrong.reason
    empty = check(verifier, keys, "ssh alice", TrustedSigners())
    assert empty.status is SignatureStatus.UNKNOWN_KEY


def test_ssh_validity_window_is_judged_at_signing_time(verifier, keys):
    expired = check(verifier, keys, "ssh carol")
    assert expired.status is SignatureStatus.EXPIRED_KEY
    assert "valid-before" in expired.reason
    assert check(verifier, keys, "ssh carol 2019").status is SignatureStatus.GOOD
    not_yet = check(verifier, keys, "ssh dave")
    assert not_yet.status is SignatureStatus.EXPIRED_KEY


def test_ssh_tampered_payload_is_bad(verifier, keys):
    result = check(verifier, keys, "ssh alice", tamper=True)
    assert result.status is SignatureStatus.BAD
    assert "incorrect signature" in result.reason


def test_kind_and_content_mismatch_is_never_good(verifier, keys):
    commit = keys.commits["ssh alice"]
    payload, signature = split_signature(commit.raw) or (b"", b"")
    result = verifier.verify(
        SignatureKind.GPG, payload, signature, keys.trusted, 0, "alice@example.com"
    )
    assert result.status is SignatureStatus.BAD


def test_x509_good_signature_names_the_certificate(verifier, keys):
    result = check(verifier, keys, "x509 alice")
    assert result.status is SignatureStatus.GOOD, result.reason
    assert result.signer == "emailAddress=alice@example.com,CN=Alice"
    assert result.identities == ("alice@example.com",)


def test_x509_failures(verifier, keys):
    assert check(verifier, keys, "x509 alice", tamper=True).status is SignatureStatus.BAD
    for roots in (keys.other_ca, b""):
        other = replace(keys.trusted, x509_roots=roots)
        untrusted = check(verifier, keys, "x509 alice", other)
        assert untrusted.status is SignatureStatus.UNTRUSTED_ROOT
        assert untrusted.identities == ("alice@example.com",)
    expired = check(verifier, keys, "x509 expired")
    assert expired.status is SignatureStatus.EXPIRED_KEY
    assert "certificate has expired" in expired.reason
    garbage = verifier.verify(
        SignatureKind.X509, b"x", b"-----BEGIN SIGNED MESSAGE-----\n!!\n", keys.trusted, 0, ""
    )
    assert garbage.status is SignatureStatus.BAD


def test_unrecognised_signature_is_unsupported(verifier, keys):
    result = verifier.verify(SignatureKind.NONE, b"payload", b"sig", keys.trusted, 0, "a@x.test")
    assert result.status is SignatureStatus.UNSUPPORTED


def test_missing_tools_are_unsupported_and_named(workspace, keys, tmp_path):
    verifier = ToolSignatureVerifier(workspace, tool_path=str(tmp_path))
    gpg = check(verifier, keys, "gpg alice")
    assert gpg.status is SignatureStatus.UNSUPPORTED and "gpg" in gpg.reason
    ssh = check(verifier, keys, "ssh alice")
    assert ssh.status is SignatureStatus.UNSUPPORTED and "ssh-keygen" in ssh.reason


def test_tools_get_a_minimal_environment_and_a_timeout(workspace, keys, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "env.txt"
    fake = bin_dir / "ssh-keygen"
    fake.write_text(f"#!/bin/sh\nenv > {record}\nexec sleep 5\n")
    fake.chmod(0o755)
    for tool in ("sleep", "env"):
        (bin_dir / tool).symlink_to(shutil.which(tool) or f"/usr/bin/{tool}")
    verifier = ToolSignatureVerifier(workspace, tool_path=str(bin_dir), timeout_seconds=1)
    result = check(verifier, keys, "ssh alice")
    assert result.status is SignatureStatus.UNSUPPORTED
    assert "did not finish" in result.reason
    names = {line.split("=", 1)[0] for line in record.read_text().splitlines()}
    assert names - {"PWD", "SHLVL", "_"} == {"PATH", "HOME", "GNUPGHOME", "TZ", "LC_ALL"}
    homes = {line.split("=", 1)[1] for line in record.read_text().splitlines() if "HOME=" in line}
    assert all(Path(home).is_relative_to(workspace.root) for home in homes)
