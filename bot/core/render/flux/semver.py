"""Semantic versions and the constraints Helm and Flux accept (Masterminds/semver v3 syntax):
`*`, `1.2.x`, `~1.2`, `^1.2.3`, `>=1.0.0-alpha <2`, `1.2 - 1.4`, alternatives with `||`.

A prerelease version matches only a comparator that itself names a prerelease, so `>=1.0.0`
never picks `1.1.0-rc.1` while `>=1.0.0-alpha` does (what source-controller resolves)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

_VERSION = re.compile(
    r"v?(?P<major>\d+|[xX*])(?:\.(?P<minor>\d+|[xX*]))?(?:\.(?P<patch>\d+|[xX*]))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?"
)
_COMPARATOR = re.compile(r"(?P<op>!=|>=|=>|<=|=<|~>|[=<>~^])?\s*(?P<version>\S+)")


@dataclass(frozen=True, slots=True, order=False)
class Version:
    major: int
    minor: int
    patch: int
    pre: tuple[int | str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Version | None:
        match = _VERSION.fullmatch(text.strip())
        if match is None or any(
            (match.group(p) or "0") in ("x", "X", "*") for p in ("major", "minor", "patch")
        ):
            return None
        pre = match.group("pre")
        return cls(
            int(match.group("major")),
            int(match.group("minor") or 0),
            int(match.group("patch") or 0),
            tuple(int(p) if p.isdigit() else p for p in pre.split(".")) if pre else (),
        )

    def key(self) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
        # A release sorts after its prereleases; numeric identifiers before alphanumeric ones.
        ids = tuple((0, p) if isinstance(p, int) else (1, p) for p in self.pre)
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, ids)

    def __lt__(self, other: Version) -> bool:
        return self.key() < other.key()

    def __le__(self, other: Version) -> bool:
        return self.key() <= other.key()


Check = Callable[[Version], bool]


@dataclass(frozen=True, slots=True)
class _Comparator:
    check: Check
    allows_prerelease: bool


def _partial(text: str) -> tuple[list[int | None], tuple[int | str, ...]] | None:
    """Version parts, None for each missing or wildcard part."""
    match = _VERSION.fullmatch(text)
    if match is None:
        return None
    parts: list[int | None] = []
    for name in ("major", "minor", "patch"):
        value = match.group(name)
        parts.append(None if value is None or value in ("x", "X", "*") else int(value))
    for i in range(1, 3):
        if parts[i - 1] is None:
            parts[i] = None
    pre = match.group("pre")
    return parts, tuple(int(p) if p.isdigit() else p for p in pre.split(".")) if pre else ()


def _floor(parts: list[int | None], pre: tuple[int | str, ...]) -> Version:
    return Version(parts[0] or 0, parts[1] or 0, parts[2] or 0, pre)


def _ceiling(parts: list[int | None], bump: int) -> Version:
    """The first version above the range `parts` covers when bumping part `bump`."""
    major, minor = parts[0] or 0, parts[1] or 0
    if bump == 0:
        return Version(major + 1, 0, 0, (0,))
    if bump == 1:
        return Version(major, minor + 1, 0, (0,))
    return Version(major, minor, (parts[2] or 0) + 1, (0,))


def _wildcard_bump(parts: list[int | None]) -> int | None:
    if parts[0] is None:
        return None
    if parts[1] is None:
        return 0
    if parts[2] is None:
        return 1
    return 2


def _range(low: Version, high: Version | None) -> Check:
    return lambda v: low <= v and (high is None or v < high)


def _comparator(op: str, text: str) -> _Comparator | None:  # noqa: PLR0911 - one per operator
    partial = _partial(text)
    if partial is None:
        return None
    parts, pre = partial
    low = _floor(parts, pre)
    bump = _wildcard_bump(parts)
    wild = bump is None or bump < 2
    prerelease = bool(pre)
    if op in ("", "="):
        if bump is None:
            return _Comparator(lambda v: True, prerelease)
        high = _ceiling(parts, bump) if wild else None
        return _Comparator(
            _range(low, high) if wild else (lambda v: v.key() == low.key()), prerelease
        )
    if op == "!=":
        return _Comparator(lambda v: v.key() != low.key(), prerelease)
    if op in (">=", "=>"):
        return _Comparator(lambda v: low <= v, prerelease)
    if op == ">":
        above = _ceiling(parts, bump) if wild and bump is not None else None
        return _Comparator((lambda v: above <= v) if above else (lambda v: low < v), prerelease)
    if op == "<":
        return _Comparator(lambda v: v < low, prerelease)
    if op in ("<=", "=<"):
        high = _ceiling(parts, bump) if wild and bump is not None else None
        return _Comparator((lambda v: v < high) if high else (lambda v: v <= low), prerelease)
    if op in ("~", "~>"):
        level = 0 if parts[1] is None else 1
        return _Comparator(_range(low, _ceiling(parts, level)), prerelease)
    if op == "^":
        level = 0 if (parts[0] or 0) > 0 or parts[1] is None else 1
        if level == 1 and (parts[1] or 0) == 0 and parts[2] is not None:
            level = 2
        return _Comparator(_range(low, _ceiling(parts, level)), prerelease)
    return None


def _group(text: str) -> list[_Comparator] | None:
    hyphen = re.fullmatch(r"\s*(\S+)\s+-\s+(\S+)\s*", text)
    if hyphen:
        pair = [_comparator(">=", hyphen.group(1)), _comparator("<=", hyphen.group(2))]
        return None if None in pair else [c for c in pair if c is not None]
    tokens = [t for t in re.split(r"[\s,]+", text.strip()) if t]
    merged: list[str] = []
    for token in tokens:  # "> 1.2" is one comparator written with a space
        if merged and re.fullmatch(r"!=|>=|=>|<=|=<|~>|[=<>~^]", merged[-1]):
            merged[-1] += token
        else:
            merged.append(token)
    comparators: list[_Comparator] = []
    for token in merged or ["*"]:
        match = _COMPARATOR.fullmatch(token)
        comparator = _comparator(match.group("op") or "", match.group("version")) if match else None
        if comparator is None:
            return None
        comparators.append(comparator)
    return comparators


@dataclass(frozen=True, slots=True)
class Constraint:
    groups: tuple[tuple[_Comparator, ...], ...]

    @classmethod
    def parse(cls, text: str) -> Constraint | None:
        groups = []
        for alternative in (text or "*").split("||"):
            group = _group(alternative)
            if group is None:
                return None
            groups.append(tuple(group))
        return cls(tuple(groups))

    def allows(self, version: Version) -> bool:
        for group in self.groups:
            if version.pre and not any(c.allows_prerelease for c in group):
                continue
            if all(c.check(version) for c in group):
                return True
        return False


def newest(versions: Iterable[str], constraint: str) -> str | None:
    """The newest of `versions` the constraint allows (as written in the index), or None."""
    parsed = Constraint.parse(constraint)
    if parsed is None:
        return None
    best: tuple[Version, str] | None = None
    for text in versions:
        version = Version.parse(text)
        if version is None or not parsed.allows(version):
            continue
        if best is None or best[0] < version:
            best = (version, text)
    return best[1] if best else None
