"""Which repo file (and line) a rendered object most likely came from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.render.manifests import Origin, OriginOf
from bot.core.safe_yaml import YamlDocument
from bot.core.tree_view import YAML_SUFFIXES, TreeView
from bot.model.render import RenderTarget
from bot.model.resource import Location, SourceDocument

_SOURCE_PREFIX = "# Source: "


def _name(body: Mapping[str, Any]) -> str:
    metadata = body.get("metadata")
    return str(metadata.get("name", "")) if isinstance(metadata, Mapping) else ""


def kustomize_origin_finder(target: RenderTarget, view: TreeView, fallback: Location) -> OriginOf:
    """Match rendered objects to the input documents with the same kind and name.

    Name prefixes/suffixes and hashed generator names are matched by containment, so an
    overlay's `prod-podinfo` still points at the base's `podinfo` document. Every match (the
    base document, overlay patches) becomes a source, so a field set by a patch is attributed
    to the patch.
    """
    index: dict[tuple[str, str], list[SourceDocument]] = {}
    for path in sorted(target.input_files):
        if not path.endswith(YAML_SUFFIXES) or path.rsplit("/", 1)[-1].startswith("kustomization"):
            continue
        for doc in view.load_yaml(path).documents:
            if isinstance(doc.data, Mapping):
                key = (str(doc.data.get("kind", "")), _name(doc.data))
                index.setdefault(key, []).append(
                    SourceDocument(path, doc.line, doc.field_lines, doc.data)
                )

    def origin(_doc: YamlDocument, body: Mapping[str, Any]) -> Origin:
        kind, name = str(body.get("kind", "")), _name(body)
        sources = list(index.get((kind, name), ()))
        if not sources:
            near = [
                (len(source), docs)
                for (k, source), docs in index.items()
                if k == kind and source and source in name
            ]
            sources = max(near, key=lambda item: item[0])[1] if near else []
        if not sources:
            return Origin(fallback)
        first = sources[0]
        return Origin(Location(first.path, first.line), tuple(sources))

    return origin


def helm_origin_finder(target: RenderTarget, stdout: bytes, fallback: Location) -> OriginOf:
    """Use the `# Source: chart/templates/x.yaml` comment helm writes above each document."""
    lines = stdout.decode("utf-8", errors="replace").splitlines()

    def origin(doc: YamlDocument, _body: Mapping[str, Any]) -> Origin:
        for i in range(min(doc.line - 1, len(lines)) - 1, -1, -1):
            line = lines[i]
            if line.startswith(_SOURCE_PREFIX):
                _chart, _, rest = line[len(_SOURCE_PREFIX) :].strip().partition("/")
                path = f"{target.path}/{rest}" if target.path else rest
                return Origin(Location(path, 1))
            if line.startswith("---"):
                break
        return Origin(fallback)

    return origin
