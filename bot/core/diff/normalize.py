"""Copies of rendered objects with diff noise removed (chart-version labels and the like)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from bot.model.repo_config import DiffConfig


def _strip(metadata: Any, config: DiffConfig) -> None:
    if not isinstance(metadata, dict):
        return
    for field, ignored in (
        ("labels", config.ignore_labels),
        ("annotations", config.ignore_annotations),
    ):
        values = metadata.get(field)
        if isinstance(values, dict):
            for key in ignored:
                values.pop(key, None)
            if not values:
                del metadata[field]


def normalized(body: Mapping[str, Any] | None, config: DiffConfig) -> dict[str, Any] | None:
    """A deep copy the diff may modify, without the configured noisy labels/annotations."""
    if body is None:
        return None
    copied: dict[str, Any] = copy.deepcopy(dict(body))
    _strip(copied.get("metadata"), config)
    spec = copied.get("spec")
    template = spec.get("template") if isinstance(spec, dict) else None
    if isinstance(template, dict):
        _strip(template.get("metadata"), config)
    return copied
