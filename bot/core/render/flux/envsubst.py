"""Flux's `${var}` expansion (fluxcd/pkg/envsubst, a fork of drone/envsubst), ported.

The grammar follows the Go parser closely because a difference is a different manifest: `$var`
without braces is plain text, `$$` escapes a dollar, `${var-default}` (no colon) is an error,
params of `${var/pattern/replacement}` take `\\/` and `\\\\` escapes, and parse errors fail the
whole substitution (the controller then fails the Kustomization).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

MAX_NESTING = 32  # `${a:-${b:-${c...}}}` deeper than this is refused, not recursed into


class SubstitutionSyntaxError(ValueError):
    """The text is not valid for Flux's substitution; the message is the Go error's text."""


@dataclass(frozen=True, slots=True)
class Text:
    value: str


@dataclass(frozen=True, slots=True)
class Expr:
    """`${param<op>args}`; `source` is the expression exactly as written."""

    op: str
    param: str
    args: tuple[Node, ...]
    source: str


Node = Text | Expr

# A variable's value; None: it may exist but its value is not known (a Secret, SOPS), so the
# expression is kept as written instead of guessed.
Lookup = Callable[[str], str | None]


def _is_ident(char: str) -> bool:
    return char.isalnum() or char == "_"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def fail(self, message: str) -> SubstitutionSyntaxError:
        return SubstitutionSyntaxError(message)

    def parse_all(self) -> tuple[Node, ...]:
        nodes: list[Node] = []
        buf: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "$" and self.peek(1) == "{":
                if buf:
                    nodes.append(Text("".join(buf)))
                    buf = []
                start = self.pos
                self.pos += 2
                nodes.append(self.parse_expr(start))
                continue
            if char == "$" and self.peek(1) == "$":
                buf.append("$")  # `$$` is one literal dollar; what follows is not an expression
                self.pos += 2
                continue
            buf.append(char)
            self.pos += 1
        if buf:
            nodes.append(Text("".join(buf)))
        return tuple(nodes)

    def parse_expr(self, start: int) -> Expr:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(f"substitutions nested more than {MAX_NESTING} deep")
        try:
            if self.peek() == "#":
                self.pos += 1
                name = self.read_ident()
                if not name:
                    raise self.fail("bad substitution")
                return self.close(Expr("#len", name, (), ""), start)
            name = self.read_ident()
            if not name:
                raise self.fail("unable to parse variable name")
            return self.parse_operator(name, start)
        finally:
            self.depth -= 1

    def read_ident(self) -> str:
        begin = self.pos
        while self.pos < len(self.text) and _is_ident(self.text[self.pos]):
            self.pos += 1
        return self.text[begin : self.pos]

    def parse_operator(self, name: str, start: int) -> Expr:  # noqa: PLR0911 - one per operator
        char = self.peek()
        if char == ":" and self.peek(1) in ("=", "-", "?", "+") and self.peek(1):
            op = ":" + self.peek(1)
            self.pos += 2
            return self.parse_default(op, name, start)
        if char == ":":
            self.pos += 1
            return self.parse_substring(name, start)
        if char == "=":
            self.pos += 1
            return self.parse_default("=", name, start)
        if char in (",", "^"):
            op = self.take_while(lambda c: c in ",^", 2)
            return self.close(Expr(op, name, (), ""), start)
        if char == "/":
            return self.parse_replace(name, start)
        if char in ("#", "%"):
            op = self.take_while(lambda c: c == char, 2)
            arg = self.parse_param(lambda c: c != "}", escapes=False)
            return self.close(Expr(op, name, (arg,), ""), start)
        if char == "}":
            return self.close(Expr("", name, (), ""), start)
        raise self.fail("missing closing brace")

    def take_while(self, accept: Callable[[str], bool], limit: int) -> str:
        begin = self.pos
        while self.pos - begin < limit and self.peek() and accept(self.peek()):
            self.pos += 1
        return self.text[begin : self.pos]

    def close(self, expr: Expr, start: int) -> Expr:
        if self.peek() != "}":
            raise self.fail("bad substitution")
        self.pos += 1
        return Expr(expr.op, expr.param, expr.args, self.text[start : self.pos])

    def parse_default(self, op: str, name: str, start: int) -> Expr:
        args: list[Node] = []
        while self.peek() != "}":
            if not self.peek():
                raise self.fail("unable to parse substitution within function")
            args.append(self.parse_param(lambda c: c != "}", escapes=False))
        return self.close(Expr(op, name, tuple(args), ""), start)

    def parse_substring(self, name: str, start: int) -> Expr:
        args = [self.parse_param(lambda c: c not in ":}", escapes=False)]
        if self.peek() == ":":
            self.pos += 1
            args.append(self.parse_param(lambda c: c != "}", escapes=False))
        return self.close(Expr(":", name, tuple(args), ""), start)

    def parse_replace(self, name: str, start: int) -> Expr:
        self.pos += 1
        op = "/"
        if self.peek() in ("/", "#", "%") and self.peek():
            op += self.peek()
            self.pos += 1
        args: list[Node] = []
        if self.peek() == "/":
            args.append(Text(""))
        else:
            args.append(self.parse_param(lambda c: c != "/", escapes=True))
        if self.peek() != "/":
            raise self.fail("bad substitution")
        self.pos += 1
        if self.peek() != "}":
            args.append(self.parse_param(lambda c: c != "}", escapes=True))
        return self.close(Expr(op, name, tuple(args), ""), start)

    def parse_param(self, accept: Callable[[str], bool], escapes: bool) -> Node:
        """One text run or one nested expression, as the Go scanner reads a parameter."""
        if self.peek() == "$" and self.peek(1) == "{":
            start = self.pos
            self.pos += 2
            return self.parse_expr(start)
        buf: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "$" and self.peek(1) == "{":
                break
            if escapes and char == "\\" and self.peek(1) in ("/", "\\") and self.peek(1):
                buf.append(self.peek(1))
                self.pos += 2
                continue
            if not accept(char):
                break
            buf.append(char)
            self.pos += 1
        if not buf:
            raise self.fail("unable to parse substitution within function")
        return Text("".join(buf))


def parse(text: str) -> tuple[Node, ...]:
    """Raises SubstitutionSyntaxError where the controller's parser fails."""
    return _Parser(text).parse_all()


def referenced(nodes: tuple[Node, ...]) -> list[str]:
    """Every variable name the expressions read, nested defaults included, in order."""
    names: list[str] = []
    for node in nodes:
        if isinstance(node, Expr):
            names.append(node.param)
            names.extend(referenced(node.args))
    return names


def expand(nodes: tuple[Node, ...], lookup: Lookup) -> str:
    """Evaluate as the controller does without strict mode: an unknown variable is empty, unless
    `lookup` says its value is unknowable (None), in which case the expression stays as written."""
    return "".join(_evaluate(node, lookup) for node in nodes)


def _evaluate(node: Node, lookup: Lookup) -> str:
    if isinstance(node, Text):
        return node.value
    value = lookup(node.param)
    if value is None:
        return node.source
    args = [_evaluate(arg, lookup) for arg in node.args]
    return _apply(node.op, value, args)


def _apply(op: str, value: str, args: list[str]) -> str:  # noqa: PLR0911 - one case per operator
    if op == "#len":
        return str(len(value.encode()))
    if op in (",", ",,", "^", "^^"):
        return _case(op, value)
    if op in ("#", "##", "%", "%%") and args:
        return _trim(op, value, args[0])
    if op == ":":
        return _substring(value, args)
    if op in ("/", "//", "/#", "/%"):
        return _replace(op, value, args)
    if not value and args:  # every default operator (and any unknown op) falls back to args
        return "".join(args)
    return value


def _case(op: str, value: str) -> str:
    if op == ",,":
        return value.lower()
    if op == "^^":
        return value.upper()
    if not value:
        return value
    return (value[0].lower() if op == "," else value[0].upper()) + value[1:]


def _substring(value: str, args: list[str]) -> str:
    raw = value.encode()
    try:
        pos = int(args[0])
    except (ValueError, IndexError):
        return value
    if pos < 0:
        pos = max(len(raw) + pos, 0)
    if len(args) == 1:
        return raw[pos:].decode(errors="replace") if pos < len(raw) else ""
    try:
        length = int(args[1])
    except ValueError:
        return value
    if length < 0:
        end = len(raw) + length
        return "" if end < pos else raw[pos:end].decode(errors="replace")
    if pos + length >= len(raw):
        return raw[pos:].decode(errors="replace") if pos < len(raw) else ""
    return raw[pos : pos + length].decode(errors="replace")


def _replace(op: str, value: str, args: list[str]) -> str:
    pattern = args[0] if args else ""
    replacement = args[1] if len(args) > 1 else ""
    if op == "//":
        return value.replace(pattern, replacement) if args else value
    if op == "/":
        return value.replace(pattern, replacement, 1) if args else value
    if len(args) != 2:
        return value
    if op == "/#":
        return value.replace(pattern, replacement, 1) if value.startswith(pattern) else value
    return value.removesuffix(pattern) + replacement if value.endswith(pattern) else value


def _glob(pattern: str) -> re.Pattern[str] | None:
    """Go's path.Match: `*` and `?` never match `/`; a malformed class is an error (None)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                return None
            body = pattern[i + 1 : end]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    try:
        return re.compile("".join(out), re.DOTALL)
    except re.error:
        return None


def _trim(op: str, value: str, pattern: str) -> str:
    suffix = op.startswith("%")
    text = value[::-1] if suffix else value
    glob = _glob(pattern[::-1] if suffix else pattern)
    if glob is None:
        return value
    # The Go code tries prefixes from longest to shortest (and never the empty one).
    prefixes = [text[: len(text) - i] for i in range(len(text))]
    matches = [p for p in prefixes if glob.fullmatch(p)]
    if not matches:
        return value
    chosen = matches[0] if len(op) == 2 else matches[-1]
    trimmed = text[len(chosen) :]
    return trimmed[::-1] if suffix else trimmed
