"""Turn YAML documents (from files or a tool's stdout) into keyed Resources."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from bot.core.safe_yaml import YamlDocument
from bot.model.finding import Finding, Severity
from bot.model.resource import Location, Resource, ResourceKey

OriginOf = Callable[[YamlDocument, Mapping[str, Any]], Location]


def _items(doc: YamlDocument) -> Iterator[Any]:
    data = doc.data
    # `kind: List` (and *List kinds) wrap objects the API server would apply one by one.
    if (
        isinstance(data, Mapping)
        and str(data.get("kind", "")).endswith("List")
        and isinstance(data.get("items"), list)
    ):
        yield from data["items"]
    else:
        yield data


def resources_from_documents(
    documents: tuple[YamlDocument, ...], target_id: str, origin_of: OriginOf
) -> tuple[tuple[Resource, ...], tuple[Finding, ...]]:
    """Every document that is a Kubernetes object becomes a Resource; others become findings."""
    resources: list[Resource] = []
    findings: list[Finding] = []
    for doc in documents:
        for item in _items(doc):
            if not isinstance(item, Mapping) or not item.get("kind") or not item.get("apiVersion"):
                findings.append(
                    Finding(
                        rule_id="not-a-kubernetes-object",
                        severity=Severity.WARNING,
                        message="document has no apiVersion/kind; it was not rendered",
                        location=origin_of(doc, item if isinstance(item, Mapping) else {}),
                        hint="add apiVersion and kind, or move the file out of the manifests "
                        "folder (or list it under render.ignore in .gitops-bot.yaml)",
                    )
                )
                continue
            resources.append(Resource(ResourceKey.of(item), item, origin_of(doc, item), target_id))
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
