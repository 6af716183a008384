"""The reading of one Flux object that does not depend on where it is applied: a
Kustomization's source and `spec.path` layout, the ConfigMaps/Secrets it names, its
`dependsOn`, and how its source reads in the app list."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.paths import join_inside
from bot.core.render.flux.layout import BuildLayout, scan_layout
from bot.core.render.flux.objects import Declared
from bot.core.render.flux.sources import Ref, SourceIndex, SourceResolution, resolve_source
from bot.core.tree_view import TreeView
from bot.model.finding import Finding, Severity
from bot.model.repo_config import RenderConfig


@dataclass(frozen=True, slots=True)
class Static:
    """A Kustomization's reading that does not depend on where it is applied."""

    source: SourceResolution
    directory: str | None
    layout: BuildLayout | None
    problems: tuple[Finding, ...]


def spec_path(decl: Declared) -> str:
    return str(decl.spec().get("path") or "").strip()


def read_static(
    decl: Declared, sources: SourceIndex, view: TreeView, config: RenderConfig
) -> Static:
    spec = decl.spec()
    ref = Ref.of(spec.get("sourceRef"), decl.namespace or "default")
    source = resolve_source(sources, ref, config, decl.path)
    if source.root is None:
        return Static(source, None, None, ())
    raw = spec_path(decl)
    directory = join_inside(source.root, raw.lstrip("/")) if raw else source.root
    if directory is None:
        problem = Finding(
            rule_id="path-escapes-repo",
            severity=Severity.ERROR,
            message=f"spec.path {raw} of {decl.display()} points outside the repository; "
            "nothing outside it is read",
            location=decl.location("spec.path"),
            hint="give a path relative to the repository root that stays inside it",
        )
        return Static(source, None, None, (problem,))
    if not view.is_dir(directory):
        problem = Finding(
            rule_id="flux-path-missing",
            severity=Severity.ERROR,
            message=f"spec.path {raw or './'} of {decl.display()} is not a directory of this "
            f"revision ({directory or '.'}); kustomize-controller would fail to build it",
            location=decl.location("spec.path"),
            hint="point spec.path at an existing directory, relative to the repository root",
        )
        return Static(source, directory, None, (problem,))
    target_namespace = str(spec.get("targetNamespace") or "")
    components = [c for c in spec.get("components") or () if isinstance(c, str)]
    layout = scan_layout(directory, target_namespace, components, view, config.ignore)
    return Static(source, directory, layout, ())


def references(spec: Mapping[str, Any], field: str) -> list[tuple[str, str, bool]]:
    """(kind, name, optional) of `substituteFrom`/`valuesFrom` entries."""
    entries = spec.get(field)
    return [
        (str(e.get("kind") or ""), str(e.get("name") or ""), bool(e.get("optional")))
        for e in (entries if isinstance(entries, list) else [])
        if isinstance(e, Mapping) and e.get("name")
    ]


def data_objects(
    refs: Iterable[tuple[str, str, bool]], namespace: str, sources: SourceIndex, near: str
) -> tuple[dict[tuple[str, str], Declared], dict[tuple[str, str], Declared]]:
    config_maps: dict[tuple[str, str], Declared] = {}
    secrets: dict[tuple[str, str], Declared] = {}
    for kind, name, _optional in refs:
        found = sources.find(kind, namespace, name, near)
        if found is not None and kind == "ConfigMap":
            config_maps[(namespace, name)] = found
        elif found is not None and kind == "Secret":
            secrets[(namespace, name)] = found
    return config_maps, secrets


def depends_on(spec: Mapping[str, Any], namespace: str) -> tuple[str, ...]:
    entries = spec.get("dependsOn")
    return tuple(
        f"{e.get('namespace') or namespace}/{e.get('name')}"
        for e in (entries if isinstance(entries, list) else [])
        if isinstance(e, Mapping) and e.get("name")
    )


def source_text(decl: Declared, static: Static, raw: str) -> str:
    """ "GitRepository flux-system/flux-system ./apps/staging -> apps/staging/", or the
    source's own description when its content is elsewhere."""
    if static.source.root is None or static.directory is None:
        return f"{static.source.description} {raw}"
    ref = Ref.of(decl.spec().get("sourceRef"), decl.namespace or "default")
    label = ref.display() if ref else static.source.description
    return f"{label} {raw} -> {static.directory or '.'}/"
