"""ApplicationSet templating, offline: `{{param}}` (fasttemplate, the default) and the common
subset of Go templates (`goTemplate: true`): field chains, pipelines and a list of sprig/Argo CD
functions. Control structures (`if`, `range`, `with`, variables) are refused with an error, so
an Application is never rendered from a half-understood template."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from bot.core.render.argo import template_funcs
from bot.core.render.argo.template_funcs import MISSING, format_value


class TemplateError(ValueError):
    pass


_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|`[^`]*`)
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<field>(?:\.[A-Za-z_]\w*)+|\.)
      | (?P<var>\$\w*(?:\.[A-Za-z_]\w*)*)
      | (?P<ident>[A-Za-z_]\w*)
      | (?P<punct>[()|])
      | (?P<assign>:?=)
    )""",
    re.VERBOSE,
)
_KEYWORDS = frozenset(
    {"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"}
)


def render_fasttemplate(text: str, params: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """Replace `{{ key }}` by params[key] (strings only); unknown tags stay, as in Argo CD."""
    unresolved: list[str] = []

    def replace(match: re.Match[str]) -> str:
        value = params.get(match.group(1).strip())
        if isinstance(value, str) and match.group(1).strip():
            return value
        unresolved.append(match.group(0))
        return match.group(0)

    return _TAG.sub(replace, text), tuple(unresolved)


def render_gotemplate(text: str, params: Mapping[str, Any], missing_error: bool = False) -> str:
    out: list[str] = []
    position = 0
    trim_next = False
    while True:
        start = text.find("{{", position)
        chunk = text[position:] if start == -1 else text[position:start]
        out.append(chunk.lstrip() if trim_next else chunk)
        if start == -1:
            return "".join(out)
        end = text.find("}}", start + 2)
        if end == -1:
            raise TemplateError("unclosed action: `{{` without `}}`")
        action = text[start + 2 : end]
        if action.startswith("- ") or action == "-":
            out[-1] = out[-1].rstrip()
            action = action[1:]
        trim_next = action.endswith(" -")
        action = action[:-1] if trim_next else action
        position = end + 2
        stripped = action.strip()
        if stripped.startswith("/*") and stripped.endswith("*/"):
            continue
        value = _evaluate(_tokens(stripped), params, missing_error)
        out.append(format_value(value))


def _tokens(action: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(action):
        if action[position:].isspace():
            break
        match = _TOKEN.match(action, position)
        if match is None or match.end() == position:
            raise TemplateError(f"cannot parse {action.strip()!r} at {action[position:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    if not tokens:
        raise TemplateError("empty action {{ }}")
    first_kind, first = tokens[0]
    if first_kind == "ident" and first in _KEYWORDS:
        raise TemplateError(f"`{first}` blocks are not supported offline")
    if any(kind == "assign" for kind, _ in tokens) or any(
        kind == "var" and text not in ("$",) and not text.startswith("$.") for kind, text in tokens
    ):
        raise TemplateError("template variables are not supported offline")
    return tokens


def _evaluate(tokens: list[tuple[str, str]], params: Mapping[str, Any], missing_error: bool) -> Any:
    value, rest = _pipeline(tokens, params, missing_error)
    if rest:
        raise TemplateError(f"unexpected {rest[0][1]!r}")
    return value


def _pipeline(
    tokens: list[tuple[str, str]], params: Mapping[str, Any], missing_error: bool
) -> tuple[Any, list[tuple[str, str]]]:
    piped: list[Any] = []
    while True:
        command: list[Any] = []
        function: Callable[..., Any] | None = None
        while tokens and tokens[0] not in (("punct", "|"), ("punct", ")")):
            kind, text = tokens[0]
            tokens = tokens[1:]
            if kind == "ident" and not command and function is None and text not in _LITERALS:
                function = template_funcs.FUNCTIONS.get(text)
                if function is None:
                    raise TemplateError(f"function {text!r} is not supported offline")
                continue
            if kind == "punct" and text == "(":
                inner, tokens = _pipeline(tokens, params, missing_error)
                if not tokens or tokens[0] != ("punct", ")"):
                    raise TemplateError("unclosed parenthesis")
                tokens = tokens[1:]
                command.append(inner)
                continue
            command.append(_operand(kind, text, params, missing_error))
        args = command + piped
        if function is not None:
            try:
                result = function(*args)
            except (TypeError, ValueError, IndexError, KeyError) as exc:
                raise TemplateError(f"error calling a function: {exc}") from exc
        elif len(args) == 1:
            result = args[0]
        else:
            raise TemplateError("a pipeline stage without a function takes exactly one value")
        if not tokens or tokens[0] != ("punct", "|"):
            return result, tokens
        tokens, piped = tokens[1:], [result]


_LITERALS = {"true": True, "false": False, "nil": None}


def _operand(kind: str, text: str, params: Mapping[str, Any], missing_error: bool) -> Any:
    if kind == "string":
        return text[1:-1] if text.startswith("`") else json.loads(text)
    if kind == "number":
        return float(text) if "." in text else int(text)
    if kind == "ident":
        return _LITERALS[text]
    if kind in ("field", "var"):
        chain = text.lstrip("$")
        value: Any = params
        for name in (part for part in chain.split(".") if part):
            value = _field(value, name, missing_error)
        return value
    raise TemplateError(f"unexpected {text!r}")


def _field(value: Any, name: str, missing_error: bool) -> Any:
    if isinstance(value, Mapping):
        if name in value:
            return value[name]
        if missing_error:
            raise TemplateError(f"map has no entry for key {name!r}")
        return MISSING
    shown = "a missing value" if value is MISSING else type(value).__name__
    raise TemplateError(f"can't evaluate field {name} in {shown}")
