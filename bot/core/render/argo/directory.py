"""A directory source: plain YAML/JSON files read in process, as Argo CD reads them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.render.argo.sources import SourcePlan
from bot.core.render.argo.tool import Rendered
from bot.core.render.manifests import Origin, resources_from_documents
from bot.core.safe_yaml import YamlDocument
from bot.core.tree_view import TreeView
from bot.model.finding import Finding
from bot.model.resource import Location, Resource, SourceDocument

# Argo CD skips a YAML file it cannot read as objects unless it looks like a manifest.
_MANIFEST_MARKERS = (b"apiVersion:", b"kind:", b"metadata:")


def render_directory(plan: SourcePlan, view: TreeView, target_id: str) -> Rendered:
    resources: list[Resource] = []
    findings: list[Finding] = []
    for path in sorted(plan.renders):
        read = view.read(path)
        if read.content is None:
            findings.extend([read.finding] if read.finding else [])
            continue
        strict = path.endswith(".json") or all(m in read.content for m in _MANIFEST_MARKERS)
        load = view.load_yaml(path)

        def origin(doc: YamlDocument, _body: Mapping[str, Any], path: str = path) -> Origin:
            source = SourceDocument(path, doc.line, doc.field_lines)
            return Origin(Location(path, doc.line), (source,))

        found, problems = resources_from_documents(load.documents, target_id, origin)
        if strict:
            findings.extend((*load.findings, *problems))
        elif load.findings or problems:
            continue  # not a manifest file (e.g. a values or config file): Argo CD ignores it
        resources.extend(found)
    return resources, findings
