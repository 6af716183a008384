"""Error text that may reach a log, the queue's error column or a check run: tokens out.

Exceptions from HTTP clients and git quote URLs and headers; an installation token or a
password in a connection string must not travel on from there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

HIDDEN = "***"
MAX_ERROR_CHARS = 2_000
_PATTERNS = (
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
        ),
        HIDDEN,
    ),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9_]{16,}|github_pat_[A-Za-z0-9_]{20,})"), HIDDEN),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{16,}"), HIDDEN),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"), HIDDEN),  # JWTs
    (re.compile(r"(://)[^/\s:@]*:[^/\s@]*@"), r"\1***@"),  # user:password@ in URLs
    (re.compile(r"(?i)\b(bearer|token) [A-Za-z0-9._~+/=-]{8,}"), r"\1 ***"),
    (re.compile(r"(?i)\b(password|passwd|secret|token)=[^\s&;,'\"]+"), r"\1=***"),
)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without credentials (known `secrets` and token-shaped strings), length-capped."""
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, HIDDEN)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"
