"""The Flux objects (and the ConfigMaps/Secrets they read) declared in a revision's YAML files.

Discovery is static: every YAML document of the repository that could matter to Flux is read
once (the YAML cache is shared by base and head) and indexed by file and by identity.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.paths import has_ancestor_in, parent_dir
from bot.core.tree_view import YAML_SUFFIXES, TreeView
from bot.model.repo_config import CONFIG_PATH, RenderConfig
from bot.model.resource import Location

KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
HELM_GROUP = "helm.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
SOURCE_EXTENSIONS_GROUP = "source.extensions.fluxcd.io"

APP_KINDS = {(KUSTOMIZE_GROUP, "Kustomization"), (HELM_GROUP, "HelmRelease")}
SOURCE_KINDS = {
    (SOURCE_GROUP, "GitRepository"),
    (SOURCE_GROUP, "HelmRepository"),
    (SOURCE_GROUP, "OCIRepository"),
    (SOURCE_GROUP, "HelmChart"),
    (SOURCE_GROUP, "Bucket"),
    (SOURCE_GROUP, "ExternalArtifact"),
    (SOURCE_EXTENSIONS_GROUP, "ArtifactGenerator"),
}
DATA_KINDS = {("", "ConfigMap"), ("", "Secret")}
# Cheap byte markers: files without any of them are never parsed.
_MARKERS = (b"fluxcd.io", b"ConfigMap", b"Secret")
# source-controller leaves CI configuration out of artifacts (hidden paths are skipped anyway).
_CI_FILES = ("appveyor.yml", "cloudbuild.yaml", "codeship-services.yml", "codeship-steps.yml")


@dataclass(frozen=True, slots=True)
class Declared:
    """One document as written: identity, where, the body and the lines of its fields."""

    group: str
    kind: str
    namespace: str  # metadata.namespace as written ("" when absent)
    name: str
    path: str
    line: int
    body: Mapping[str, Any] = field(compare=False)
    field_lines: Mapping[str, int] = field(compare=False)

    def location(self, field_path: str = "") -> Location:
        return Location(self.path, self.field_lines.get(field_path, self.line))

    def spec(self) -> Mapping[str, Any]:
        spec = self.body.get("spec")
        return spec if isinstance(spec, Mapping) else {}

    def display(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else self.kind


@dataclass(frozen=True, slots=True)
class ObjectIndex:
    by_file: Mapping[str, tuple[Declared, ...]]
    apps: tuple[Declared, ...]
    sources: tuple[Declared, ...]
    data: tuple[Declared, ...]  # ConfigMaps and Secrets
    files: tuple[str, ...]  # every YAML file Flux could read, in order


def api_group(body: Mapping[str, Any]) -> str:
    api_version = str(body.get("apiVersion") or "")
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def _metadata(body: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = body.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def excluded(path: str, ignore: Iterable[str]) -> bool:
    """Paths Flux never reads (hidden files, CI configs) and those the repository ignores."""
    if path == CONFIG_PATH or any(part.startswith(".") for part in path.split("/")):
        return True
    if path.rsplit("/", 1)[-1] in _CI_FILES:
        return True
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in ignore)


def _chart_dirs(paths: Iterable[str]) -> set[str]:
    return {parent_dir(p) for p in paths if p.rsplit("/", 1)[-1] == "Chart.yaml"}


def scan_objects(view: TreeView, config: RenderConfig) -> ObjectIndex:
    files = sorted(
        p for p in view.entries if p.endswith(YAML_SUFFIXES) and not excluded(p, config.ignore)
    )
    charts = _chart_dirs(files)
    by_file: dict[str, list[Declared]] = defaultdict(list)
    for path in files:
        # Chart templates are Go templates, not YAML: a chart is read by helm, never scanned.
        if has_ancestor_in(path, charts):
            continue
        read = view.read(path)
        if read.content is None or not any(m in read.content for m in _MARKERS):
            continue
        for doc in view.load_yaml(path).documents:
            body = doc.data
            if not isinstance(body, Mapping):
                continue
            identity = (api_group(body), str(body.get("kind") or ""))
            if identity not in APP_KINDS and identity not in SOURCE_KINDS | DATA_KINDS:
                continue
            meta = _metadata(body)
            by_file[path].append(
                Declared(
                    group=identity[0],
                    kind=identity[1],
                    namespace=str(meta.get("namespace") or ""),
                    name=str(meta.get("name") or ""),
                    path=path,
                    line=doc.line,
                    body=body,
                    field_lines=doc.field_lines,
                )
            )
    every = [d for docs in by_file.values() for d in docs]
    return ObjectIndex(
        by_file={k: tuple(v) for k, v in by_file.items()},
        apps=tuple(d for d in every if (d.group, d.kind) in APP_KINDS),
        sources=tuple(d for d in every if (d.group, d.kind) in SOURCE_KINDS),
        data=tuple(d for d in every if (d.group, d.kind) in DATA_KINDS),
        files=tuple(p for p in files if not has_ancestor_in(p, charts)),
    )


def is_complete_app(decl: Declared) -> bool:
    """A whole object, not a kustomize patch of one: patches carry only the changed fields."""
    spec = decl.spec()
    if decl.kind == "Kustomization":
        return isinstance(spec.get("sourceRef"), Mapping)
    chart = spec.get("chart")
    chart_spec = chart.get("spec") if isinstance(chart, Mapping) else None
    return isinstance(spec.get("chartRef"), Mapping) or (
        isinstance(chart_spec, Mapping) and isinstance(chart_spec.get("sourceRef"), Mapping)
    )
