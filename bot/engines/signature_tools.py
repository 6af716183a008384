"""SignatureVerifier backed by real tools: gpgv (OpenPGP), `ssh-keygen -Y verify` (SSH) and
`openssl cms -verify` (X.509/CMS, as gpgsm writes it).

Every tool runs from an argv list, without a shell, with a 10 s timeout, in an environment of
just PATH, a private HOME/GNUPGHOME, TZ=UTC and LC_ALL=C; every file lives in the Workspace.
A missing tool or a timeout gives UNSUPPORTED (nothing could be concluded), never GOOD.

Time: SSH allowed-signer windows and X.509 certificate validity are judged at `signed_at`
(the committer's claimed time, as git does for SSH; TZ=UTC makes an allowed_signers
"valid-before" without a "Z" mean UTC). gpgv can only judge OpenPGP keys at the current time,
so a key that expired after signing is still EXPIRED_KEY; the reason gives both times.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.engines.gpg_status import Keyring, gpgv_verdict, parse_keys, utc
from bot.engines.workspace import Workspace, remove_tree
from bot.ports import (
    SignatureCheck,
    SignatureKind,
    SignatureRequest,
    SignatureStatus,
    TrustedSigners,
)

_TOOL_PATH = "/usr/bin:/bin"
_SSH_NAMESPACE = "git"
_SSH_EXPIRED = re.compile(r"key has expired|not yet valid", re.IGNORECASE)
_FULCIO_ISSUER_OIDS = ("1.3.6.1.4.1.57264.1.8", "1.3.6.1.4.1.57264.1.1")
_X509_TIME = re.compile(r"certificate (has expired|is not yet valid)")


class _UnavailableError(Exception):
    """The tool is missing, timed out or could not start: nothing can be concluded."""


@dataclass(frozen=True, slots=True)
class _Ran:
    returncode: int
    stdout: bytes
    stderr: str


def _ssh_verify_time(signed_at: int) -> str | None:
    """YYYYMMDDHHMMSS in UTC (the tools run with TZ=UTC), or None to judge at the current time."""
    if signed_at <= 0:
        return None
    try:
        return datetime.fromtimestamp(signed_at, UTC).strftime("%Y%m%d%H%M%S")
    except (OverflowError, OSError, ValueError):
        return None


def _openssl_error(stderr: str) -> str:
    """The text after "Verify error:", else the reason field of openssl's last error line."""
    found = re.findall(r"Verify error: ?(.+)", stderr)
    if found:
        return str(found[-1]).strip()
    reasons = [x.split(":")[5] for x in stderr.splitlines() if ":error:" in x and x.count(":") > 5]
    return reasons[-1] if reasons else _last_line(stderr) or "verification failed"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


class ToolSignatureVerifier:
    """Verifies commit signatures with gpgv, ssh-keygen and openssl cms."""

    def __init__(
        self, workspace: Workspace, tool_path: str = _TOOL_PATH, timeout_seconds: float = 10.0
    ) -> None:
        self._workspace = workspace
        self._path = tool_path
        self._timeout = timeout_seconds
        self._keyrings: dict[str, Keyring] = {}
        self._lock = threading.Lock()

    def verify_all(
        self, requests: Sequence[SignatureRequest], trusted: TrustedSigners
    ) -> list[SignatureCheck]:
        """Each check is a tool process (a few ms, mostly start-up): run them on every core."""

        def one(request: SignatureRequest) -> SignatureCheck:
            return self.verify(
                request.kind,
                request.payload,
                request.signature,
                trusted=trusted,
                signed_at=request.signed_at,
                principal=request.principal,
            )

        workers = max(1, min(len(os.sched_getaffinity(0)), len(requests)))
        if workers == 1:
            return [one(r) for r in requests]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(one, requests))

    def verify(  # noqa: PLR0917 - the SignatureVerifier port fixes this signature
        self,
        kind: SignatureKind,
        payload: bytes,
        signature: bytes,
        trusted: TrustedSigners,
        signed_at: int,
        principal: str,
    ) -> SignatureCheck:
        if kind not in (SignatureKind.GPG, SignatureKind.SSH, SignatureKind.X509):
            return SignatureCheck(SignatureStatus.UNSUPPORTED, reason="unrecognised signature")
        scratch = self._workspace.new_dir("sig-")
        try:
            (scratch / "payload").write_bytes(payload)
            (scratch / "signature").write_bytes(signature)
            if kind is SignatureKind.GPG:
                return self._gpg(scratch, trusted, signed_at)
            if kind is SignatureKind.X509:
                return self._x509(scratch, signature, trusted, signed_at)
            return self._ssh(scratch, payload, trusted, signed_at, principal)
        except _UnavailableError as exc:
            return SignatureCheck(SignatureStatus.UNSUPPORTED, reason=str(exc))
        finally:
            remove_tree(scratch)

    # -- processes --------------------------------------------------------------------------

    def _run(self, tool: str, args: list[str], home: Path, stdin: bytes = b"") -> _Ran:
        binary = shutil.which(tool, path=self._path)
        if binary is None:
            raise _UnavailableError(f"{tool} is not installed (looked in {self._path})")
        env = {
            "PATH": self._path,
            "HOME": str(home),
            "GNUPGHOME": str(home),
            "TZ": "UTC",
            "LC_ALL": "C",
        }
        try:
            proc = subprocess.run(
                [binary, *args],
                input=stdin,
                capture_output=True,
                env=env,
                cwd=home,
                timeout=self._timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise _UnavailableError(f"{tool} did not finish within {self._timeout:g} s") from exc
        except OSError as exc:
            raise _UnavailableError(f"{tool} could not be started: {exc}") from exc
        return _Ran(proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace"))

    # -- OpenPGP ----------------------------------------------------------------------------

    def _keyring(self, keys: bytes) -> Keyring:
        """Trusted keys imported once per distinct content (for the verifier's lifetime)."""
        digest = hashlib.sha256(keys).hexdigest()
        with self._lock:
            cached = self._keyrings.get(digest)
            if cached is None:
                cached = self._keyrings[digest] = self._build_keyring(keys)
            return cached

    def _build_keyring(self, keys: bytes) -> Keyring:
        if not keys.strip():
            return Keyring(None, problem="no trusted OpenPGP keys are configured")
        home = self._workspace.new_dir("gpg-keys-")
        source = home / "trusted-keys"
        source.write_bytes(keys)
        # --no-autostart: importing and listing public keys never needs gpg-agent or dirmngr.
        gpg = ["--homedir", str(home), "--batch", "--no-options", "--no-autostart"]
        imported = self._run("gpg", [*gpg, "--import", str(source)], home)
        listed = self._run("gpg", [*gpg, "--with-colons", "--fixed-list-mode", "--list-keys"], home)
        exported = self._run("gpg", [*gpg, "--export"], home)
        keyring = parse_keys(listed.stdout)
        if not keyring.primary_of or not exported.stdout:
            said = [
                x for x in imported.stderr.splitlines() if str(home) not in x and "Total" not in x
            ]
            detail = said[0].removeprefix("gpg: ") if said else "no key found"
            return Keyring(None, problem=f"no usable OpenPGP key among the trusted keys: {detail}")
        path = home / "trusted.gpg"
        path.write_bytes(exported.stdout)
        return Keyring(path, keyring.primary_of, keyring.emails)

    def _gpg(self, scratch: Path, trusted: TrustedSigners, signed_at: int) -> SignatureCheck:
        keyring = self._keyring(trusted.gpg_public_keys)
        if keyring.path is None:
            return SignatureCheck(SignatureStatus.UNKNOWN_KEY, reason=keyring.problem)
        # An empty private homedir: gpgv must not add a default trustedkeys.kbx from $HOME.
        args = ["--homedir", str(scratch), "--status-fd", "1", "--keyring", str(keyring.path)]
        ran = self._run(
            "gpgv", [*args, str(scratch / "signature"), str(scratch / "payload")], scratch
        )
        status = ran.stdout.decode("utf-8", "replace")
        return gpgv_verdict(status, keyring, trusted.gpg_fingerprints, signed_at, ran.stderr)

    # -- SSH --------------------------------------------------------------------------------

    def _ssh(
        self, scratch: Path, payload: bytes, trusted: TrustedSigners, signed_at: int, principal: str
    ) -> SignatureCheck:
        if not principal:
            return SignatureCheck(
                SignatureStatus.UNKNOWN_KEY, reason="no identity to check the SSH signature for"
            )
        allowed = scratch / "allowed_signers"
        allowed.write_bytes(trusted.ssh_allowed_signers)
        sig = str(scratch / "signature")
        args = [
            "-Y",
            "verify",
            "-f",
            str(allowed),
            "-I",
            principal,
            "-n",
            _SSH_NAMESPACE,
            "-s",
            sig,
        ]
        when = _ssh_verify_time(signed_at)
        if when is not None:
            # Judge valid-after/valid-before at signing time (OpenSSH 8.9+), as git does.
            args.append(f"-Overify-time={when}")
        ran = self._run("ssh-keygen", args, scratch, payload)
        out = ran.stdout.decode("utf-8", "replace").strip()
        if ran.returncode == 0 and out.startswith(f'Good "{_SSH_NAMESPACE}" signature for '):
            return SignatureCheck(SignatureStatus.GOOD, principal, (principal,), out)
        if "Invalid option" in ran.stderr:
            return SignatureCheck(
                SignatureStatus.UNSUPPORTED,
                reason=f"ssh-keygen does not support verify-time (needs OpenSSH 8.9+): "
                f"{_last_line(ran.stderr)}",
            )
        # verify failed: is the signature itself broken, or only its key not trusted?
        check_args = ["-Y", "check-novalidate", "-n", _SSH_NAMESPACE, "-s", sig]
        intact = self._run("ssh-keygen", check_args, scratch, payload)
        if intact.returncode != 0:
            detail = _last_line(intact.stderr) or _last_line(ran.stderr) or "verification failed"
            return SignatureCheck(SignatureStatus.BAD, reason=f"SSH signature: {detail}")
        key = intact.stdout.decode("utf-8", "replace").split()[-1:] or ["(unknown key)"]
        expired = [line for line in ran.stderr.splitlines() if _SSH_EXPIRED.search(line)]
        if expired:
            detail = expired[-1].strip().replace(str(allowed), "allowed_signers")
            return SignatureCheck(
                SignatureStatus.EXPIRED_KEY,
                principal,
                reason=f"SSH key {key[0]} for {principal} is outside its validity window "
                f"at signing time {utc(signed_at)}: {detail}",
            )
        return SignatureCheck(
            SignatureStatus.UNKNOWN_KEY,
            reason=f"SSH key {key[0]} is not an allowed signer for {principal}",
        )

    # -- X.509 (CMS) ------------------------------------------------------------------------

    def _x509(
        self, scratch: Path, signature: bytes, trusted: TrustedSigners, signed_at: int
    ) -> SignatureCheck:
        body = b"".join(x.strip() for x in signature.splitlines() if not x.startswith(b"-----"))
        try:
            (scratch / "signature.der").write_bytes(base64.b64decode(body, validate=True))
        except binascii.Error:
            return SignatureCheck(SignatureStatus.BAD, reason="X.509 signature: not base64 CMS")
        roots = scratch / "roots.pem"
        roots.write_bytes(trusted.x509_roots)
        cms = ["cms", "-verify", "-binary", "-inform", "DER", "-in", str(scratch / "signature.der")]
        cms += ["-content", str(scratch / "payload"), "-out", str(scratch / "content")]
        cms += ["-signer", str(scratch / "signer.pem")]
        # Only the configured roots: never the system's CA directory or store.
        chain = ["-CAfile", str(roots), "-no-CApath", "-no-CAstore", "-purpose", "any"]
        if signed_at > 0:
            chain += ["-attime", str(signed_at)]  # certificate validity at signing time
        ran = self._run("openssl", [*cms, *chain], scratch)
        status, reason = SignatureStatus.GOOD, "CMS verification successful"
        if ran.returncode != 0:
            intact = self._run("openssl", [*cms, "-noverify"], scratch)
            if intact.returncode != 0:
                why = _openssl_error(intact.stderr)
                return SignatureCheck(SignatureStatus.BAD, reason=f"X.509 signature: {why}")
            reason = _openssl_error(ran.stderr)
            if not trusted.x509_roots.strip():
                reason = "no trusted X.509 roots are configured"
            status = SignatureStatus.UNTRUSTED_ROOT
            if _X509_TIME.search(reason):
                status = SignatureStatus.EXPIRED_KEY
            elif "revoked" in reason:
                status = SignatureStatus.REVOKED_KEY
        subject, emails = self._certificate(scratch)
        issuer = self._sigstore_issuer(scratch)
        if issuer:
            # A Fulcio certificate (gitsign): the identity is the SAN plus the OIDC issuer.
            if (
                status is SignatureStatus.GOOD
                and trusted.sigstore_issuers
                and (issuer not in trusted.sigstore_issuers)
            ):
                status = SignatureStatus.UNKNOWN_KEY
                reason = f"OIDC issuer {issuer} is not among signatures.sigstore_issuers"
            reason += (
                f"; Sigstore certificate from OIDC issuer {issuer}; the transparency log was "
                "not checked (offline verification)"
            )
        return SignatureCheck(status, subject, emails, f"{subject}: {reason}")

    def _sigstore_issuer(self, scratch: Path) -> str:
        """The OIDC issuer Fulcio records in its certificates (v2 and v1 extension), or ""."""
        args = ["x509", "-in", str(scratch / "signer.pem"), "-noout", "-text"]
        ran = self._run("openssl", args, scratch)
        lines = ran.stdout.decode("utf-8", "replace").splitlines() if ran.returncode == 0 else []
        for i, line in enumerate(lines[:-1]):
            if line.strip().rstrip(":") in _FULCIO_ISSUER_OIDS:
                value = lines[i + 1].strip()
                return value[value.find("http") :] if "http" in value else value
        return ""

    def _certificate(self, scratch: Path) -> tuple[str, tuple[str, ...]]:
        """The signer certificate's subject (RFC 2253) and its emails (subject and SAN)."""
        args = ["x509", "-in", str(scratch / "signer.pem"), "-noout", "-subject", "-email"]
        ran = self._run("openssl", [*args, "-nameopt", "RFC2253"], scratch)
        lines = ran.stdout.decode("utf-8", "replace").splitlines() if ran.returncode == 0 else []
        subject = next((x.removeprefix("subject=") for x in lines if x.startswith("subject=")), "")
        emails = tuple(dict.fromkeys(x.strip() for x in lines if x and "=" not in x))
        return subject or "(unknown certificate)", emails
