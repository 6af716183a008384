import pytest

from bot.core.signatures.payload import signature_kind, split_signature
from bot.ports import SignatureKind

UNSIGNED = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\n\nmsg\n"
SIGNED = (
    b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\n"
    b"gpgsig -----BEGIN SSH SIGNATURE-----\n U1NIU0lH\n \n -----END SSH SIGNATURE-----\n"
    b"\nmsg\n\nbody line\n"
)


def test_unsigned_commit_has_no_signature():
    assert split_signature(UNSIGNED) is None


def test_payload_is_the_commit_without_the_signature_header():
    payload, signature = split_signature(SIGNED)
    assert payload == (
        b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@x> 1 +0000\n"
        b"committer A <a@x> 1 +0000\n\nmsg\n\nbody line\n"
    )
    assert signature == b"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n\n-----END SSH SIGNATURE-----\n"


def test_a_gpgsig_looking_line_in_the_message_is_not_a_signature():
    raw = UNSIGNED.replace(b"msg\n", b"msg\ngpgsig -----BEGIN PGP SIGNATURE-----\n")
    assert split_signature(raw) is None


@pytest.mark.parametrize(
    ("armor", "kind"),
    [
        (b"-----BEGIN PGP SIGNATURE-----\n", SignatureKind.GPG),
        (b"-----BEGIN SSH SIGNATURE-----\n", SignatureKind.SSH),
        (b"-----BEGIN SIGNED MESSAGE-----\n", SignatureKind.X509),
        (b"garbage", SignatureKind.NONE),
    ],
    ids=["gpg", "ssh", "x509", "unknown"],
)
def test_kind_from_armor(armor, kind):
    assert signature_kind(armor) is kind
