"""One webhook delivery, checked: signature, size, content type, JSON. Each failure is a
`Rejected` with the HTTP status it maps to; nothing here ever lets a client cause a 5xx.

Form-encoded deliveries (`application/x-www-form-urlencoded`, the JSON in a `payload` field) are
accepted: GitHub offers that content type for repository and organisation webhooks, and signs the
raw form body, so accepting it costs nothing in safety. GitHub App webhooks always send JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from typing import IO, Any
from urllib.parse import parse_qs

JSON_TYPES = frozenset({"application/json"})
FORM_TYPE = "application/x-www-form-urlencoded"
_EVENT = re.compile(r"[a-z_]{1,64}")
_DELIVERY = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_CHUNK = 64 * 1024


class Rejected(Exception):  # noqa: N818 - the client's fault, answered with `status`
    def __init__(self, status: int, message: str, outcome: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.outcome = outcome  # the deliveries metric's label


def check_length(content_length: int | None, limit: int) -> None:
    if content_length is not None and content_length > limit:
        raise Rejected(413, f"body larger than {limit} bytes", "too_large")


def read_body(stream: IO[bytes], limit: int) -> bytes:
    """At most `limit` bytes: a missing or lying Content-Length cannot get more past us."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise Rejected(413, f"body larger than {limit} bytes", "too_large")
        chunks.append(chunk)


def check_content_type(mimetype: str) -> None:
    if mimetype not in JSON_TYPES and mimetype != FORM_TYPE:
        raise Rejected(
            415, "content type must be application/json (set it in the webhook)", "bad_media_type"
        )


def signature_valid(secrets: Sequence[str], body: bytes, header: str | None) -> bool:
    """`X-Hub-Signature-256: sha256=<hex HMAC of the raw body>` under any configured secret."""
    if not header:
        return False
    try:
        given = header.strip().encode("ascii")
    except UnicodeEncodeError:
        return False
    valid = False
    for secret in secrets:
        expected = b"sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
        # Every secret is compared (no early exit) so timing does not tell which one matched.
        valid |= hmac.compare_digest(expected, given)
    return valid


def check_headers(event: str | None, delivery: str | None) -> tuple[str, str]:
    if not event or not _EVENT.fullmatch(event):
        raise Rejected(400, "missing or malformed X-GitHub-Event header", "bad_request")
    if not delivery or not _DELIVERY.fullmatch(delivery):
        raise Rejected(400, "missing or malformed X-GitHub-Delivery header", "bad_request")
    return event, delivery


def _form_payload(body: bytes) -> bytes:
    try:
        fields = parse_qs(
            body.decode("ascii"), strict_parsing=True, max_num_fields=16, errors="strict"
        )
    except (UnicodeError, ValueError) as error:
        raise Rejected(400, "form body is not valid", "bad_request") from error
    values = fields.get("payload", [])
    if len(values) != 1:
        raise Rejected(400, "form body needs exactly one `payload` field", "bad_request")
    return values[0].encode()


def parse_payload(body: bytes, mimetype: str) -> tuple[dict[str, Any], bytes]:
    """The JSON object, and its bytes (the form's `payload` field for form deliveries)."""
    document = _form_payload(body) if mimetype == FORM_TYPE else body
    try:
        # Decode explicitly: json.loads(bytes) would also guess UTF-16/32.
        payload = json.loads(document.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise Rejected(400, "body is not UTF-8", "bad_request") from error
    except RecursionError as error:
        raise Rejected(400, "JSON nested too deeply", "bad_request") from error
    except ValueError as error:  # JSONDecodeError, and integers beyond the digit limit
        raise Rejected(400, "body is not valid JSON", "bad_request") from error
    if not isinstance(payload, dict):
        raise Rejected(400, "JSON body must be an object", "bad_request")
    return payload, document
