"""Turn YAML documents (from files or a tool's stdout) into keyed Resources."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.core.safe_yaml import YamlDocument
from bot.model.finding import Finding, Severity
from bot.model.resource import Location, Resource, ResourceKey, SourceDocument


@dataclass(frozen=True, slots=True)
class Origin:
    location: Location
    sources: tuple[SourceDocument, ...] = ()


OriginOf = Callable[[YamlDocument, Mapping[str, Any]], Origin]


def _items(doc: YamlDocument) -> Iterator[tuple[Any, YamlDocument]]:
    """Objects of a document, each with the document narrowed to it.

    `kind: List` (and *List kinds) wrap objects the API server would apply one by one; each
    item gets its own start line and field lines, re-rooted at the item.
    """
    data = doc.data
    if (
        isinstance(data, Mapping)
        and str(data.get("kind", "")).endswith("List")
        and isinstance(data.get("items"), list)
    ):
        for i, item in enumerate(data["items"]):
            prefix = f"items[{i}]"
            lines = {
                path[len(prefix) :].lstrip("."): line
                for path, line in doc.field_lines.items()
                if path == prefix or path.startswith((prefix + ".", prefix + "["))
            }
            yield item, replace(doc, data=item, line=lines.get("", doc.line), field_lines=lines)
    else:
        yield data, doc


def _as_mapping(item: Any) -> Mapping[str, Any]:
    return item if isinstance(item, Mapping) else {}


def _not_an_object(item: Any, location: Location) -> Finding:
    """A document with neither apiVersion nor kind is probably not meant as a manifest (a
    warning); one with only one of them is a manifest the API server would refuse (an error)."""
    body = _as_mapping(item)
    half = bool(body.get("kind")) != bool(body.get("apiVersion"))
    missing = "apiVersion" if body.get("kind") else "kind"
    return Finding(
        rule_id="not-a-kubernetes-object",
        severity=Severity.ERROR if half else Severity.WARNING,
        message=f"document has no {missing}; it was not rendered"
        if half
        else "document has no apiVersion/kind; it was not rendered",
        location=location,
        hint="add apiVersion and kind, or move the file out of the manifests folder "
        "(or list it under render.ignore in .gitops-bot.yaml)",
    )


def resources_from_documents(
    documents: tuple[YamlDocument, ...], target_id: str, origin_of: OriginOf
) -> tuple[tuple[Resource, ...], tuple[Finding, ...]]:
    """Every document that is a Kubernetes object becomes a Resource; others become findings."""
    resources: list[Resource] = []
    findings: list[Finding] = []
    for document in documents:
        for item, doc in _items(document):
            if not isinstance(item, Mapping) or not item.get("kind") or not item.get("apiVersion"):
                findings.append(_not_an_object(item, origin_of(doc, _as_mapping(item)).location))
                continue
            origin = origin_of(doc, item)
            resources.append(
                Resource(ResourceKey.of(item), item, origin.location, target_id, origin.sources)
            )
    return tuple(resources), tuple(findings)


def index_by_key(
    resources: tuple[Resource, ...],
) -> tuple[dict[ResourceKey, Resource], tuple[Finding, ...]]:
    """Key resources of one target; a key seen twice is reported (the API server keeps one)."""
    keyed: dict[ResourceKey, Resource] = {}
    findings: list[Finding] = []
    for resource in resources:
        previous = keyed.get(resource.key)
        if previous is not None:
            findings.append(
                Finding(
                    rule_id="duplicate-resource",
                    severity=Severity.ERROR,
                    message=f"{resource.key.display()} is defined twice in {resource.target} "
                    f"(also at {previous.origin.display()}); only one can exist in the cluster",
                    location=resource.origin,
                    resource=resource.key,
                    hint="remove one of the definitions or give them different names",
                )
            )
        keyed[resource.key] = resource
    return keyed, tuple(findings)
