"""Pair base and head resources of each target and describe what changes."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import yaml

from bot.core.diff.fields import field_changes
from bot.core.diff.normalize import normalized
from bot.core.diff.redact import redact_pair
from bot.model.diff import ChangeKind, ResourceDiff
from bot.model.render import TargetRender
from bot.model.repo_config import DiffConfig
from bot.model.resource import Resource, ResourceKey

_TOP_LEVEL_ORDER = ("apiVersion", "kind", "metadata", "spec", "data", "stringData")


def _canonical(value: Any, top: bool = False) -> Any:
    """Stable key order so a reordered source file never shows up as a change."""
    if isinstance(value, Mapping):
        keys = sorted(value, key=str)
        if top:
            keys = [k for k in _TOP_LEVEL_ORDER if k in value] + [
                k for k in keys if k not in _TOP_LEVEL_ORDER
            ]
        return {k: _canonical(value[k]) for k in keys}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def _yaml_lines(body: Mapping[str, Any] | None) -> list[str]:
    if body is None:
        return []
    text = yaml.dump(
        _canonical(body, top=True),
        Dumper=yaml.CSafeDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1000,
    )
    return text.splitlines()


def _unified(key: ResourceKey, base: Any, head: Any) -> str:
    lines = difflib.unified_diff(
        _yaml_lines(base),
        _yaml_lines(head),
        fromfile=f"base/{key.display()}" if base is not None else "/dev/null",
        tofile=f"head/{key.display()}" if head is not None else "/dev/null",
        lineterm="",
        n=3,
    )
    return "\n".join(lines)


def diff_resources(
    base: Resource | None, head: Resource | None, config: DiffConfig
) -> ResourceDiff | None:
    """The redacted difference of one resource, or None when nothing meaningful changed."""
    some = head or base
    assert some is not None
    b, h, secret_keys = redact_pair(
        normalized(base.body if base else None, config),
        normalized(head.body if head else None, config),
    )
    if base is None:
        change = ChangeKind.ADDED
    elif head is None:
        change = ChangeKind.REMOVED
    elif b == h and not secret_keys:
        return None
    else:
        change = ChangeKind.MODIFIED
    fields = field_changes(b, h) if change is ChangeKind.MODIFIED else ()
    return ResourceDiff(
        key=some.key,
        change=change,
        target=some.target,
        origin=some.origin,
        fields=fields,
        unified_diff=_unified(some.key, b, h),
        secret_keys=secret_keys,
        labels=_labels(h if h is not None else b),
    )


def _labels(body: Mapping[str, Any] | None) -> dict[str, str]:
    metadata = body.get("metadata") if body else None
    labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {}


def diff_target(
    base: TargetRender | None, head: TargetRender | None, config: DiffConfig
) -> tuple[ResourceDiff, ...]:
    base_map = {r.key: r for r in base.resources} if base else {}
    head_map = {r.key: r for r in head.resources} if head else {}
    diffs = []
    for key in sorted(base_map.keys() | head_map.keys()):
        diff = diff_resources(base_map.get(key), head_map.get(key), config)
        if diff is not None:
            diffs.append(diff)
    return tuple(diffs)
