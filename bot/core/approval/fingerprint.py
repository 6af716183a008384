"""The rendered fingerprint of a change: what keep_if_rendered_unchanged compares.

It hashes what the pull request does to the desired state (each changed resource's key, kind
of change, and both normalised bodies, Secret values included), not the commit: a rebase onto
an unrelated base, a merge of the base branch or a comment-only commit keep it; any change to
what would be applied, a Secret value included, changes it. It is derived from Secret values,
so it stays inside the server and is never published.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from bot.core.diff.normalize import normalized
from bot.core.policy.stage import ChangedResource
from bot.model.repo_config import DiffConfig


def _body(resource_body: Mapping[str, Any] | None, config: DiffConfig) -> Any:
    return normalized(resource_body, config)


def fingerprint_change(changes: Iterable[ChangedResource], config: DiffConfig) -> str:
    entries = []
    for change in changes:
        some = change.head or change.base
        assert some is not None
        entries.append(
            [
                [some.key.api_group, some.key.kind, some.key.namespace, some.key.name],
                change.change,
                _body(change.base.body if change.base else None, config),
                _body(change.head.body if change.head else None, config),
            ]
        )
    entries.sort(key=lambda entry: json.dumps(entry[0]))
    canonical = json.dumps(entries, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
