"""The three glob dialects Argo CD uses, each matched the way Argo CD matches it.

- directory sources' `include`/`exclude` (gobwas/glob without separators): `*` also crosses
  `/`, `{a,b}` alternatives, `[abc]`/`[!abc]` classes;
- the git directories generator (Go's `path.Match`): `*` and `?` stop at `/`;
- the git files generator (`git ls-files` pathspecs, Argo CD's default): `*` crosses `/`.
"""

from __future__ import annotations

import fnmatch
import functools
import re


class GlobError(ValueError):
    """A pattern the Go matcher would refuse (Argo CD then matches nothing)."""


def _class(pattern: str, i: int, negation: str) -> tuple[str, int]:
    """Translate the `[...]` at pattern[i]; returns (regex, index after `]`)."""
    j = i + 1
    negate = j < len(pattern) and pattern[j] in negation
    j += negate
    body: list[str] = []
    while j < len(pattern) and pattern[j] != "]":
        char = pattern[j]
        if char == "\\" and j + 1 < len(pattern):
            j += 1
            body.append(re.escape(pattern[j]))
        elif char == "-" and body and j + 1 < len(pattern) and pattern[j + 1] != "]":
            body.append("-")  # a range such as a-z
        else:
            body.append(re.escape(char))
        j += 1
    if j >= len(pattern) or not body:
        raise GlobError(f"unterminated or empty character class in {pattern!r}")
    return ("[^" if negate else "[") + "".join(body) + "]", j + 1


def _gobwas(pattern: str, i: int, stop: str) -> tuple[str, int]:
    out: list[str] = []
    while i < len(pattern) and pattern[i] not in stop:
        char = pattern[i]
        if char == "*":
            while i < len(pattern) and pattern[i] == "*":
                i += 1
            out.append(".*")
            continue
        if char == "?":
            out.append(".")
        elif char == "[":
            regex, i = _class(pattern, i, "!")
            out.append(regex)
            continue
        elif char == "{":
            alternatives: list[str] = []
            i += 1
            while True:
                regex, i = _gobwas(pattern, i, ",}")
                alternatives.append(regex)
                if i >= len(pattern):
                    raise GlobError(f"unterminated {{...}} in {pattern!r}")
                if pattern[i] == "}":
                    break
                i += 1
            out.append("(?:" + "|".join(alternatives) + ")")
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out), i


@functools.lru_cache(maxsize=256)
def _compiled_gobwas(pattern: str) -> re.Pattern[str]:
    regex, end = _gobwas(pattern, 0, "")
    if end != len(pattern):
        raise GlobError(f"unbalanced pattern {pattern!r}")
    return re.compile(f"(?s:{regex})\\Z")


def directory_glob_match(pattern: str, path: str) -> bool:
    """Argo CD's `glob.Match(pattern, relPath)`: an invalid pattern matches nothing."""
    try:
        return _compiled_gobwas(pattern).match(path) is not None
    except GlobError:
        return False


@functools.lru_cache(maxsize=256)
def _compiled_path_match(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            regex, i = _class(pattern, i, "^")
            out.append(regex)
            continue
        elif char == "\\":
            if i + 1 >= len(pattern):
                raise GlobError(f"trailing backslash in {pattern!r}")
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out) + "\\Z")


def path_match(pattern: str, path: str) -> bool:
    """Go's `path.Match`, as the git directories generator uses it; bad patterns match nothing."""
    try:
        return _compiled_path_match(pattern).match(path) is not None
    except GlobError:
        return False


def pathspec_match(pattern: str, path: str) -> bool:
    """`git ls-files <pattern>` without `:(glob)`: wildcards match across `/`."""
    return fnmatch.fnmatchcase(path, pattern.lstrip("/"))
