"""verify_gitlab_request and delivery_id: secret token, Standard Webhooks signature, both."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from bot.server.gitlab_auth import delivery_id, sign, signing_key, verify_gitlab_request
from bot.settings import GitLabSettings

NOW = 1_700_000_000
BODY = b'{"object_kind":"merge_request"}'
TOKEN = "s3cret-webhook-token"
KEY = bytes(range(32))
SIGNING = "whsec_" + base64.b64encode(KEY).decode()
OTHER_SIGNING = "whsec_" + base64.b64encode(b"\x01" * 32).decode()
MSG_ID = "msg_2b1f7c36-5e1c-4d6b-9a0e-0c6f3bde1d51"


def _signature(
    secret: str = SIGNING, webhook_id: str = MSG_ID, ts: int = NOW, body: bytes = BODY
) -> str:
    return sign(secret, webhook_id, ts, body)


def _signed(ts: int = NOW, signature: str | None = None, **extra: str) -> dict[str, str]:
    return {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(ts),
        "webhook-signature": signature if signature is not None else _signature(ts=ts),
        **extra,
    }


TOKEN_ONLY = GitLabSettings(url="https://gitlab.example.com", token="t", webhook_token=TOKEN)
SIGNING_ONLY = GitLabSettings(url="https://gitlab.example.com", token="t", signing_token=SIGNING)
BOTH = GitLabSettings(
    url="https://gitlab.example.com", token="t", webhook_token=TOKEN, signing_token=SIGNING
)
NEITHER = GitLabSettings(url="https://gitlab.example.com", token="t")

CASES: dict[str, tuple[GitLabSettings, dict[str, str], str | None]] = {
    "token valid": (TOKEN_ONLY, {"X-Gitlab-Token": TOKEN}, None),
    "token header in lower case": (TOKEN_ONLY, {"x-gitlab-token": TOKEN}, None),
    "token wrong": (TOKEN_ONLY, {"X-Gitlab-Token": TOKEN + "x"}, "X-Gitlab-Token does not match"),
    "token empty": (TOKEN_ONLY, {"X-Gitlab-Token": ""}, "X-Gitlab-Token does not match"),
    "token not ascii": (TOKEN_ONLY, {"X-Gitlab-Token": "sécret"}, "X-Gitlab-Token does not match"),
    "token missing": (TOKEN_ONLY, {}, "missing X-Gitlab-Token"),
    "token configured, only a signature sent": (TOKEN_ONLY, _signed(), "missing X-Gitlab-Token"),
    "signature valid": (SIGNING_ONLY, _signed(), None),
    "signature among several (rotation)": (
        SIGNING_ONLY,
        _signed(signature=f"{_signature(OTHER_SIGNING)} {_signature()}"),
        None,
    ),
    "v1a and unknown versions are skipped": (
        SIGNING_ONLY,
        _signed(signature=f"v1a,abc v2,xyz {_signature()}"),
        None,
    ),
    "signature wrong key": (
        SIGNING_ONLY,
        _signed(signature=_signature(OTHER_SIGNING)),
        "no valid v1 entry in webhook-signature",
    ),
    "signature over another body": (
        SIGNING_ONLY,
        _signed(signature=_signature(body=b"{}")),
        "no valid v1 entry in webhook-signature",
    ),
    "signature over another id": (
        SIGNING_ONLY,
        _signed(signature=_signature(webhook_id="msg_other")),
        "no valid v1 entry in webhook-signature",
    ),
    "signature without version": (
        SIGNING_ONLY,
        _signed(signature=_signature().removeprefix("v1,")),
        "no valid v1 entry in webhook-signature",
    ),
    "signature missing": (
        SIGNING_ONLY,
        {"webhook-id": MSG_ID, "webhook-timestamp": str(NOW)},
        "missing webhook-signature",
    ),
    "id missing": (
        SIGNING_ONLY,
        {"webhook-timestamp": str(NOW), "webhook-signature": _signature()},
        "missing or malformed webhook-id / webhook-timestamp",
    ),
    "timestamp not a number": (
        SIGNING_ONLY,
        _signed(signature=_signature()) | {"webhook-timestamp": "soon"},
        "missing or malformed webhook-id / webhook-timestamp",
    ),
    "stale (6 minutes old)": (
        SIGNING_ONLY,
        _signed(ts=NOW - 360),
        "webhook-timestamp is more than 300 s away from now",
    ),
    "future (6 minutes ahead)": (
        SIGNING_ONLY,
        _signed(ts=NOW + 360),
        "webhook-timestamp is more than 300 s away from now",
    ),
    "4 minutes old is fine": (SIGNING_ONLY, _signed(ts=NOW - 240), None),
    "both configured, both valid": (BOTH, _signed(**{"X-Gitlab-Token": TOKEN}), None),
    "both configured, token only (a hook without signing yet)": (
        BOTH,
        {"X-Gitlab-Token": TOKEN},
        None,
    ),
    "both configured, signature only": (BOTH, _signed(), None),
    "both configured, valid signature but wrong token": (
        BOTH,
        _signed(**{"X-Gitlab-Token": "nope"}),
        "X-Gitlab-Token does not match",
    ),
    "both configured, valid token but stale signature": (
        BOTH,
        _signed(ts=NOW - 3600, **{"X-Gitlab-Token": TOKEN}),
        "webhook-timestamp is more than 300 s away from now",
    ),
    "both configured, nothing sent": (BOTH, {}, "missing X-Gitlab-Token or webhook-signature"),
    "nothing configured": (
        NEITHER,
        {"X-Gitlab-Token": TOKEN},
        "GitLab has neither a webhook token nor a signing token configured",
    ),
    "malformed signing secret": (
        GitLabSettings(url="u", token="t", signing_token="whsec_not base64!"),
        _signed(),
        "the configured signing token is not whsec_<base64>",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES), ids=sorted(CASES))
def test_verify(case: str) -> None:
    settings, headers, expected = CASES[case]
    assert verify_gitlab_request(headers, BODY, settings, float(NOW)) == expected


def test_signature_matches_the_standard_webhooks_definition() -> None:
    # v1,<base64 HMAC-SHA256 over "{id}.{timestamp}.{body}"> with the key after whsec_.
    digest = hmac.new(KEY, f"{MSG_ID}.{NOW}.".encode() + BODY, hashlib.sha256).digest()
    assert _signature() == "v1," + base64.b64encode(digest).decode()
    assert signing_key(SIGNING) == KEY
    assert signing_key(base64.b64encode(KEY).decode()) == KEY  # the bare base64 works too
    assert signing_key("whsec_") is None


def test_errors_never_quote_a_secret() -> None:
    for settings, headers, _ in CASES.values():
        error = verify_gitlab_request(headers, BODY, settings, float(NOW)) or ""
        for secret in (TOKEN, SIGNING, SIGNING.removeprefix("whsec_")):
            assert secret not in error


DELIVERY_CASES: dict[str, tuple[dict[str, str], bool, str]] = {
    "idempotency key": (
        {"Idempotency-Key": "k-1", "X-Gitlab-Event-UUID": "u-1"},
        False,
        "gitlab:k-1",
    ),
    "signed: the signed webhook-id wins over an unsigned header": (
        {"Idempotency-Key": "forged", "webhook-id": "msg_1"},
        True,
        "gitlab:msg_1",
    ),
    "unsigned: idempotency key first": (
        {"Idempotency-Key": "k-1", "webhook-id": "msg_1"},
        False,
        "gitlab:k-1",
    ),
    "event uuid as a fallback": ({"X-Gitlab-Event-UUID": "u-1"}, False, "gitlab:u-1"),
    "malformed keys are skipped": (
        {"Idempotency-Key": "a b", "X-Gitlab-Event-UUID": "u-1"},
        False,
        "gitlab:u-1",
    ),
    "no header: the body's digest": (
        {},
        False,
        "gitlab:body-" + hashlib.sha256(BODY).hexdigest()[:40],
    ),
}


@pytest.mark.parametrize("case", sorted(DELIVERY_CASES), ids=sorted(DELIVERY_CASES))
def test_delivery_id(case: str) -> None:
    headers, signed, expected = DELIVERY_CASES[case]
    assert delivery_id(headers, BODY, signed) == expected
