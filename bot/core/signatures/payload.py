"""The signed payload and the signature inside a raw git commit object."""

from __future__ import annotations

from bot.ports import SignatureKind

_SIGNATURE_HEADERS = (b"gpgsig ", b"gpgsig-sha256 ")
_ARMOR = {
    b"-----BEGIN PGP SIGNATURE-----": SignatureKind.GPG,
    b"-----BEGIN SSH SIGNATURE-----": SignatureKind.SSH,
    b"-----BEGIN SIGNED MESSAGE-----": SignatureKind.X509,
    b"-----BEGIN PKCS7-----": SignatureKind.X509,
}


def split_signature(raw: bytes) -> tuple[bytes, bytes] | None:
    """(payload, signature), or None for an unsigned commit.

    The payload is the commit object without its `gpgsig`/`gpgsig-sha256` header (and the
    header's continuation lines, which start with a space) — exactly what was signed.
    """
    header, separator, message = raw.partition(b"\n\n")
    lines = header.split(b"\n")
    kept: list[bytes] = []
    signature: list[bytes] = []
    in_signature = False
    for line in lines:
        if in_signature and line.startswith(b" "):
            signature.append(line[1:])
            continue
        in_signature = False
        if line.startswith(_SIGNATURE_HEADERS) and not signature:
            in_signature = True
            signature.append(line.split(b" ", 1)[1])
            continue
        kept.append(line)
    if not signature:
        return None
    payload = b"\n".join(kept) + separator + message
    return payload, b"\n".join(signature) + b"\n"


def signature_kind(signature: bytes) -> SignatureKind:
    for armor, kind in _ARMOR.items():
        if signature.lstrip().startswith(armor):
            return kind
    return SignatureKind.NONE
