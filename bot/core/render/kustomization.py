"""What a kustomization refers to, read statically: inputs, remote bases, escapes, plugins.

Kustomize itself would fetch remote bases and, with flags we never pass, run plugins; reading the
references first lets the review refuse those before any tool runs, and tells which repo files a
kustomize target depends on (so only targets whose inputs changed are rendered).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.core.paths import join_inside, parent_dir
from bot.core.safe_yaml import format_field_path
from bot.core.tree_view import TreeView
from bot.model.finding import Finding, Severity
from bot.model.resource import Location

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

# Fields whose entries are kustomizations or resource files/dirs (may be remote).
_RESOURCE_FIELDS = ("resources", "bases", "components")
# Fields whose entries are plain file paths.
_FILE_LIST_FIELDS = ("crds", "configurations", "patchesStrategicMerge")
_PLUGIN_FIELDS = ("generators", "transformers", "validators")
_REMOTE = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://|git@|github\.com[/:]|gitlab\.com[/:]|bitbucket\.org[/:])"
    r"|\?ref=|\.git(?:/|$|//)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Reference:
    """One path a kustomization names, with the line that names it."""

    value: str
    field_path: str
    line: int
    may_be_kustomization: bool


@dataclass(frozen=True, slots=True)
class KustomizationScan:
    """The static reading of one kustomization and everything it reaches."""

    path: str  # the kustomization file
    is_component: bool
    input_files: frozenset[str]
    referenced_dirs: frozenset[str]
    referenced_files: frozenset[str]
    findings: tuple[Finding, ...]


def find_kustomization(directory: str, view: TreeView) -> str | None:
    for name in KUSTOMIZATION_FILES:
        candidate = f"{directory}/{name}" if directory else name
        if view.exists(candidate):
            return candidate
    return None


def _as_str_list(value: Any) -> list[tuple[int, Any]]:
    return list(enumerate(value)) if isinstance(value, list) else []


def _generator_files(body: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for field in ("configMapGenerator", "secretGenerator"):
        for i, gen in _as_str_list(body.get(field)):
            if not isinstance(gen, Mapping):
                continue
            for j, entry in _as_str_list(gen.get("files")):
                if isinstance(entry, str):
                    # "key=path" or "path"
                    yield entry.split("=", 1)[-1], format_field_path([field, i, "files", j])
            for j, entry in _as_str_list(gen.get("envs")):
                if isinstance(entry, str):
                    yield entry, format_field_path([field, i, "envs", j])
            env = gen.get("env")
            if isinstance(env, str):
                yield env, format_field_path([field, i, "env"])


def _path_fields(body: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for field in ("patches", "patchesJson6902", "replacements"):
        for i, entry in _as_str_list(body.get(field)):
            if isinstance(entry, Mapping) and isinstance(entry.get("path"), str):
                yield entry["path"], format_field_path([field, i, "path"])
    for field in _FILE_LIST_FIELDS:
        for i, entry in _as_str_list(body.get(field)):
            # patchesStrategicMerge also allows inline patches: only single-line values are paths
            if isinstance(entry, str) and "\n" not in entry:
                yield entry, format_field_path([field, i])
    openapi = body.get("openapi")
    if isinstance(openapi, Mapping) and isinstance(openapi.get("path"), str):
        yield openapi["path"], "openapi.path"
    helm_globals = body.get("helmGlobals")
    if isinstance(helm_globals, Mapping) and isinstance(helm_globals.get("chartHome"), str):
        yield helm_globals["chartHome"], "helmGlobals.chartHome"
    yield from _generator_files(body)


def references(body: Mapping[str, Any], field_lines: Mapping[str, int]) -> Iterator[Reference]:
    def line_of(field_path: str) -> int:
        return field_lines.get(field_path, 1)

    for field in _RESOURCE_FIELDS:
        for i, entry in _as_str_list(body.get(field)):
            if isinstance(entry, str):
                fp = format_field_path([field, i])
                yield Reference(entry, fp, line_of(fp), may_be_kustomization=True)
    for value, fp in _path_fields(body):
        yield Reference(value, fp, line_of(fp), may_be_kustomization=False)
    for field in _PLUGIN_FIELDS:
        for i, entry in _as_str_list(body.get(field)):
            if isinstance(entry, str) and "\n" not in entry:
                fp = format_field_path([field, i])
                yield Reference(entry, fp, line_of(fp), may_be_kustomization=True)


def _plugin_findings(
    body: Mapping[str, Any], kpath: str, field_lines: Mapping[str, int], view: TreeView
) -> Iterator[Finding]:
    """Refuse generator/transformer configs that only run as exec/KRM/Go plugins."""
    base = parent_dir(kpath)
    for field in _PLUGIN_FIELDS:
        for i, entry in _as_str_list(body.get(field)):
            fp = format_field_path([field, i])
            configs: list[Any] = []
            if isinstance(entry, Mapping):
                configs.append(entry)
            elif isinstance(entry, str):
                target = join_inside(base, entry)
                if target is not None and view.exists(target):
                    configs.extend(doc.data for doc in view.load_yaml(target).documents)
            for config in configs:
                reason = _plugin_reason(config)
                if reason:
                    yield Finding(
                        rule_id="plugin-not-allowed",
                        severity=Severity.ERROR,
                        message=f"{fp} in {kpath} needs {reason}; gitops-bot never runs plugins",
                        location=Location(kpath, field_lines.get(fp, 1)),
                        hint="use kustomize's built-in generators/transformers instead",
                    )


def _plugin_reason(config: Any) -> str:
    if not isinstance(config, Mapping):
        return ""
    metadata = config.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    if isinstance(annotations, Mapping) and any(
        key in annotations for key in ("config.kubernetes.io/function", "config.k8s.io/function")
    ):
        return "a KRM function (exec or container)"
    api_version = config.get("apiVersion")
    if api_version is not None and api_version != "builtin":
        return f"a plugin ({api_version}/{config.get('kind')}) enabled by --enable-alpha-plugins"
    return ""


def scan_kustomization(kpath: str, view: TreeView) -> KustomizationScan:
    """Follow one kustomization's references (recursively through local bases)."""
    inputs: set[str] = set()
    dirs: set[str] = set()
    files: set[str] = set()
    findings: list[Finding] = []
    visited: set[str] = set()
    is_component = False

    def visit(path: str, top: bool) -> None:
        nonlocal is_component
        if path in visited:
            return
        visited.add(path)
        directory = parent_dir(path)
        inputs.update(view.files_in_dir(directory))
        load = view.load_yaml(path)
        findings.extend(load.findings)
        if not load.documents or not isinstance(load.documents[0].data, Mapping):
            return
        doc = load.documents[0]
        body: Mapping[str, Any] = doc.data
        if top:
            is_component = body.get("kind") == "Component"
        findings.extend(_plugin_findings(body, path, doc.field_lines, view))
        for ref in references(body, doc.field_lines):
            _follow(ref, path, directory)

    def _follow(ref: Reference, kpath: str, directory: str) -> None:
        where = Location(kpath, ref.line)
        local = join_inside(directory, ref.value)
        real, problem = view.resolve(local) if local is not None else (None, None)
        if problem is not None:
            findings.append(replace(problem, location=where))
        elif real is not None and (view.exists(real) or view.is_dir(real)):
            _follow_local(ref, local or real, real)
        elif _REMOTE.search(ref.value):
            findings.append(
                Finding(
                    rule_id="remote-base-not-allowed",
                    severity=Severity.ERROR,
                    message=f"{ref.field_path} is a remote reference ({ref.value}); nothing was "
                    "fetched and the kustomization was not rendered",
                    location=where,
                    hint="vendor the base into this repository and reference it by a local path",
                )
            )
        elif local is None:
            findings.append(
                Finding(
                    rule_id="path-escapes-repo",
                    severity=Severity.ERROR,
                    message=f"{ref.field_path} ({ref.value}) points outside the repository",
                    location=where,
                    hint="reference only files and directories inside the repository",
                )
            )
        else:
            inputs.add(local)  # missing: kustomize reports it; a later add must re-render

    def _follow_local(ref: Reference, local: str, real: str) -> None:
        # The symlinks on the way are inputs too: the tool only sees materialised inputs.
        inputs.update(view.symlinks_on(local))
        if view.exists(real):
            files.update({local, real})
            inputs.update({local, real})
            return
        dirs.add(real)
        child = find_kustomization(real, view) if ref.may_be_kustomization else None
        if child is not None:
            visit(child, top=False)
        else:
            inputs.update(f for f in view.entries if f.startswith(real + "/"))

    visit(kpath, top=True)
    return KustomizationScan(
        path=kpath,
        is_component=is_component,
        input_files=frozenset(inputs),
        referenced_dirs=frozenset(dirs),
        referenced_files=frozenset(files),
        findings=tuple(findings),
    )
