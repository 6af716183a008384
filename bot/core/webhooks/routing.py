"""What every forge router shares: the Ignored value and defensive payload readers.

Payloads come from the network: any field may be missing, null, of the wrong type or absurdly
large. The readers return None instead of raising, so a router never crashes on a delivery.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.model.job import Job

_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1, or SHA-256 repositories
# owner/name as GitHub allows them; never "." or ".." (the name becomes a mirror directory)
_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/(?!\.\.?$)[A-Za-z0-9_.-]{1,100}")
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?")
MAX_NUMBER = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Ignored:
    """A delivery that asks for no work (answered 2xx: forges disable hooks that keep failing)."""

    reason: str


Routed = list[Job] | Ignored


def field(payload: Any, *path: str) -> Any:
    """The value at `path` inside nested objects, or None where the path breaks off."""
    value = payload
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def text(payload: Any, *path: str, limit: int = 1024) -> str | None:
    value = field(payload, *path)
    return value if isinstance(value, str) and len(value) <= limit else None


def positive_int(payload: Any, *path: str) -> int | None:
    value = field(payload, *path)
    # bool is an int to Python, never a number to a forge
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_NUMBER:
        return None
    return value


def sha(payload: Any, *path: str) -> str | None:
    value = text(payload, *path, limit=64)
    return value if value is not None and _SHA.fullmatch(value) else None


def repo_name(payload: Any, *path: str) -> str | None:
    value = text(payload, *path, limit=201)
    return value if value is not None and _REPO.fullmatch(value) else None


def login(payload: Any, *path: str) -> str | None:
    value = text(payload, *path, limit=44)
    return value if value is not None and _LOGIN.fullmatch(value) else None


def objects(payload: Any, *path: str, limit: int = 100) -> list[Mapping[str, Any]]:
    """The mappings of a list field (anything else in it is skipped), at most `limit`."""
    value = field(payload, *path)
    if not isinstance(value, list):
        return []
    return [item for item in value[:limit] if isinstance(item, Mapping)]
