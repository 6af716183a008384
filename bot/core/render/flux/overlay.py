"""The kustomization file kustomize-controller builds: the path's own one (or the one it
generates) with the Kustomization's settings merged in, as fluxcd/pkg/kustomize's Generator does:
`targetNamespace` replaces `namespace`, `namePrefix`/`nameSuffix` replace theirs, `patches` and
`components` are appended, `images` replace entries of the same name."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from bot.core.paths import join_inside
from bot.core.render.flux.layout import BuildLayout
from bot.core.tree_view import TreeView
from bot.model.finding import Finding, Severity
from bot.model.resource import Location

_KUSTOMIZATION_API = "kustomize.config.k8s.io/v1beta1"
_SELECTOR_FIELDS = (
    "group",
    "version",
    "kind",
    "name",
    "namespace",
    "labelSelector",
    "annotationSelector",
)
_REMOTE = re.compile(r"^(git::|gh:|ssh://|https?://|git@|github\.com[:/])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FluxKustomization:
    path: str  # the kustomization file kustomize builds
    content: bytes | None  # None: the repository's own file is used unchanged
    findings: tuple[Finding, ...] = ()


def _selector(target: Any) -> dict[str, Any] | None:
    if not isinstance(target, Mapping):
        return None
    picked = {f: target[f] for f in _SELECTOR_FIELDS if target.get(f)}
    return picked or None


def _is_local_relative(path: str) -> bool:
    lowered = path.lower()
    return not _REMOTE.match(lowered) and not path.startswith("/")


def _components(
    spec: Mapping[str, Any], layout: BuildLayout, view: TreeView, where: Location
) -> tuple[list[str], list[Finding]]:
    kept: list[str] = []
    findings: list[Finding] = []
    ignore_missing = bool(spec.get("ignoreMissingComponents"))
    for component in spec.get("components") or ():
        if not isinstance(component, str):
            continue
        local = join_inside(layout.directory, component)
        if not _is_local_relative(component) or local is None:
            findings.append(
                Finding(
                    rule_id="flux-component-invalid",
                    severity=Severity.ERROR,
                    message=f"component path {component!r} must be local, relative and inside "
                    "the repository; kustomize-controller would fail",
                    location=where,
                    hint="vendor the component into the repository and reference it relatively",
                )
            )
            continue
        if ignore_missing and not view.is_dir(local):
            continue
        kept.append(component)
    return kept, findings


def _merge_patches(body: dict[str, Any], spec: Mapping[str, Any]) -> None:
    patches = [
        {"patch": p["patch"], **({"target": t} if (t := _selector(p.get("target"))) else {})}
        for p in spec.get("patches") or ()
        if isinstance(p, Mapping) and isinstance(p.get("patch"), str)
    ]
    if patches:
        body["patches"] = [*(body.get("patches") or []), *patches]
    for legacy in ("patchesStrategicMerge", "patchesJson6902"):
        extra = spec.get(legacy)
        if isinstance(extra, list) and extra:
            body[legacy] = [*(body.get(legacy) or []), *extra]


def _merge_images(body: dict[str, Any], spec: Mapping[str, Any]) -> None:
    images = [i for i in spec.get("images") or () if isinstance(i, Mapping) and i.get("name")]
    if not images:
        return
    merged = [dict(i) for i in body.get("images") or () if isinstance(i, Mapping)]
    for image in images:
        entry = {k: image[k] for k in ("name", "newName", "newTag", "digest") if image.get(k)}
        index = next((n for n, e in enumerate(merged) if e.get("name") == image["name"]), None)
        if index is None:
            merged.append(entry)
        else:
            merged[index] = entry
    body["images"] = merged


def _starting_point(layout: BuildLayout, view: TreeView) -> tuple[str, dict[str, Any]]:
    """The path's kustomization file and body, or the one kustomize-controller generates."""
    if layout.kustomization_file is not None:
        load = view.load_yaml(layout.kustomization_file)
        data = load.documents[0].data if load.documents else None
        return layout.kustomization_file, dict(data) if isinstance(data, Mapping) else {}
    body: dict[str, Any] = {"apiVersion": _KUSTOMIZATION_API, "kind": "Kustomization"}
    if layout.generated:
        body["resources"] = list(layout.generated)
    directory = layout.directory
    return (f"{directory}/kustomization.yaml" if directory else "kustomization.yaml"), body


def flux_kustomization(
    spec: Mapping[str, Any], layout: BuildLayout, view: TreeView, where: Location
) -> FluxKustomization:
    path, body = _starting_point(layout, view)
    before = dict(body)
    for field in ("targetNamespace", "namePrefix", "nameSuffix"):
        value = spec.get(field)
        if isinstance(value, str) and value:
            body["namespace" if field == "targetNamespace" else field] = value
    _merge_patches(body, spec)
    components, findings = _components(spec, layout, view, where)
    if components:
        body["components"] = [*(body.get("components") or []), *components]
    _merge_images(body, spec)
    if layout.kustomization_file is not None and body == before:
        return FluxKustomization(path, None, tuple(findings))
    content = yaml.safe_dump(body, sort_keys=False, default_flow_style=False).encode()
    return FluxKustomization(path, content, tuple(findings))
