"""Builtins the bot's policies may not call, found statically in Rego text (both engines).

Policies get no network and no environment (DESIGN §4): `http.send`, `net.lookup_ip_addr` and
`opa.runtime` are refused before a module reaches any engine. The small lexer below knows
comments, strings, raw strings and template strings (`$"…{expr}…"`), so a builtin named in a
comment or a string is not a call, while one inside a template's `{…}` is. It is shared with
the OPA engine, which needs the same view of the code to namespace `data` references.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.model.errors import PolicyCompileError
from bot.model.resource import Location
from bot.ports import PolicyModule

FORBIDDEN_BUILTINS = ("http.send", "net.lookup_ip_addr", "opa.runtime")

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Token:
    """One lexeme of code: kind is "name", "number", "string" or "punct"; offset in the text."""

    kind: str
    text: str
    offset: int


def _string_end(source: str, start: int, quote: str, escapes: str) -> int:
    """Offset just past the string opened at `start` (its end of line/text if unterminated)."""
    pos = start + 1
    while pos < len(source):
        char = source[pos]
        if char == "\\" and source[pos + 1 : pos + 2] in escapes:
            pos += 2
        elif char == quote:
            return pos + 1
        elif char == "\n" and quote == '"':
            return pos
        else:
            pos += 1
    return pos


def _template(source: str, start: int, out: list[Token]) -> int:
    """Lex `$"…"` / `` $`…` ``: the text is skipped, each `{expression}` is lexed as code."""
    quote = source[start + 1]
    escapes = '\\"{' if quote == '"' else "{"
    pos = start + 2
    while pos < len(source) and source[pos] != quote:
        if source[pos] == "\\" and source[pos + 1 : pos + 2] in escapes:
            pos += 2
        elif source[pos] == "{":
            pos = _lex(source, pos + 1, out, nested=True) + 1
        elif source[pos] == "\n" and quote == '"':
            return pos
        else:
            pos += 1
    return pos + 1


def _lex(source: str, pos: int, out: list[Token], nested: bool = False) -> int:
    """Append code tokens from `pos`; in a template expression, stop at its closing brace."""
    depth = 0
    while pos < len(source):
        space = _SPACE.match(source, pos)
        if space:
            pos = space.end()
            continue
        char = source[pos]
        if char == "#":
            newline = source.find("\n", pos)
            pos = len(source) if newline < 0 else newline
        elif char == "$" and source[pos + 1 : pos + 2] in ('"', "`"):
            pos = _template(source, pos, out)
        elif char in '"`':
            end = _string_end(source, pos, char, '\\"' if char == '"' else "")
            out.append(Token("string", source[pos:end], pos))
            pos = end
        elif nested and char == "}" and depth == 0:
            return pos
        else:
            name = _NAME.match(source, pos) or _NUMBER.match(source, pos)
            text = name.group() if name else char
            kind = (
                "punct" if not name else "name" if text[0].isalpha() or text[0] == "_" else "number"
            )
            out.append(Token(kind, text, pos))
            pos += len(text)
            if nested and char in "{}":
                depth += 1 if char == "{" else -1
    return pos


def rego_tokens(source: str) -> list[Token]:
    """The code tokens of a Rego module, without comments; a plain string is one token."""
    out: list[Token] = []
    _lex(source, 0, out)
    return out


def line_and_column(source: str, offset: int) -> tuple[int, int]:
    """1-based line and column of an offset."""
    return source.count("\n", 0, offset) + 1, offset - source.rfind("\n", 0, offset)


def dotted_name(tokens: list[Token], index: int) -> str:
    """`a.b.c` starting at tokens[index] (a name): the longest chain of `.name`."""
    parts = [tokens[index].text]
    while (
        index + 2 < len(tokens)
        and tokens[index + 1].text == "."
        and tokens[index + 2].kind == "name"
    ):
        parts.append(tokens[index + 2].text)
        index += 2
    return ".".join(parts)


def forbidden_builtins(module: PolicyModule) -> PolicyCompileError | None:
    """The first use of a forbidden builtin in the module's code, as a compile error.

    A name after `.` is part of a longer reference (`input.http.send`), and `with http.send as
    …` only replaces the builtin (a mock in a test), so neither counts.
    """
    tokens = rego_tokens(module.source)
    for index, token in enumerate(tokens):
        if token.kind != "name" or token.text not in ("http", "net", "opa"):
            continue
        before = tokens[index - 1].text if index else ""
        if before in (".", "with"):
            continue
        name = dotted_name(tokens, index)
        if name in FORBIDDEN_BUILTINS:
            line, column = line_and_column(module.source, token.offset)
            return PolicyCompileError(
                f"`{name}` is not allowed: policies get no network access and no environment",
                Location(module.path, line, column),
                "compute the value outside the policy and pass it in as data",
            )
    return None
