"""A generator's `selector`: a label selector over its parameters (flattened to `a.b` keys)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.render.argo.generators import flatten

_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def selector_problem(selector: Any) -> str:
    """Why a generator's `selector` cannot be applied ("" when it can, or there is none)."""
    if selector is None:
        return ""
    if not isinstance(selector, Mapping):
        return "selector must be a mapping with matchLabels and/or matchExpressions"
    labels, expressions = selector.get("matchLabels"), selector.get("matchExpressions")
    problems = []
    if labels is not None and not isinstance(labels, Mapping):
        problems.append("selector.matchLabels must be a mapping")
    if expressions is not None and not isinstance(expressions, list):
        problems.append("selector.matchExpressions must be a list")
    for expression in expressions if isinstance(expressions, list) else []:
        if not isinstance(expression, Mapping) or expression.get("operator") not in _OPERATORS:
            problems.append(f"selector operator must be one of {', '.join(_OPERATORS)}")
        elif not isinstance(expression.get("values") or [], list):
            problems.append("selector expression values must be a list")
    return problems[0] if problems else ""


def selects(selector: Mapping[str, Any], params: Mapping[str, Any], go: bool) -> bool:
    labels = dict(flatten(params)) if go else {k: str(v) for k, v in params.items()}
    match_labels = selector.get("matchLabels") or {}
    if any(labels.get(str(k)) != str(v) for k, v in match_labels.items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = str(expression.get("key")), expression.get("operator")
        values = [str(v) for v in expression.get("values") or []]
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True
