"""The last line of defence for "no secrets in comments": hide every value of every rendered
Secret wherever it shows up in a finding (a policy echoing it, a tool's error quoting it)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from bot.core.diff.redact import HIDDEN, is_secret
from bot.model.finding import Finding

MIN_LENGTH = 4  # shorter values ("true", "1") would blank out ordinary words
MAX_VALUES = 2_000


def _decoded(value: str) -> str | None:
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return text


def secret_values(bodies: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """Every Secret `data` value (as written and base64-decoded) and `stringData` value."""
    found: set[str] = set()
    for body in bodies:
        if not is_secret(body):
            continue
        for field in ("data", "stringData"):
            values = body.get(field)
            if not isinstance(values, Mapping):
                continue
            for value in values.values():
                if not isinstance(value, str):
                    continue
                found.add(value)
                decoded = _decoded(value) if field == "data" else None
                if decoded:
                    found.add(decoded)
                    found.update(line for line in decoded.splitlines() if line.strip())
    return frozenset(v for v in found if len(v.strip()) >= MIN_LENGTH)


def scrub_findings(findings: Iterable[Finding], secrets: frozenset[str]) -> tuple[Finding, ...]:
    if not secrets:
        return tuple(findings)
    ordered = sorted(secrets, key=len, reverse=True)[:MAX_VALUES]
    pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def clean(text: str) -> str:
        return pattern.sub(HIDDEN, text)

    return tuple(
        replace(
            f,
            message=clean(f.message),
            hint=clean(f.hint),
            metadata={k: clean(v) for k, v in f.metadata.items()},
        )
        for f in findings
    )
