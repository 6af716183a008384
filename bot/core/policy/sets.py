"""Policy sets: the repository's Rego (from the base revision) and the built-in library."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.paths import is_under
from bot.core.policy.conftest import RuleNaming
from bot.core.policy.metadata import RuleMetadata, package_of, read_metadata
from bot.core.tree_view import YAML_SUFFIXES, TreeView
from bot.model.finding import Finding, Severity
from bot.model.repo_config import PolicyConfig
from bot.model.resource import Location
from bot.ports import PolicyModule

BUILTIN_DATA_ROOT = "gitops_bot"


@dataclass(frozen=True, slots=True)
class PolicySet:
    name: str
    modules: tuple[PolicyModule, ...]
    data: Mapping[str, Any]
    per_document: tuple[str, ...]  # packages evaluated once per resource
    combined: tuple[str, ...]  # packages evaluated once over all resources
    change: tuple[str, ...]  # packages evaluated per changed resource with {base, head, change}
    naming: RuleNaming


def is_test_module(path: str) -> bool:
    return path.endswith("_test.rego")


def _naming(modules: Sequence[PolicyModule]) -> RuleNaming:
    found: dict[tuple[str, str], RuleMetadata] = {}
    for module in modules:
        for meta in read_metadata(module.source):
            found.setdefault((meta.package, meta.rule), meta)
    return RuleNaming(found)


def _wants_combined(meta: RuleMetadata | None) -> bool:
    return meta is not None and (
        meta.custom.get("combine") is True or meta.custom.get("input") == "combine"
    )


def _merge(into: dict[str, Any], extra: Mapping[str, Any], where: str) -> str:
    """Deep-merge a data document as conftest does; returns a conflict description or ""."""
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            problem = _merge(into[key], value, f"{where}.{key}")
            if problem:
                return problem
        elif key in into and into[key] != value:
            return f"{where}.{key}".lstrip(".")
        else:
            into[key] = dict(value) if isinstance(value, Mapping) else value
    return ""


def _data(view: TreeView, config: PolicyConfig) -> tuple[dict[str, Any], list[Finding]]:
    data: dict[str, Any] = {}
    findings: list[Finding] = []
    files = sorted(
        path
        for path in view.entries
        if path.endswith((*YAML_SUFFIXES, ".json")) and any(is_under(path, d) for d in config.data)
    )
    for path in files:
        load = view.load_yaml(path)
        findings.extend(load.findings)
        for doc in load.documents:
            if not isinstance(doc.data, Mapping):
                continue
            conflict = _merge(data, doc.data, "")
            if conflict:
                findings.append(
                    Finding(
                        "policy-data-conflict",
                        Severity.ERROR,
                        f"data file {path} sets `{conflict}`, already set by another data file",
                        Location(path, doc.line),
                        hint="give each data file its own keys",
                    )
                )
    return data, findings


def repository_sets(view: TreeView, config: PolicyConfig) -> tuple[list[PolicySet], list[Finding]]:
    """The repository's policies under `policies.paths`, split by Rego version."""
    modules: list[PolicyModule] = []
    findings: list[Finding] = []
    for path in sorted(view.entries):
        if not path.endswith(".rego") or is_test_module(path):
            continue
        if not any(is_under(path, d) for d in config.paths):
            continue
        read = view.read(path)
        if read.content is None:
            findings.extend([read.finding] if read.finding else [])
            continue
        v0 = any(is_under(path, d) for d in config.rego_v0)
        modules.append(PolicyModule(path, read.content.decode("utf-8", "replace"), v0))
    if not modules:
        return [], findings
    data, problems = _data(view, config)
    findings.extend(problems)
    sets = []
    for v0 in (False, True):
        chosen = tuple(m for m in modules if m.rego_v0 is v0)
        if not chosen:
            continue
        packages = sorted({package_of(m.source) for m in chosen} - {""})
        change = tuple(p for p in packages if p == config.change_namespace)
        wanted = [p for p in packages if p not in change]
        if not config.all_namespaces:
            wanted = [p for p in wanted if p in config.namespaces]
        sets.append(
            PolicySet(
                name="repository (Rego v0)" if v0 else "repository",
                modules=chosen,
                data=data,
                per_document=() if config.combine else tuple(wanted),
                combined=tuple(wanted) if config.combine else (),
                change=change,
                naming=_naming(chosen),
            )
        )
    return sets, findings


def builtin_set(modules: Sequence[PolicyModule], config: PolicyConfig) -> PolicySet | None:
    """The built-in library minus disabled rule ids, with its parameters as data."""
    if not config.builtin or not modules:
        return None
    candidates = tuple(m for m in modules if not is_test_module(m.path))
    naming = _naming(candidates)
    per_document: list[str] = []
    combined: list[str] = []
    chosen: list[PolicyModule] = []
    for module in candidates:
        package = package_of(module.source)
        meta = naming.metadata.get((package, ""))
        if meta is not None and meta.rule_id in config.builtin_disabled:
            continue  # disabled rules are not even compiled
        chosen.append(module)
        if meta is None or not meta.rule_id:
            continue  # helpers (lib.*) have no rule id and no rules of their own
        (combined if _wants_combined(meta) else per_document).append(package)
    return PolicySet(
        name="built-in",
        modules=tuple(chosen),
        data={BUILTIN_DATA_ROOT: {"parameters": dict(config.parameters)}},
        per_document=tuple(sorted(per_document)),
        combined=tuple(sorted(combined)),
        change=(),
        naming=naming,
    )
