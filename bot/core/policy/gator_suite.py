"""`gator verify` for one Suite file, on a RepoTree and the PolicyEngine port.

A Suite (`kind: Suite`, apiVersion `test.gatekeeper.sh/*`) lists tests: a template and a
constraint, and cases whose object is reviewed against them and checked with assertions
(`violations`: yes / no / N, default yes; `message`: a regex that restricts which violations
count). Paths are relative to the suite file. As in gator, each case gets a fresh engine, a case's
object must hold exactly one document, `inventory` files become `data.inventory`, and an
AdmissionReview object is reviewed as its request. Unsupported: tests marked `invalid` (gator
checks the constraint against the template's schema) and CEL-only templates.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.core.policy.gatekeeper import (
    TEMPLATE_GROUP,
    Constraint,
    ConstraintTemplate,
    explain_match,
    inventory_data,
    review_input,
    violation_messages,
)
from bot.core.safe_yaml import load_yaml_documents
from bot.model.errors import PolicyCompileError
from bot.model.resource import Location, ResourceKey
from bot.ports import PolicyEngine, RepoTree

SUITE_GROUP = "test.gatekeeper.sh"
_MAX_SUITE_BYTES = 1024 * 1024
_NAME_LABEL = "kubernetes.io/metadata.name"


class CaseStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True, slots=True)
class CaseResult:
    test: str
    case: str  # "" when the whole test failed before it had cases to run
    status: CaseStatus
    reason: str = ""

    @property
    def passed(self) -> bool:
        return self.status is CaseStatus.PASSED


@dataclass(frozen=True, slots=True)
class SuiteResult:
    path: str
    cases: tuple[CaseResult, ...]
    error: str = ""  # the suite itself could not be read

    @property
    def failures(self) -> tuple[CaseResult, ...]:
        return tuple(c for c in self.cases if c.status is CaseStatus.FAILED)

    @property
    def passed(self) -> bool:
        return not self.error and not self.failures


class _CaseError(Exception):
    """Ends a test or case with a reason (gator's errors, as values)."""


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _is_suite(body: Any) -> bool:
    body = _map(body)
    return body.get("kind") == "Suite" and ResourceKey.of(body).api_group == SUITE_GROUP


def find_suites(tree: RepoTree) -> list[str]:
    """Every YAML file holding a gator Suite, sorted."""
    found = []
    for path, entry in sorted(tree.entries().items()):
        if not path.endswith((".yaml", ".yml")) or entry.size > _MAX_SUITE_BYTES:
            continue
        data = tree.read(path)
        if b"Suite" in data and any(_is_suite(d.data) for d in _read(data, path)):
            found.append(path)
    return found


def _read(data: bytes, path: str) -> Sequence[Any]:
    load = load_yaml_documents(data, path)
    return () if load.findings else load.documents


def _resolve(base: str, relative: Any) -> str:
    if not isinstance(relative, str) or not relative:
        raise _CaseError("a path is missing")
    path = posixpath.normpath(posixpath.join(base, relative))
    if relative.startswith("/") or path == ".." or path.startswith("../"):
        raise _CaseError(f"{relative}: the path leaves the repository")
    return path


@dataclass(frozen=True, slots=True)
class _Run:
    """One suite being run: where its files are, and the engine that evaluates them."""

    tree: RepoTree
    base: str  # the suite file's directory
    engine: PolicyEngine
    budget: float

    def documents(self, relative: Any) -> list[tuple[Any, Location]]:
        path = _resolve(self.base, relative)
        try:
            data = self.tree.read(path)
        except KeyError:
            raise _CaseError(f"{path}: no such file") from None
        load = load_yaml_documents(data, path)
        if load.findings:
            raise _CaseError(f"{path}: {load.findings[0].message}")
        return [(d.data, Location(path, d.line)) for d in load.documents]

    def single(self, relative: Any, what: str) -> tuple[Mapping[str, Any], Location]:
        documents = self.documents(relative)
        if len(documents) != 1 or not isinstance(documents[0][0], Mapping):
            raise _CaseError(f"{relative}: the {what} file must hold exactly one object")
        return documents[0]

    def test(self, test: Mapping[str, Any], index: int, skip: bool) -> list[CaseResult]:
        name = str(test.get("name") or f"test {index + 1}")
        cases = [_map(c) for c in _list(test.get("cases"))]
        names = [str(c.get("name") or f"case {i + 1}") for i, c in enumerate(cases)] or [""]
        if skip or test.get("skip") is True:
            return [CaseResult(name, case, CaseStatus.SKIPPED) for case in names]
        if test.get("invalid") is True:
            reason = "`invalid` tests (constraint schema validation) are not supported"
            return [CaseResult(name, case, CaseStatus.UNSUPPORTED, reason) for case in names]
        try:
            template, constraint = self.policy(test)
        except _CaseError as error:
            return [CaseResult(name, case, CaseStatus.FAILED, str(error)) for case in names]
        results = []
        for case_name, case in zip(names, cases, strict=False):
            if case.get("skip") is True:
                results.append(CaseResult(name, case_name, CaseStatus.SKIPPED))
                continue
            try:
                reason = self.case(template, constraint, case)
            except _CaseError as error:
                reason = str(error)
            status = CaseStatus.FAILED if reason else CaseStatus.PASSED
            results.append(CaseResult(name, case_name, status, reason))
        return results

    def policy(self, test: Mapping[str, Any]) -> tuple[ConstraintTemplate, Constraint]:
        body, origin = self.single(test.get("template"), "template")
        key = ResourceKey.of(body)
        if (key.api_group, key.kind) != (TEMPLATE_GROUP, "ConstraintTemplate"):
            raise _CaseError(f"{origin.path}: not a {TEMPLATE_GROUP} ConstraintTemplate")
        template = ConstraintTemplate.parse(body, origin)
        if template.problem:
            raise _CaseError(f"{origin.path}: {template.problem}")
        constraint = Constraint.parse(*self.single(test.get("constraint"), "constraint"))
        if constraint.kind != template.kind:
            message = (
                f"the constraint's kind {constraint.kind} is not the template's {template.kind}"
            )
            raise _CaseError(message)
        return template, constraint

    def case(
        self, template: ConstraintTemplate, constraint: Constraint, case: Mapping[str, Any]
    ) -> str:
        """Why the case fails; "" when every assertion holds."""
        assertions = [_map(a) for a in _list(case.get("assertions"))]
        if not assertions:
            raise _CaseError("assertions must be non-empty")
        body, _ = self.single(case.get("object"), "object")
        inventory = [
            (_map(obj), ResourceKey.of(_map(obj)).namespace)
            for path in _list(case.get("inventory"))
            for obj, _ in self.documents(path)
        ]
        namespaces = {  # labels of the inventory's Namespaces, plus the one Kubernetes adds
            key.name: {**_map(_map(obj.get("metadata")).get("labels")), _NAME_LABEL: key.name}
            for obj, key in ((obj, ResourceKey.of(obj)) for obj, _ in inventory)
            if (key.api_group, key.kind) == ("", "Namespace")
        }
        obj, namespace, value = _review(constraint, body)
        matched = explain_match(constraint, obj, namespaces, namespace=namespace)
        if matched.undecided:
            raise _CaseError(matched.reason)
        messages = (
            self.violations(template, inventory_data(inventory), value) if matched.matched else []
        )
        failed = (check_assertion(a, messages) for a in assertions)
        return next((reason for reason in failed if reason), "")

    def violations(
        self, template: ConstraintTemplate, data: Mapping[str, Any], value: Any
    ) -> list[str]:
        try:  # a fresh engine per case, as gator makes a fresh client per case
            compiled = self.engine.compile(template.modules(), data, self.budget)
        except PolicyCompileError as error:
            raise _CaseError(f"{template.origin.path}: {error.message}") from None
        try:
            outcome = compiled.evaluate(f"data.{template.package}.violation", [value])[0]
        finally:
            compiled.close()
        if outcome.error:
            raise _CaseError(f"evaluation failed: {outcome.error}")
        return violation_messages(outcome.value)


def run_suite(
    tree: RepoTree, suite_path: str, engine: PolicyEngine, budget_seconds: float = 10.0
) -> SuiteResult:
    run = _Run(tree, posixpath.dirname(suite_path), engine, budget_seconds)
    try:
        documents = [d for d, _ in run.documents(posixpath.basename(suite_path)) if _is_suite(d)]
    except _CaseError as error:
        return SuiteResult(suite_path, (), str(error))
    if not documents:
        return SuiteResult(suite_path, (), f"{suite_path}: no Suite ({SUITE_GROUP}) in the file")
    results: list[CaseResult] = []
    for suite in map(_map, documents):
        for index, test in enumerate(_list(suite.get("tests"))):
            results += run.test(_map(test), index, suite.get("skip") is True)
    return SuiteResult(suite_path, tuple(results))


def _review(constraint: Constraint, body: Mapping[str, Any]) -> tuple[Mapping[str, Any], str, Any]:
    """(object to match, its namespace, template input); an AdmissionReview gives its request."""
    key = ResourceKey.of(body)
    if (key.api_group, key.kind) != ("admission.k8s.io", "AdmissionReview"):
        return body, key.namespace, review_input(constraint, body, key.namespace)
    request = _map(body.get("request"))
    obj = _map(request.get("object")) or _map(request.get("oldObject"))
    if not obj:
        raise _CaseError("the AdmissionReview has no request.object or request.oldObject")
    namespace = str(request.get("namespace") or "")
    return (
        obj,
        namespace,
        {"review": {**request, "object": obj}, "parameters": constraint.parameters},
    )


def check_assertion(assertion: Mapping[str, Any], messages: Sequence[str]) -> str:
    """Why the assertion fails for these violation messages (gator's words); "" when it holds."""
    pattern = assertion.get("message")
    matching = list(messages)
    containing = ""
    if pattern is not None:
        try:
            regex = re.compile(str(pattern))
        except re.error as error:
            return f"invalid message regex {pattern!r}: {error}"
        matching = [m for m in messages if regex.search(m)]
        containing = f" containing {str(pattern)!r}"
    want = assertion.get("violations", "yes")
    count = len(matching)
    if want is True or want == "yes":
        ok, expected = count > 0, "at least 1"
    elif want is False or want == "no":
        ok, expected = count == 0, "none"
    elif isinstance(want, int) and want >= 0:
        ok, expected = count == want, f"exactly {want}"
    else:
        return f"assertion.violations must be a nonnegative integer, yes or no, not {want!r}"
    if ok:
        return ""
    return f"got {count} violations{containing} but want {expected}; messages: {list(messages)}"
