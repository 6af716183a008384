"""Commit signature verification with real tools."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class SignatureKind(StrEnum):
    NONE = "none"
    GPG = "gpg"
    SSH = "ssh"
    X509 = "x509"


class SignatureStatus(StrEnum):
    """What a verifier concluded about one signature, before identity and policy are applied."""

    GOOD = "good"
    BAD = "bad"  # the signature does not match the payload (tampered, or wrong key)
    UNKNOWN_KEY = "unknown-key"  # made by a key the trusted signers do not contain
    EXPIRED_KEY = "expired-key"
    REVOKED_KEY = "revoked-key"
    UNTRUSTED_ROOT = "untrusted-root"  # X.509: no chain to a trusted root
    UNSUPPORTED = "unsupported"  # a kind this verifier cannot check


@dataclass(frozen=True, slots=True)
class TrustedSigners:
    """Trust material read from the BASE revision (file contents, not paths)."""

    gpg_public_keys: bytes = b""  # ASCII-armored or binary public keys
    gpg_fingerprints: frozenset[str] = frozenset()  # allow-list; empty: every key given
    ssh_allowed_signers: bytes = b""  # ssh-keygen ALLOWED SIGNERS format
    x509_roots: bytes = b""  # PEM
    sigstore_issuers: frozenset[str] = frozenset()  # OIDC issuers accepted on Fulcio certificates


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    status: SignatureStatus
    signer: str = ""  # GPG fingerprint, SSH principal, X.509 subject/email
    identities: tuple[str, ...] = ()  # emails the signing key vouches for (GPG uids, SSH principal)
    reason: str = ""  # the tool's words, for the report


@dataclass(frozen=True, slots=True)
class SignatureRequest:
    kind: SignatureKind
    payload: bytes
    signature: bytes
    signed_at: int
    principal: str


class SignatureVerifier(Protocol):
    """Verifies detached signatures of commit payloads with real tools (gpgv, ssh-keygen)."""

    def verify_all(
        self, requests: Sequence[SignatureRequest], trusted: TrustedSigners
    ) -> list[SignatureCheck]:
        """One check per request, in order (implementations may verify concurrently)."""
        ...

    def verify(
        self,
        kind: SignatureKind,
        payload: bytes,
        signature: bytes,
        *,
        trusted: TrustedSigners,
        signed_at: int,
        principal: str,
    ) -> SignatureCheck:
        """`signed_at`: the commit time (Unix seconds), for key validity windows;
        `principal`: the identity the signature must be made by (SSH allowed signers)."""
        ...
