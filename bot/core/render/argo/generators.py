"""ApplicationSet generators that can be expanded from the revision alone: `list` and `git`
(`directories` and `files`). Each yields parameter sets, and the repo files each set was read
from (a change to them must re-render the Applications they produce)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.paths import parent_dir
from bot.core.render.argo.globs import path_match, pathspec_match
from bot.core.render.argo.template_funcs import format_value, sanitize_name
from bot.core.tree_view import TreeView
from bot.model.finding import Finding, Severity
from bot.model.resource import Location

OFFLINE_GENERATORS = ("list", "git")
KNOWN_GENERATORS = (
    *OFFLINE_GENERATORS,
    "clusters",
    "matrix",
    "merge",
    "scmProvider",
    "pullRequest",
    "clusterDecisionResource",
    "plugin",
)


@dataclass(frozen=True, slots=True)
class ParamSet:
    params: Mapping[str, Any]
    inputs: frozenset[str] = frozenset()


@dataclass(slots=True)
class Generated:
    """What one generator produced, and what stopped it (errors block the ApplicationSet)."""

    sets: list[ParamSet] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def _list(value: Any) -> list[Any]:
    """A list field as written; anything else (a typo, a scalar) is treated as empty."""
    return value if isinstance(value, list) else []


def _path_params(
    directory: str, go: bool, prefix: str, filename: str | None = None
) -> dict[str, Any]:
    """The `path` parameters Argo CD gives a directory (and a file's name)."""
    base = posixpath.basename(directory)
    info: dict[str, Any] = {
        "path": directory,
        "basename": base,
        "basenameNormalized": sanitize_name(base),
    }
    if filename is not None:
        info["filename"] = filename
        info["filenameNormalized"] = sanitize_name(filename)
    segments = directory.split("/") if directory else []
    name = f"{prefix}.path" if prefix else "path"
    if go:
        info["segments"] = segments
        if prefix:
            return {prefix: {"path": info}}
        return {"path": info}
    flat = {name: directory}
    flat.update((f"{name}.{k}", v) for k, v in info.items() if k != "path")
    flat.update((f"{name}[{i}]", s) for i, s in enumerate(segments) if s)
    return flat


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Nested config as Argo CD's fasttemplate mode sees it: `a.b.0` keys, values as text."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from flatten(item, f"{prefix}.{i}" if prefix else str(i))
    else:
        yield prefix, format_value(value) if value is not None else "<nil>"


def all_directories(view: TreeView) -> list[str]:
    """Every directory of the revision, hidden ones (and what is below them) left out."""
    found: set[str] = set()
    for path in view.entries:
        directory = parent_dir(path)
        while directory and directory not in found:
            found.add(directory)
            directory = parent_dir(directory)
    return sorted(d for d in found if not any(p.startswith(".") for p in d.split("/")))


def git_directories(gen: Mapping[str, Any], view: TreeView, go: bool, at: Location) -> Generated:
    out = Generated()
    items = [d for d in _list(gen.get("directories")) if isinstance(d, Mapping)]
    prefix = str(gen.get("pathParamPrefix") or "")
    for directory in all_directories(view):
        matches = [
            bool(d.get("exclude")) for d in items if path_match(str(d.get("path", "")), directory)
        ]
        if False in matches and True not in matches:
            out.sets.append(ParamSet(_path_params(directory, go, prefix)))
    if not items:
        out.findings.append(invalid("the git generator lists no directories or files", at))
    return out


def git_files(gen: Mapping[str, Any], view: TreeView, go: bool, at: Location) -> Generated:
    out = Generated()
    items = [f for f in _list(gen.get("files")) if isinstance(f, Mapping)]
    prefix = str(gen.get("pathParamPrefix") or "")
    includes = [str(f.get("path", "")) for f in items if not f.get("exclude")]
    excludes = [str(f.get("path", "")) for f in items if f.get("exclude")]
    for path in sorted(view.entries):
        if not any(pathspec_match(p, path) for p in includes) or any(
            pathspec_match(p, path) for p in excludes
        ):
            continue
        load = view.load_yaml(path)
        out.findings.extend(load.findings)
        for doc in load.documents:
            entries = doc.data if isinstance(doc.data, list) else [doc.data]
            for entry in entries:
                if not isinstance(entry, Mapping):
                    message = f"{path} must hold a mapping (or a list of mappings) of parameters"
                    out.findings.append(invalid(message, Location(path, doc.line)))
                    continue
                params: dict[str, Any] = dict(entry) if go else dict(flatten(entry))
                name = posixpath.basename(path)
                params.update(_path_params(parent_dir(path), go, prefix, name))
                out.sets.append(ParamSet(params, frozenset({path})))
    return out


def list_elements(gen: Mapping[str, Any], go: bool, at: Location) -> Generated:
    out = Generated()
    if gen.get("elementsYaml") is not None:
        out.findings.append(invalid("list.elementsYaml is not expanded offline", at))
    for i, element in enumerate(_list(gen.get("elements"))):
        if not isinstance(element, Mapping):
            out.findings.append(invalid(f"list.elements[{i}] must be a mapping", at))
            continue
        if go:
            out.sets.append(ParamSet(dict(element)))
            continue
        params: dict[str, Any] = {}
        for key, value in element.items():
            items = value.items() if key == "values" and isinstance(value, Mapping) else None
            pairs = [(f"values.{k}", v) for k, v in items] if items is not None else [(key, value)]
            for name, item in pairs:
                if not isinstance(item, str):
                    message = (
                        f"list.elements[{i}].{name} is not a string; Argo CD refuses it "
                        "unless goTemplate: true"
                    )
                    out.findings.append(invalid(message, at))
                params[name] = item
        out.sets.append(ParamSet(params))
    return out


def invalid(message: str, at: Location) -> Finding:
    return Finding(
        "argocd-applicationset-invalid",
        Severity.ERROR,
        message,
        at,
        hint="fix the generator; Argo CD would not generate these Applications either",
    )
