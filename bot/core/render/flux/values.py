"""A HelmRelease's values, merged as helm-controller merges them: each `valuesFrom` entry in
order (a whole values document deep-merged, or one value set at `targetPath` with Helm's
`--set` typing), then `spec.values` on top. Helm then coalesces the result with the chart's
defaults. Secrets are never read: their values are left out and reported."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.render.flux.variables import DataRef, data_refs, find_data, is_encrypted
from bot.core.safe_yaml import YamlLimits, load_yaml_documents
from bot.model.finding import Finding, Severity
from bot.model.resource import Location, Resource

DEFAULT_VALUES_KEY = "values.yaml"
_INT = re.compile(r"[1-9][0-9]*|-[1-9][0-9]*")


@dataclass(frozen=True, slots=True)
class Values:
    values: dict[str, Any]
    findings: tuple[Finding, ...]


def merge_maps(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """fluxcd/pkg transform.MergeMaps: maps merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = merge_maps(current, value)
        else:
            merged[key] = value
    return merged


def _typed(text: str) -> Any:
    """Helm strvals' typing of an unquoted `--set` value."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    if text == "0":
        return 0
    if _INT.fullmatch(text) and -(2**63) <= int(text) < 2**63:
        return int(text)
    return text


def split_path(path: str) -> list[str | int]:
    """`a.b\\.c[0].d` -> ["a", "b.c", 0, "d"]; `\\` escapes `.`, `=`, `[`, `]`, `,`."""
    parts: list[str | int] = []
    buf: list[str] = []
    i = 0
    while i < len(path):
        char = path[i]
        if char == "\\" and i + 1 < len(path):
            buf.append(path[i + 1])
            i += 2
            continue
        if char == "." and not buf and parts and isinstance(parts[-1], int):
            pass  # the dot after an index: `list[1].name`
        elif char == ".":
            parts.append("".join(buf))
            buf = []
        elif char == "[":
            end = path.find("]", i)
            if end < 0 or not path[i + 1 : end].isdigit():
                raise ValueError(f"bad index in {path!r}")
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(int(path[i + 1 : end]))
            i = end
        else:
            buf.append(char)
        i += 1
    if buf:
        parts.append("".join(buf))
    if not parts or any(p == "" for p in parts):
        raise ValueError(f"empty key in {path!r}")
    return parts


def set_path(values: dict[str, Any], path: str, raw: str) -> dict[str, Any]:
    """helm-controller's ReplacePathValue: quoted values stay strings, others are typed."""
    quoted = len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\""
    value: Any = raw.strip("'\"") if quoted else _typed(raw)
    parts = split_path(path)

    def put(node: Any, index: int) -> Any:
        key = parts[index]
        last = index == len(parts) - 1
        if isinstance(key, int):
            items = list(node) if isinstance(node, list) else []
            items.extend([None] * (key + 1 - len(items)))
            items[key] = value if last else put(items[key], index + 1)
            return items
        mapping = dict(node) if isinstance(node, Mapping) else {}
        mapping[key] = value if last else put(mapping.get(key), index + 1)
        return mapping

    result: dict[str, Any] = put(values, 0)
    return result


def _finding(rule: str, severity: Severity, message: str, where: Location, hint: str) -> Finding:
    return Finding(rule_id=rule, severity=severity, message=message, location=where, hint=hint)


@dataclass(frozen=True, slots=True)
class _Lookup:
    namespace: str
    applied: tuple[Resource, ...]
    declared: Mapping[tuple[str, str], Mapping[str, Any]]
    limits: YamlLimits


def _secret(label: str, key: str, optional: bool, at: Location) -> Finding:
    return _finding(
        "flux-values-unresolved",
        Severity.INFO if optional else Severity.WARNING,
        f"values from {label} (key {key}) are not read: gitops-bot never reads Secrets, so the "
        "render lacks them",
        at,
        "keep non-secret values in ConfigMaps or spec.values to see their effect",
    )


def _apply_reference(  # noqa: PLR0911 - one return per helm-controller outcome
    merged: dict[str, Any], ref: DataRef, entry: Mapping[str, Any], lookup: _Lookup, at: Location
) -> tuple[dict[str, Any], Finding | None]:
    """One valuesFrom entry merged into `merged`, or the finding that explains why not."""
    label = f"{ref.kind} {lookup.namespace}/{ref.name}"
    key = str(entry.get("valuesKey") or DEFAULT_VALUES_KEY)
    if ref.kind == "Secret":
        return merged, _secret(label, key, ref.optional, at)
    if ref.kind != "ConfigMap":
        message = f"valuesFrom kind {ref.kind!r} is not supported; helm-controller would fail"
        return merged, _finding(
            "flux-values-invalid", Severity.ERROR, message, at, "use ConfigMap or Secret"
        )
    body = find_data("ConfigMap", lookup.namespace, ref.name, lookup.applied, lookup.declared)
    if body is not None and is_encrypted(body):
        message = (
            f"{label} is SOPS-encrypted; its values are not decrypted and the render lacks them"
        )
        hint = "values encrypted with SOPS are never decrypted by gitops-bot"
        return merged, _finding("flux-values-unresolved", Severity.WARNING, message, at, hint)
    data = body.get("data") if body is not None else None
    if not isinstance(data, Mapping) or key not in data:
        if ref.optional:
            return merged, None
        missing = label if body is None else f"key {key} of {label}"
        message = (
            f"valuesFrom {missing} is not in the repository nor applied with the HelmRelease; "
            "helm-controller would fail the release"
        )
        hint = "add the ConfigMap (and key) to the repository, or set optional: true"
        return merged, _finding("flux-values-missing", Severity.ERROR, message, at, hint)
    raw = str(data[key])
    target_path = str(entry.get("targetPath") or "")
    if target_path:
        try:
            return set_path(merged, target_path, raw), None
        except ValueError as error:
            message = f"targetPath {target_path!r}: {error}"
            hint = "use Helm --set path syntax (a.b[0].c)"
            return merged, _finding("flux-values-invalid", Severity.ERROR, message, at, hint)
    load = load_yaml_documents(raw.encode(), f"{label}:{key}", lookup.limits)
    document = load.documents[0].data if load.documents else None
    if load.findings or not isinstance(document, Mapping | None):
        message = f"{key} of {label} is not a YAML mapping of values; helm-controller would fail"
        hint = "make the key hold a values document (a YAML mapping)"
        return merged, _finding("flux-values-invalid", Severity.ERROR, message, at, hint)
    return merge_maps(merged, document or {}), None


def helm_values(
    spec: Mapping[str, Any],
    namespace: str,
    *,
    applied: Iterable[Resource],
    declared: Mapping[tuple[str, str], Mapping[str, Any]],
    where: Callable[[str], Location],
    limits: YamlLimits,
) -> Values:
    merged: dict[str, Any] = {}
    findings: list[Finding] = []
    lookup = _Lookup(namespace, tuple(applied), declared, limits)
    refs = data_refs(spec, "valuesFrom", "spec.valuesFrom")
    for ref, entry in zip(refs, _entries(spec), strict=True):
        merged, problem = _apply_reference(merged, ref, entry, lookup, where(ref.field_path))
        if problem is not None:
            findings.append(problem)
    inline = spec.get("values")
    if isinstance(inline, Mapping):
        merged = merge_maps(merged, inline)
    return Values(merged, tuple(findings))


def _entries(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    entries = spec.get("valuesFrom")
    return [e for e in (entries if isinstance(entries, list) else []) if isinstance(e, Mapping)]
