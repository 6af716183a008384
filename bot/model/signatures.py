"""Per-commit signature verdicts, as the report shows them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    VERIFIED = "verified"
    UNSIGNED = "unsigned"
    BAD_SIGNATURE = "bad-signature"
    UNKNOWN_KEY = "unknown-key"
    EXPIRED_KEY = "expired-key"
    REVOKED_KEY = "revoked-key"
    IDENTITY_MISMATCH = "identity-mismatch"
    UNTRUSTED_ROOT = "untrusted-root"
    FORGE_COMMIT = "forge-commit"
    UNVERIFIABLE = "unverifiable"  # a signature kind this installation cannot check


@dataclass(frozen=True, slots=True)
class CommitVerdict:
    sha: str
    summary: str
    committer_email: str
    kind: str  # gpg | ssh | x509 | none
    verdict: Verdict
    signer: str = ""  # fingerprint / principal / certificate subject
    person: str = ""  # who the signer is, from signatures.people
    reason: str = ""
