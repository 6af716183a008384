"""Reading gpg's machine output: `--with-colons` key listings and gpgv `--status-fd` lines.

Pure parsing, kept apart from the tool runner; gpgv exits 0 for expired and revoked keys, so
the verdict comes from the status lines alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.ports import SignatureCheck, SignatureStatus

_GNUPG = "[GNUPG:] "
_NO_PUBKEY = "9"  # ERRSIG return code: the public key is not in the keyring
_BAD_ALGORITHM = "4"


def utc(timestamp: int) -> str:
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return f"@{timestamp}"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


@dataclass(frozen=True, slots=True)
class Keyring:
    """The trusted OpenPGP keys as a binary keyring for gpgv, and what gpg listed of them."""

    path: Path | None  # None: no usable key (see problem)
    primary_of: Mapping[str, str] = field(default_factory=dict)  # key/subkey fpr -> primary fpr
    emails: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # primary fpr -> uids
    problem: str = ""


def _unescape(text: str) -> str:
    """gpg --with-colons escapes ":" and control bytes as \\xHH inside UTF-8 user ids."""
    raw = re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m[1], 16)]), text.encode())
    return raw.decode("utf-8", "replace")


def _email(uid: str) -> str:
    found = re.findall(r"<([^<>\s]+)>", uid)
    if found:
        return str(found[-1])
    return uid.strip() if "@" in uid and " " not in uid.strip() else ""


def parse_keys(colons: bytes) -> Keyring:
    """Primary fingerprints, their subkeys and the emails of their non-revoked user ids."""
    primary_of: dict[str, str] = {}
    emails: dict[str, list[str]] = {}
    primary, record = "", ""
    for line in colons.decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if fields[0] in ("pub", "sub"):
            record = fields[0]
        elif fields[0] == "fpr" and len(fields) > 9 and record:
            fpr = fields[9].upper()
            primary = fpr if record == "pub" else primary
            primary_of[fpr] = primary
            emails.setdefault(primary, [])
            record = ""
        elif fields[0] == "uid" and len(fields) > 9 and primary and fields[1] != "r":
            email = _email(_unescape(fields[9]))
            if email and email not in emails[primary]:
                emails[primary].append(email)
    return Keyring(None, primary_of, {fpr: tuple(found) for fpr, found in emails.items()})


def _signatures(status: str) -> list[dict[str, list[list[str]]]]:
    """gpgv's status lines grouped per signature (each starts with NEWSIG)."""
    groups: list[dict[str, list[list[str]]]] = []
    for line in status.splitlines():
        if not line.startswith(_GNUPG):
            continue
        keyword, *fields = line[len(_GNUPG) :].split(" ")
        if keyword == "NEWSIG":
            groups.append({})
        elif groups:
            groups[-1].setdefault(keyword, []).append(fields)
    return groups


def _expired(sig: dict[str, list[list[str]]], primary: str, signed_at: int) -> str:
    expiries = [int(f[0]) for f in sig.get("KEYEXPIRED", []) if f and f[0].isdigit()]
    valid = sig.get("VALIDSIG", [[]])[0]
    made = int(valid[2]) if len(valid) > 2 and valid[2].isdigit() else signed_at
    if not expiries:
        return f"key {primary} has expired"
    expiry = min(expiries)
    when = "while the key was still valid" if made < expiry else "after the key had expired"
    return (
        f"key {primary} expired at {utc(expiry)}; the signature was made at {utc(made)} "
        f"(commit time {utc(signed_at)}), {when}. Keys are judged at the current time: "
        "extend the key's expiry and update the trusted keys, or re-sign with a valid key"
    )


def _unchecked(sig: dict[str, list[list[str]]]) -> SignatureCheck | None:
    """BADSIG, ERRSIG, NO_PUBKEY: gpgv could not vouch for the signature at all."""
    if "BADSIG" in sig:
        keyid = (sig["BADSIG"][0] or ["?"])[0]
        reason = f"BAD signature from key {keyid}: the commit does not match its signature"
        return SignatureCheck(SignatureStatus.BAD, keyid, reason=reason)
    if "ERRSIG" not in sig and "NO_PUBKEY" not in sig:
        return None
    err = sig.get("ERRSIG", [[]])[0]
    key = err[6] if len(err) > 6 and err[6] != "-" else (err or sig["NO_PUBKEY"][0] or ["?"])[0]
    code = _NO_PUBKEY if "NO_PUBKEY" in sig or len(err) < 6 else err[5]
    status, reason = {
        _NO_PUBKEY: (SignatureStatus.UNKNOWN_KEY, "which is not among the trusted keys"),
        _BAD_ALGORITHM: (SignatureStatus.UNSUPPORTED, "with an algorithm gpgv cannot check"),
    }.get(code, (SignatureStatus.BAD, f"which gpgv cannot check (error {code})"))
    return SignatureCheck(status, key, reason=f"signed by key {key}, {reason}")


def gpgv_verdict(
    status: str, keyring: Keyring, allowed: frozenset[str], signed_at: int, stderr: str
) -> SignatureCheck:
    sigs = _signatures(status)
    if len(sigs) != 1:
        detail = f"{len(sigs)} signatures, exactly one is expected" if sigs else _last_line(stderr)
        return SignatureCheck(SignatureStatus.BAD, reason=f"OpenPGP signature: {detail}")
    sig = sigs[0]
    unchecked = _unchecked(sig)
    if unchecked is not None:
        return unchecked
    valid = sig.get("VALIDSIG", [[]])[0]
    signing = valid[0].upper() if valid else ""
    primary = valid[9].upper() if len(valid) > 9 else keyring.primary_of.get(signing, signing)
    emails = keyring.emails.get(primary, ())
    allow = {fpr.replace(" ", "").upper() for fpr in allowed}
    if "REVKEYSIG" in sig:
        verdict, reason = SignatureStatus.REVOKED_KEY, f"key {primary} has been revoked"
    elif "EXPKEYSIG" in sig:
        verdict, reason = SignatureStatus.EXPIRED_KEY, _expired(sig, primary, signed_at)
    elif "EXPSIG" in sig:
        verdict, reason = SignatureStatus.EXPIRED_KEY, f"the signature by {primary} has expired"
    elif "GOODSIG" not in sig or not primary:
        verdict, reason = SignatureStatus.BAD, "gpgv gave no verdict"
    elif allow and primary not in allow:
        verdict, reason = SignatureStatus.UNKNOWN_KEY, f"key {primary} is not in the allow-list"
    else:
        subkey = f" (subkey {signing})" if signing != primary else ""
        verdict, reason = SignatureStatus.GOOD, f"good signature by key {primary}{subkey}"
    return SignatureCheck(verdict, primary, emails, reason)
