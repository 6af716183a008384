"""Which file and line a field of a rendered resource comes from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.safe_yaml import format_field_path
from bot.model.resource import Location, Resource

_MISSING = object()

FieldPath = tuple[str | int, ...]


def value_at(data: Any, path: FieldPath) -> Any:
    """The value at `path`, or the `_MISSING` sentinel."""
    current = data
    for part in path:
        if isinstance(part, int):
            if not isinstance(current, Sequence) or isinstance(current, str | bytes):
                return _MISSING
            if not 0 <= part < len(current):
                return _MISSING
            current = current[part]
        elif isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return _MISSING
    return current


def locate(resource: Resource, path: FieldPath) -> Location:
    """The best known place of `path`: the exact line where the rendered value is written,
    else the nearest enclosing field a source document has, else the resource's origin.

    A source document with `data` (e.g. a Kustomize base) is credited with the exact field only
    when it holds the rendered value, so a value changed by an overlay patch points at the patch.
    """
    rendered = value_at(resource.body, path)
    for source in resource.sources:
        line = source.field_lines.get(format_field_path(path))
        if line is not None and (source.data is None or value_at(source.data, path) == rendered):
            return Location(source.path, line)
    for depth in range(len(path) - 1, -1, -1):
        field = format_field_path(path[:depth])
        for source in resource.sources:
            line = source.field_lines.get(field)
            if line is not None:
                return Location(source.path, line)
    return resource.origin
