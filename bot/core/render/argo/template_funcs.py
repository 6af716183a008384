"""The Go-template functions ApplicationSets commonly use (Go builtins, sprig, Argo CD's own),
with sprig's argument order: the piped value comes last."""

from __future__ import annotations

import base64
import json
import posixpath
import re
from collections.abc import Callable, Mapping
from typing import Any


class _Missing:
    """A map key that is not there: Go prints `<no value>` for it (unless missingkey=error)."""

    def __repr__(self) -> str:
        return "<no value>"


MISSING = _Missing()


def format_value(value: Any) -> str:
    """How Go's text/template prints a value (fmt's %v)."""
    if value is MISSING or value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, list | tuple):
        return "[" + " ".join(format_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = " ".join(f"{k}:{format_value(v)}" for k, v in sorted(value.items()))
        return f"map[{items}]"
    return str(value)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else format_value(value)


def _empty(value: Any) -> bool:
    return (
        value is MISSING
        or value in (None, "", 0, False)
        or (isinstance(value, list | tuple | Mapping) and not value)
    )


def _index(value: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(value, Mapping):
            value = value.get(key) if key in value else None
        elif isinstance(value, list | tuple | str) and isinstance(key, int):
            if not 0 <= key < len(value):
                raise IndexError(f"index {key} out of range [0:{len(value)}]")
            value = value[key]
        else:
            raise TypeError(f"cannot index {type(value).__name__} with {key!r}")
    return value


def _printf(pattern: str, *args: Any) -> str:
    values = iter(args)

    def verb(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        value = next(values, None)
        return json.dumps(_text(value)) if match.group(1) == "q" else _text(value)

    return re.sub(r"%%|%[-+# 0]*\d*(?:\.\d+)?([svdqtfg])", verb, pattern)


def _trunc(length: int, text: str) -> str:
    return text[:length] if length >= 0 else text[length:]


def sanitize_name(name: str) -> str:
    """Argo CD's `utils.SanitizeName` (and the `normalize` template function)."""
    cleaned = re.sub(r"[^-a-z0-9.]", "-", name.lower())[:253]
    return cleaned.strip("-.")


def _go_print_builtin(*args: Any) -> str:
    out = ""
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out += " "
        out += _text(arg)
    return out


FUNCTIONS: Mapping[str, Callable[..., Any]] = {
    "index": _index,
    "len": len,
    "print": _go_print_builtin,
    "printf": _printf,
    "eq": lambda a, *others: any(a == b for b in others),
    "ne": lambda a, b: a != b,
    "not": _empty,
    "and": lambda *values: next((v for v in values if _empty(v)), values[-1]),
    "or": lambda *values: next((v for v in values if not _empty(v)), values[-1]),
    "lower": lambda s: _text(s).lower(),
    "upper": lambda s: _text(s).upper(),
    "title": lambda s: _text(s).title(),
    "trim": lambda s: _text(s).strip(),
    "trimAll": lambda cut, s: _text(s).strip(cut),
    "trimPrefix": lambda prefix, s: _text(s).removeprefix(prefix),
    "trimSuffix": lambda suffix, s: _text(s).removesuffix(suffix),
    "replace": lambda old, new, s: _text(s).replace(old, new),
    "quote": lambda *s: " ".join(json.dumps(_text(v)) for v in s),
    "squote": lambda *s: " ".join(f"'{_text(v)}'" for v in s),
    "trunc": _trunc,
    "substr": lambda start, end, s: _text(s)[start:end],
    "contains": lambda sub, s: sub in _text(s),
    "hasPrefix": lambda prefix, s: _text(s).startswith(prefix),
    "hasSuffix": lambda suffix, s: _text(s).endswith(suffix),
    "default": lambda fallback, value=None: fallback if _empty(value) else value,
    "empty": _empty,
    "coalesce": lambda *values: next((v for v in values if not _empty(v)), None),
    "join": lambda sep, values: sep.join(_text(v) for v in values),
    "splitList": lambda sep, s: _text(s).split(sep),
    "first": lambda values: values[0] if values else None,
    "last": lambda values: values[-1] if values else None,
    "toString": _text,
    "toJson": lambda value: json.dumps(value, separators=(",", ":"), sort_keys=True),
    "b64enc": lambda s: base64.b64encode(_text(s).encode()).decode(),
    "base": lambda s: posixpath.basename(_text(s)),
    "dir": lambda s: posixpath.dirname(_text(s)) or ".",
    "ext": lambda s: posixpath.splitext(_text(s))[1],
    "clean": lambda s: posixpath.normpath(_text(s)),
    "normalize": lambda s: sanitize_name(_text(s)),
    "regexReplaceAll": lambda pattern, s, repl: re.sub(
        pattern, re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", repl), _text(s)
    ),
}
