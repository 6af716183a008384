"""Rego modules rewritten into a private namespace, and ordered by what they refer to.

Pure text work for the OPA server engine: packages become `<ns>.<package>` and root `data`
references `data.<ns>`, found by the Rego lexer (strings and comments stay as they are). Text
is only inserted within lines, so rows stay right and columns can be shifted back.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.policy.builtins_guard import dotted_name, line_and_column, rego_tokens
from bot.ports import PolicyModule


@dataclass(frozen=True, slots=True)
class Upload:
    """A module as uploaded, the packages it refers to (`data.a.b` → ("a", "b")), and the text
    inserted into each line as (column in the uploaded text, length)."""

    policy_id: str
    module: PolicyModule
    source: str
    package: tuple[str, ...]
    refs: frozenset[tuple[str, ...]]
    inserted: Mapping[int, list[tuple[int, int]]]


def namespaced(module: PolicyModule, ns: str, number: int) -> Upload:
    tokens, source = rego_tokens(module.source), module.source
    pairs = itertools.pairwise(tokens)
    v1_import = any(t.text == "import" and u.text in ("rego", "future") for t, u in pairs)
    inserts: list[tuple[int, str]] = []
    package: tuple[str, ...] = ()
    refs: set[tuple[str, ...]] = set()
    for i, token in enumerate(tokens):
        after = tokens[i + 1 : i + 3]
        if token.kind != "name" or (i and tokens[i - 1].text == "."):
            continue
        if token.text == "package" and not package and after and after[0].kind == "name":
            package = tuple(dotted_name(tokens, i + 1).split("."))
            inserts.append((after[0].offset, f"{ns}."))
            newline = source.find("\n", token.offset)
            line_end = len(source) if newline < 0 else newline
            last = [t for t in tokens if t.offset < line_end][-1]
            if not module.rego_v0 and not v1_import:
                inserts.append((last.offset + len(last.text), " import rego.v1"))
        elif token.text == "data":
            inserts.append((token.offset + len("data"), f".{ns}"))
            dotted = len(after) == 2 and after[0].text == "." and after[1].kind == "name"
            refs.add(tuple(dotted_name(tokens, i + 2).split(".")) if dotted else ())
    pieces: list[str] = []
    inserted: dict[int, list[tuple[int, int]]] = {}
    done = 0
    for offset, text in sorted(inserts):
        line, column = line_and_column(source, offset)
        column += sum(n for _, n in inserted.get(line, []))
        inserted.setdefault(line, []).append((column, len(text)))
        pieces += [source[done:offset], text]
        done = offset
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", module.path)
    uploaded = "".join([*pieces, source[done:]])
    return Upload(f"{ns}/{number}_{safe}", module, uploaded, package, frozenset(refs), inserted)


def dependency_order(uploads: list[Upload]) -> list[Upload]:
    """Modules after the packages they refer to (OPA resolves references at PUT time); stable,
    a cycle is broken in the given order, same-package references are left to retries."""

    def needs(user: Upload, other: Upload) -> bool:
        size = len(other.package)
        return user.package != other.package and any(
            r[:size] == other.package or other.package[: len(r)] == r for r in user.refs
        )

    remaining, ordered = list(uploads), []
    while remaining:
        free = [u for u in remaining if not any(needs(u, o) for o in remaining if o is not u)]
        ordered.append((free or remaining)[0])
        remaining.remove(ordered[-1])
    return ordered
