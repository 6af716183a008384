"""Rendered Kubernetes resources and where they came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, order=True)
class ResourceKey:
    """Identity of a resource in a cluster: what Kubernetes itself uses to tell objects apart."""

    api_group: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, body: Mapping[str, Any], default_namespace: str = "") -> ResourceKey:
        api_version = str(body.get("apiVersion") or "")
        group = api_version.rpartition("/")[0] if "/" in api_version else ""
        metadata = body.get("metadata")
        meta: Mapping[str, Any] = metadata if isinstance(metadata, Mapping) else {}
        return cls(
            api_group=group,
            kind=str(body.get("kind") or ""),
            namespace=str(meta.get("namespace") or default_namespace),
            name=str(meta.get("name") or meta.get("generateName") or ""),
        )

    def display(self) -> str:
        kind = f"{self.api_group}/{self.kind}" if self.api_group else self.kind
        name = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{kind} {name}"


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """A place in the repository: repo-relative POSIX path, 1-based line and column."""

    path: str
    line: int = 1
    column: int = 1

    def display(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """A YAML document a rendered resource came from (in part), with its field lines.

    `data` set: only fields whose value equals the rendered one are attributed to this document
    (an overlay patch may have changed the rest). `data` None: the document is the resource.
    """

    path: str
    line: int
    field_lines: Mapping[str, int]
    data: Any = None


@dataclass(frozen=True, slots=True)
class Resource:
    """One rendered object. `body` is treated as immutable: nothing mutates it after rendering.

    `sources` are the documents the object is known to come from, best first; empty when the
    renderer does not say (Helm output maps only to a template file).
    """

    key: ResourceKey
    body: Mapping[str, Any]
    origin: Location
    target: str
    sources: tuple[SourceDocument, ...] = field(default=(), compare=False)
