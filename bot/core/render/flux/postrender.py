"""HelmRelease post-renderers: each `postRenderers[].kustomize` runs as a kustomization over the
Helm output (in an overlay, never in the repository); helm-controller's own post-renderer then
adds `commonMetadata` and its origin labels (postbuild.with_metadata)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

OWNER_NAME = "helm.toolkit.fluxcd.io/name"
OWNER_NAMESPACE = "helm.toolkit.fluxcd.io/namespace"


def kustomize_steps(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    renderers = spec.get("postRenderers")
    steps = []
    for renderer in renderers if isinstance(renderers, list) else []:
        kustomize = renderer.get("kustomize") if isinstance(renderer, Mapping) else None
        if isinstance(kustomize, Mapping) and kustomize:
            steps.append(kustomize)
    return steps


def post_render_kustomization(step: Mapping[str, Any], manifest: str) -> bytes:
    """The kustomization.yaml of one post-render step over `manifest` (a file beside it)."""
    body: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [manifest],
    }
    patches = [p for p in step.get("patches") or () if isinstance(p, Mapping)]
    if patches:
        body["patches"] = [dict(p) for p in patches]
    strategic = [p for p in step.get("patchesStrategicMerge") or () if isinstance(p, Mapping)]
    if strategic:
        body["patchesStrategicMerge"] = [
            yaml.safe_dump(dict(p), sort_keys=False) for p in strategic
        ]
    json6902 = [p for p in step.get("patchesJson6902") or () if isinstance(p, Mapping)]
    if json6902:
        body["patchesJson6902"] = [
            {"target": p.get("target"), "patch": yaml.safe_dump(p.get("patch"), sort_keys=False)}
            for p in json6902
        ]
    images = [i for i in step.get("images") or () if isinstance(i, Mapping)]
    if images:
        body["images"] = [dict(i) for i in images]
    return yaml.safe_dump(body, sort_keys=False).encode()
