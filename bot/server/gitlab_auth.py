"""Is this delivery from our GitLab hook? Two mechanisms, each optional, at least one configured:

- the secret token, sent verbatim in `X-Gitlab-Token` (compared in constant time);
- the signing token (Standard Webhooks): `webhook-signature: v1,<base64 HMAC-SHA256 of
  "{webhook-id}.{webhook-timestamp}.{body}">`, possibly several space-separated entries (key
  rotation), the key being the base64 after `whsec_`. A timestamp more than five minutes from
  now (either way) is refused, which bounds replays; the id is the delivery id, so a replay
  within the window is a duplicate.

A request must carry at least one configured mechanism, and every configured mechanism it
carries must verify. Configure only the signing token to make the signature mandatory.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping

from bot.settings import GitLabSettings

TOKEN_HEADER = "X-Gitlab-Token"  # noqa: S105 - a header name
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_UUID_HEADER = "X-Gitlab-Event-UUID"
TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
MAX_SIGNATURES = 16
_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def signing_key(secret: str) -> bytes | None:
    """The HMAC key of a Standard Webhooks secret (`whsec_<base64>`, or the bare base64)."""
    encoded = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return key or None


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The `v1,<base64>` entry GitLab sends (tests and local tools sign with it)."""
    key = signing_key(secret)
    if key is None:
        raise ValueError("the signing token is not whsec_<base64>")
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # a plain dict from a test; Flask's Headers ignore case already
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return value


def _token_error(given: str, expected: str) -> str | None:
    try:
        valid = hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
    except UnicodeEncodeError:
        valid = False
    return None if valid else f"{TOKEN_HEADER} does not match"


def _signature_error(
    headers: Mapping[str, str], body: bytes, secret: str, now: float
) -> str | None:
    webhook_id = _header(headers, ID_HEADER) or ""
    stamp = _header(headers, TIMESTAMP_HEADER) or ""
    given = _header(headers, SIGNATURE_HEADER) or ""
    if not _ID.fullmatch(webhook_id) or not _TIMESTAMP.fullmatch(stamp):
        return f"missing or malformed {ID_HEADER} / {TIMESTAMP_HEADER}"
    if abs(now - int(stamp)) > TOLERANCE_SECONDS:
        return f"{TIMESTAMP_HEADER} is more than {TOLERANCE_SECONDS} s away from now"
    key = signing_key(secret)
    if key is None:
        return "the configured signing token is not whsec_<base64>"
    digest = hmac.new(key, f"{webhook_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    valid = False
    for entry in given.split()[:MAX_SIGNATURES]:
        version, _, value = entry.partition(",")
        if version != "v1":
            continue  # v1a (asymmetric) and future versions: not ours to check
        try:
            encoded = value.encode("ascii")
        except UnicodeEncodeError:
            continue
        valid |= hmac.compare_digest(expected, encoded)  # no early exit: timing says nothing
    return None if valid else f"no valid v1 entry in {SIGNATURE_HEADER}"


def verify_gitlab_request(
    headers: Mapping[str, str], body: bytes, settings: GitLabSettings, now: float
) -> str | None:
    """None when the request is authentic; else why not (safe to log: never quotes a secret)."""
    if not settings.webhook_token and not settings.signing_token:
        return "GitLab has neither a webhook token nor a signing token configured"
    checked = False
    token = _header(headers, TOKEN_HEADER)
    if settings.webhook_token and token is not None:
        checked = True
        error = _token_error(token, settings.webhook_token)
        if error:
            return error
    if settings.signing_token and _header(headers, SIGNATURE_HEADER) is not None:
        checked = True
        error = _signature_error(headers, body, settings.signing_token, now)
        if error:
            return error
    if not checked:
        wanted = [
            name
            for name, configured in (
                (TOKEN_HEADER, settings.webhook_token),
                (SIGNATURE_HEADER, settings.signing_token),
            )
            if configured
        ]
        return f"missing {' or '.join(wanted)}"
    return None


def delivery_id(headers: Mapping[str, str], body: bytes, signed: bool) -> str:
    """The dedupe key of a delivery, stable across GitLab's retries, prefixed `gitlab:`.

    A verified signature covers `webhook-id`, so it is preferred then (an attacker replaying a
    signed request inside the time window cannot dodge dedupe by changing an unsigned header).
    Else `Idempotency-Key` (GitLab 17.4+, equal to webhook-id), else `X-Gitlab-Event-UUID`,
    else a digest of the body: a retry resends the same bytes."""
    names = (ID_HEADER, IDEMPOTENCY_HEADER) if signed else (IDEMPOTENCY_HEADER, ID_HEADER)
    for name in (*names, EVENT_UUID_HEADER):
        value = _header(headers, name)
        if value and _ID.fullmatch(value):
            return f"gitlab:{value}"
    return "gitlab:body-" + hashlib.sha256(body).hexdigest()[:40]
