"""Field-level differences between two (already redacted) objects."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from bot.core.safe_yaml import format_field_path
from bot.model.diff import ChangeKind, FieldChange

MAX_FIELDS = 200


def _walk(base: Any, head: Any, path: list[str | int]) -> Iterator[FieldChange]:
    if isinstance(base, Mapping) and isinstance(head, Mapping):
        for key in [*base, *(k for k in head if k not in base)]:
            if key not in head:
                yield FieldChange(format_field_path([*path, str(key)]), ChangeKind.REMOVED)
            elif key not in base:
                yield FieldChange(format_field_path([*path, str(key)]), ChangeKind.ADDED)
            else:
                yield from _walk(base[key], head[key], [*path, str(key)])
    elif _is_list(base) and _is_list(head):
        for i in range(max(len(base), len(head))):
            if i >= len(head):
                yield FieldChange(format_field_path([*path, i]), ChangeKind.REMOVED)
            elif i >= len(base):
                yield FieldChange(format_field_path([*path, i]), ChangeKind.ADDED)
            else:
                yield from _walk(base[i], head[i], [*path, i])
    elif base != head:
        yield FieldChange(format_field_path(path), ChangeKind.MODIFIED)


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def field_changes(base: Any, head: Any) -> tuple[FieldChange, ...]:
    """Changed leaf paths in document order, e.g. `spec.template.spec.containers[0].image`."""
    changes: list[FieldChange] = []
    for change in _walk(base, head, []):
        changes.append(change)
        if len(changes) >= MAX_FIELDS:
            break
    return tuple(changes)
