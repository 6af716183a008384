"""Secret redaction, applied to base and head together before anything is diffed or formatted.

Values are compared, never shown: an unchanged secret value and a changed one get different
placeholders, so the diff shows *that* a key changed while the Report never holds the value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.model.diff import ChangeKind, SecretKeyChange

HIDDEN = "<hidden>"
HIDDEN_OLD = "<hidden: old value>"
HIDDEN_NEW = "<hidden: new value>"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_SOPS_VALUE = re.compile(r"^ENC\[.*\]$", re.DOTALL)
_SECRET_FIELDS = ("data", "stringData")
_MISSING = object()

Body = dict[str, Any]


def is_secret(body: Mapping[str, Any] | None) -> bool:
    return body is not None and body.get("kind") == "Secret" and body.get("apiVersion") == "v1"


def _placeholders(base: Any, head: Any) -> tuple[str, str]:
    """Equal (or one-sided) values look alike; only a changed value shows old/new."""
    if base == head or base is _MISSING or head is _MISSING:
        return HIDDEN, HIDDEN
    return HIDDEN_OLD, HIDDEN_NEW


def _is_sops_value(value: Any) -> bool:
    return isinstance(value, str) and bool(_SOPS_VALUE.match(value))


def _redact_sops(base: Any, head: Any) -> tuple[Any, Any]:
    """Hide SOPS ciphertexts (`ENC[...]`) and `sops:` metadata blocks, comparing pairwise.

    `_MISSING` stands for "no counterpart on the other side".
    """
    if isinstance(base, Mapping) or isinstance(head, Mapping):
        b = base if isinstance(base, Mapping) else {}
        h = head if isinstance(head, Mapping) else {}
        out_b: dict[Any, Any] = {}
        out_h: dict[Any, Any] = {}
        for key in [*b, *(k for k in h if k not in b)]:
            vb, vh = b.get(key, _MISSING), h.get(key, _MISSING)
            if key == "sops" and (isinstance(vb, Mapping) or isinstance(vh, Mapping)):
                rb, rh = _placeholders(vb, vh)
            else:
                rb, rh = _redact_sops(vb, vh)
            if key in b:
                out_b[key] = rb
            if key in h:
                out_h[key] = rh
        return (
            out_b if isinstance(base, Mapping) else _redact_sops(base, _MISSING)[0],
            out_h if isinstance(head, Mapping) else _redact_sops(_MISSING, head)[1],
        )
    if isinstance(base, list) or isinstance(head, list):
        lb = base if isinstance(base, list) else []
        lh = head if isinstance(head, list) else []
        pairs = [
            _redact_sops(lb[i] if i < len(lb) else _MISSING, lh[i] if i < len(lh) else _MISSING)
            for i in range(max(len(lb), len(lh)))
        ]
        return (
            [p[0] for p in pairs[: len(lb)]] if isinstance(base, list) else base,
            [p[1] for p in pairs[: len(lh)]] if isinstance(head, list) else head,
        )
    old, new = _placeholders(base, head)
    return (old if _is_sops_value(base) else base), (new if _is_sops_value(head) else head)


def _secret_maps(
    base: Any, head: Any, field: str
) -> tuple[dict[str, str], dict[str, str], list[SecretKeyChange]]:
    b = base if isinstance(base, Mapping) else {}
    h = head if isinstance(head, Mapping) else {}
    out_b: dict[str, str] = {}
    out_h: dict[str, str] = {}
    changes: list[SecretKeyChange] = []
    for key in sorted({*b, *h}, key=str):
        if key in b and key in h:
            out_b[str(key)], out_h[str(key)] = _placeholders(b[key], h[key])
            if b[key] != h[key]:
                changes.append(SecretKeyChange(f"{field}.{key}", ChangeKind.MODIFIED))
        elif key in h:
            out_h[str(key)] = HIDDEN
            changes.append(SecretKeyChange(f"{field}.{key}", ChangeKind.ADDED))
        else:
            out_b[str(key)] = HIDDEN
            changes.append(SecretKeyChange(f"{field}.{key}", ChangeKind.REMOVED))
    return out_b, out_h, changes


def _annotations(body: Body | None) -> dict[str, Any]:
    metadata = body.get("metadata") if body else None
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    return annotations if isinstance(annotations, dict) else {}


def redact_pair(
    base: Body | None, head: Body | None
) -> tuple[Body | None, Body | None, tuple[SecretKeyChange, ...]]:
    """Redacted copies of a base/head pair (either may be None) and the Secret keys that changed.

    The inputs must be copies the caller owns (see `normalize.normalized`): they are modified.
    """
    base, head = _redact_sops(base, head)
    changes: list[SecretKeyChange] = []
    if is_secret(base) or is_secret(head):
        for field in _SECRET_FIELDS:
            in_b, in_h = base is not None and field in base, head is not None and field in head
            if not (in_b or in_h):
                continue
            rb, rh, found = _secret_maps(
                base.get(field) if base else None, head.get(field) if head else None, field
            )
            changes.extend(found)
            if base is not None and in_b:
                base[field] = rb
            if head is not None and in_h:
                head[field] = rh
    ab, ah = _annotations(base), _annotations(head)
    if LAST_APPLIED in ab or LAST_APPLIED in ah:
        old, new = _placeholders(ab.get(LAST_APPLIED, _MISSING), ah.get(LAST_APPLIED, _MISSING))
        if LAST_APPLIED in ab:
            ab[LAST_APPLIED] = old
        if LAST_APPLIED in ah:
            ah[LAST_APPLIED] = new
    return base, head, tuple(changes)
