"""`gitops-bot policy test`: Rego unit tests (`test_*` rules), as `opa test` / conftest verify."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.policy.metadata import package_of
from bot.ports import PolicyEngine, PolicyModule

_TEST_RULE = re.compile(r"^(test_\w+)\b", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class RegoTest:
    package: str
    rule: str
    path: str

    @property
    def name(self) -> str:
        return f"data.{self.package}.{self.rule}"


@dataclass(frozen=True, slots=True)
class RegoTestResult:
    test: RegoTest
    passed: bool
    reason: str = ""  # why it failed: false, undefined, or the evaluation error


def find_tests(modules: Sequence[PolicyModule]) -> list[RegoTest]:
    found: dict[tuple[str, str], RegoTest] = {}
    for module in modules:
        package = package_of(module.source)
        for rule in _TEST_RULE.findall(module.source):
            found.setdefault((package, rule), RegoTest(package, rule, module.path))
    return sorted(found.values(), key=lambda t: (t.path, t.rule))


def run_tests(
    engine: PolicyEngine, modules: Sequence[PolicyModule], budget_seconds: float
) -> list[RegoTestResult]:
    """Compile everything together and evaluate each test with an empty input.

    Raises PolicyCompileError when the modules do not compile.
    """
    tests = find_tests(modules)
    compiled = engine.compile(modules, {}, budget_seconds)
    try:
        results = []
        for test in tests:
            (outcome,) = compiled.evaluate(test.name, [{}])
            if outcome.error:
                results.append(RegoTestResult(test, False, outcome.error))
            elif outcome.value is True:
                results.append(RegoTestResult(test, True))
            else:
                reason = "undefined" if outcome.value is None else f"got {outcome.value!r}"
                results.append(RegoTestResult(test, False, reason))
        return results
    finally:
        compiled.close()
