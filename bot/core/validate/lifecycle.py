"""Removed, not-yet-served and deprecated Kubernetes APIs, judged from the bundled schemas."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.model.finding import Severity

GVK = tuple[str, str, str]  # (group, version, kind); the core group is ""
# Groups served before the oldest bundled schemas (1.25) and gone since.
LEGACY_GROUPS = frozenset({"extensions"})
_PRERELEASE = re.compile(r"^v\d+(alpha|beta)\d*$")
_GA = re.compile(r"^v\d+$")


@dataclass(frozen=True, slots=True)
class ApiVerdict:
    rule_id: str
    severity: Severity
    message: str
    replacement: str = ""


def split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


_STAGE = {"alpha": 0, "beta": 1, "": 2}
_VERSION = re.compile(r"^v(\d+)(alpha|beta)?(\d*)$")


def version_rank(version: str) -> tuple[int, int, int]:
    """Maturity of an API version: stability first (alpha < beta < GA), then the number, so
    v2beta2 < v1 < v2: a GA API is always recommended over a newer pre-release one."""
    match = _VERSION.match(version)
    if match is None:
        return (-1, -1, -1)
    major, stage, minor = match.groups()
    return (_STAGE[stage or ""], int(major), int(minor or 0))


def _replacement(kind: str, group: str, served: frozenset[GVK]) -> str:
    """The served apiVersion for `kind`: the same group first, then the most mature version."""
    options = [(g == group, version_rank(v), g, v) for g, v, k in served if k == kind]
    if not options:
        return ""
    _, _, g, v = max(options)
    return f"{g}/{v}" if g else v


def builtin_groups(served: Mapping[str, frozenset[GVK]]) -> frozenset[str]:
    """Every API group Kubernetes itself serves (or served), across the bundled versions."""
    return frozenset(g for kinds in served.values() for g, _, _ in kinds) | LEGACY_GROUPS


def judge_api(
    gvk: GVK,
    target: str,
    served: Mapping[str, frozenset[GVK]],
    groups: Callable[[], frozenset[str]] | None = None,
) -> ApiVerdict | None:
    """Whether `gvk` can be applied to a cluster at Kubernetes `target` (a key of `served`).

    None: served and current, or not a Kubernetes API group at all (a CRD's).
    """
    group, version, kind = gvk
    at_target = served[target]
    where = f"{group}/{version}" if group else version
    if gvk in at_target:
        if _PRERELEASE.match(version):
            newer = [v for g, v, k in at_target if g == group and k == kind and _GA.match(v)]
            if newer:
                best = max(newer, key=version_rank)
                use = f"{group}/{best}" if group else best
                return ApiVerdict(
                    "api-deprecated",
                    Severity.WARNING,
                    f"{where} {kind} is a pre-release API superseded by {use} in Kubernetes "
                    f"{target}",
                    use,
                )
        return None
    # `groups` lets a caller cache the set: building it reads every bundled version.
    builtin = groups() if groups is not None else builtin_groups(served)
    if group not in builtin:
        return None
    versions = sorted(served, key=_version_key)
    earlier = [v for v in versions if _version_key(v) < _version_key(target) and gvk in served[v]]
    later = [v for v in versions if _version_key(v) > _version_key(target) and gvk in served[v]]
    replacement = _replacement(kind, group, at_target)
    use = f"; use {replacement}" if replacement else ""
    if later and not earlier:
        return ApiVerdict(
            "api-unavailable",
            Severity.ERROR,
            f"{where} {kind} is not served by Kubernetes {target}; it is first served in "
            f"{later[0]}{use}",
            replacement,
        )
    if earlier:
        gone = next(v for v in versions if _version_key(v) > _version_key(earlier[-1]))
        since = f"removed in Kubernetes {gone}"
    else:
        since = f"not served by any Kubernetes from {versions[0]} to {target}"
    return ApiVerdict(
        "api-removed",
        Severity.ERROR,
        f"{where} {kind} is {since}, so Kubernetes {target} rejects it{use}",
        replacement,
    )
