"""An Argo CD Application as plain values, and where each of its fields is written."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.model.resource import Location

ARGO_GROUP = "argoproj.io"
_LAST_FIELD = re.compile(r"(?:\.[^.\[\]]+|\[[^\]]*\])$")


@dataclass(frozen=True, slots=True)
class Declared:
    """Where an Application's fields are written: a file, its document, and the field prefix
    (`spec.template.` for an Application generated from an ApplicationSet's template)."""

    path: str
    line: int
    field_lines: Mapping[str, int] = field(default_factory=dict, compare=False)
    prefix: str = ""

    def location(self, field_path: str = "") -> Location:
        """The line of `field_path`, or of its nearest written ancestor."""
        probe = f"{self.prefix}{field_path}" if field_path else self.prefix.rstrip(".")
        while probe:
            line = self.field_lines.get(probe)
            if line is not None:
                return Location(self.path, line)
            probe = _LAST_FIELD.sub("", probe)
        return Location(self.path, self.line)


@dataclass(frozen=True, slots=True)
class HelmParameter:
    name: str
    value: str
    force_string: bool
    at: str


@dataclass(frozen=True, slots=True)
class HelmOptions:
    value_files: tuple[tuple[str, str], ...] = ()  # (as written, field path)
    values: str | None = None  # `valuesObject` (as JSON) wins over the `values` string
    values_field: str = ""
    parameters: tuple[HelmParameter, ...] = ()
    file_parameters: tuple[HelmParameter, ...] = ()  # value: the file's path
    release_name: str = ""
    namespace: str = ""
    ignore_missing_value_files: bool = False
    skip_crds: bool = False
    skip_schema_validation: bool = False
    kube_version: str = ""
    api_versions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class KustomizeOptions:
    at: str
    name_prefix: str = ""
    name_suffix: str = ""
    images: tuple[str, ...] = ()
    common_labels: Mapping[str, str] = field(default_factory=dict)
    common_annotations: Mapping[str, str] = field(default_factory=dict)
    force_common_labels: bool = False
    force_common_annotations: bool = False
    label_without_selector: bool = False
    label_include_templates: bool = False
    annotations_envsubst: bool = False
    namespace: str = ""
    replicas: tuple[tuple[str, Any], ...] = ()
    patches: tuple[Mapping[str, Any], ...] = ()
    components: tuple[str, ...] = ()
    ignore_missing_components: bool = False


@dataclass(frozen=True, slots=True)
class DirectoryOptions:
    recurse: bool = False
    include: str = ""
    exclude: str = ""
    jsonnet: bool = False


@dataclass(frozen=True, slots=True)
class Source:
    at: str  # "spec.source" or "spec.sources[i]"
    repo_url: str
    path: str | None  # as written; None when absent
    target_revision: str = ""
    chart: str = ""
    ref: str = ""
    helm: HelmOptions | None = None
    kustomize: KustomizeOptions | None = None
    directory: DirectoryOptions | None = None
    plugin: bool = False

    @property
    def ref_only(self) -> bool:
        """A `ref:` source without a path only lends its files to `$ref/...` value files."""
        return bool(self.ref) and self.path is None and not self.chart


@dataclass(frozen=True, slots=True)
class Application:
    name: str
    namespace: str
    project: str
    destination_namespace: str
    destination_name: str
    destination_server: str
    sources: tuple[Source, ...]


def is_argo_kind(body: Any, kind: str) -> bool:
    return (
        isinstance(body, Mapping)
        and body.get("kind") == kind
        and isinstance(body.get("apiVersion"), str)
        and body["apiVersion"].startswith(f"{ARGO_GROUP}/")
    )
