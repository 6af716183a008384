"""gitsign-style commits: a Fulcio-like certificate (SAN email + OIDC issuer extension), offline."""

import base64
import subprocess
import time

import pytest

from bot.engines.signature_tools import ToolSignatureVerifier
from bot.ports import SignatureKind, SignatureStatus, TrustedSigners

pytestmark = pytest.mark.integration

ISSUER = "https://token.actions.githubusercontent.com"


def run(*args, cwd):
    return subprocess.run(list(args), cwd=cwd, check=True, capture_output=True).stdout


@pytest.fixture
def signed(tmp_path):
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run(
        "openssl",
        "req",
        "-x509",
        *ec,
        "-keyout",
        "root.key",
        "-out",
        "root.pem",
        "-days",
        "30",
        "-subj",
        "/O=sigstore.dev/CN=sigstore",
        cwd=tmp_path,
    )
    run(
        "openssl", "req", *ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/", cwd=tmp_path
    )
    (tmp_path / "leaf.ext").write_text(
        "subjectAltName=email:dev@example.com\nkeyUsage=digitalSignature\nextendedKeyUsage=codeSigning\n"
        f"1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:{ISSUER}\n"
    )
    run(
        "openssl",
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "root.pem",
        "-CAkey",
        "root.key",
        "-CAcreateserial",
        "-extfile",
        "leaf.ext",
        "-days",
        "1",
        "-out",
        "leaf.pem",
        cwd=tmp_path,
    )
    payload = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor D <dev@example.com> 1 +0000\ncommitter D <dev@example.com> 1 +0000\n\ngitsign\n"
    (tmp_path / "payload").write_bytes(payload)
    der = run(
        "openssl",
        "cms",
        "-sign",
        "-binary",
        "-in",
        "payload",
        "-signer",
        "leaf.pem",
        "-inkey",
        "leaf.key",
        "-outform",
        "DER",
        cwd=tmp_path,
    )
    text = base64.b64encode(der).decode()
    armor = "\n".join(
        [
            "-----BEGIN SIGNED MESSAGE-----",
            *(text[i : i + 64] for i in range(0, len(text), 64)),
            "-----END SIGNED MESSAGE-----",
        ]
    )
    return payload, (armor + "\n").encode(), (tmp_path / "root.pem").read_bytes()


def verify(workspace, signed, issuers=frozenset()):
    payload, signature, root = signed
    trusted = TrustedSigners(x509_roots=root, sigstore_issuers=issuers)
    return ToolSignatureVerifier(workspace).verify(
        SignatureKind.X509,
        payload,
        signature,
        trusted=trusted,
        signed_at=int(time.time()),
        principal="dev@example.com",
    )


def test_fulcio_certificate_identity_and_issuer_without_claiming_the_log(workspace, signed):
    result = verify(workspace, signed, frozenset({ISSUER}))
    assert result.status is SignatureStatus.GOOD
    assert "dev@example.com" in result.identities
    assert f"Sigstore certificate from OIDC issuer {ISSUER}" in result.reason
    assert "the transparency log was not checked (offline verification)" in result.reason


def test_an_issuer_not_allowed_is_not_trusted(workspace, signed):
    result = verify(workspace, signed, frozenset({"https://accounts.google.com"}))
    assert result.status is SignatureStatus.UNKNOWN_KEY
    assert f"OIDC issuer {ISSUER} is not among signatures.sigstore_issuers" in result.reason
