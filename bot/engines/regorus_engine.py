"""PolicyEngine on the embedded Rust engine regorus (PyPI gordon-to-regorus).

Known traps handled here (DESIGN §4): results are read with the `*_as_json` calls (sets of
objects are unhashable otherwise); a builtin error aborts a whole evaluation, so inputs are
evaluated one by one; an Engine stays on the thread that made it (each CompiledPolicies owns
one, used under a lock); messages lose the Rust backtrace; the default line-length limits are
lifted for generated data.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import regorus

from bot.model.errors import PolicyCompileError
from bot.model.resource import Location
from bot.ports import PolicyModule, PolicyResult

_WHERE = re.compile(r"-->\s*(?P<path>[^\n]+?):(?P<line>\d+):(?P<column>\d+)")
_ERROR = re.compile(r"^error: (?P<message>.+)$", re.MULTILINE)


def clean_message(raw: str) -> str:
    """regorus' message without the Rust backtrace, as `error text (file:line:col)`."""
    text = raw.split("\nStack backtrace:", 1)[0].strip()
    found = _ERROR.search(text)
    message = found.group("message").strip() if found else text.splitlines()[-1].strip()
    where = _WHERE.search(text)
    if where:
        message += f" ({where.group('path')}:{where.group('line')}:{where.group('column')})"
    return message


def compile_error(raw: str, fallback_path: str) -> PolicyCompileError:
    where = _WHERE.search(raw)
    location = (
        Location(where.group("path"), int(where.group("line")), int(where.group("column")))
        if where
        else Location(fallback_path, 1)
    )
    return PolicyCompileError(
        f"Rego does not compile: {clean_message(raw)}",
        location,
        "fix the policy on the base branch; until then no policy of this set is evaluated",
    )


def build_engine(modules: Sequence[PolicyModule], data: Mapping[str, Any]) -> Any:
    engine = regorus.Engine()
    if modules and all(m.rego_v0 for m in modules):
        engine.set_rego_v0(True)
    for module in modules:
        try:
            engine.add_policy(module.path, module.source)
        except Exception as error:  # regorus raises plain RuntimeErrors
            raise compile_error(str(error), module.path) from error
    engine.add_data_json(json.dumps(data))
    return engine


def evaluate_one(engine: Any, query: str, value: Any) -> PolicyResult:
    try:
        engine.set_input_json(json.dumps(value))
        raw = json.loads(engine.eval_query_as_json(query))
    except Exception as error:  # a builtin error, in this input only
        return PolicyResult(error=clean_message(str(error)))
    results = raw.get("result") or []
    if not results:
        return PolicyResult(None)
    expressions = results[0].get("expressions") or []
    return PolicyResult(expressions[0].get("value") if expressions else None)


class InProcessPolicies:
    """Compiled policies evaluated in this process, without a time budget (tests, tools)."""

    def __init__(self, modules: Sequence[PolicyModule], data: Mapping[str, Any]) -> None:
        self._engine = build_engine(modules, data)
        self._lock = threading.Lock()

    def evaluate(self, query: str, inputs: Sequence[Any]) -> list[PolicyResult]:
        with self._lock:
            return [evaluate_one(self._engine, query, value) for value in inputs]

    def close(self) -> None:
        self._engine = None


class InProcessRegorusEngine:
    """regorus in this process: fast, but a looping policy would block the caller."""

    name = "regorus"

    def compile(
        self,
        modules: Sequence[PolicyModule],
        data: Mapping[str, Any],
        budget_seconds: float,
    ) -> InProcessPolicies:
        del budget_seconds  # not enforceable in-process; RegorusEngine enforces it
        return InProcessPolicies(modules, data)
