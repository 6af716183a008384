"""Where a resource's schema comes from, beyond the Kubernetes API: CRDs found in the change,
schema directories and custom schemas named by the (base branch's) configuration."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.core.tree_view import YAML_SUFFIXES, TreeView
from bot.core.validate.crd_schema import CrdKind, crd_kinds
from bot.core.validate.lifecycle import GVK
from bot.model.errors import SchemaCompileError
from bot.model.finding import Finding, Severity
from bot.model.repo_config import CONFIG_PATH, CustomSchema, ValidationConfig
from bot.model.resource import Location, Resource
from bot.ports import CompiledSchema, SchemaCatalog

CRD_API_VERSIONS = ("apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1")


def is_crd(body: Mapping[str, object]) -> bool:
    return body.get("kind") == "CustomResourceDefinition" and body.get("apiVersion") in (
        CRD_API_VERSIONS
    )


@dataclass(frozen=True, slots=True)
class Schema:
    compiled: CompiledSchema
    label: str  # for messages: "Kubernetes 1.31", "CRD certificates.cert-manager.io", a path


@dataclass
class SchemaSources:
    """Lazily compiled extra schemas of one review. Problems become findings, never raises."""

    catalog: SchemaCatalog
    config: ValidationConfig
    trusted: TreeView  # the base revision: schema files named by the config come from it
    crds: dict[GVK, CrdKind] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    _compiled: dict[str, Schema | None] = field(default_factory=dict)

    def add_crds(self, found: Iterable[tuple[Mapping[str, object], Location]]) -> None:
        """Index CRDs by the kinds they define; a CRD the API server would refuse is reported."""
        for body, location in found:
            for crd in crd_kinds(body, self.config.strict):
                known = self.crds.get((crd.group, crd.version, crd.kind))
                if known is not None and known.source == crd.source:
                    continue  # the same CRD seen again (rendered, then found in the tree)
                if crd.problem:
                    self.findings.append(
                        Finding(
                            rule_id="crd-invalid",
                            severity=Severity.ERROR,
                            message=f"{crd.source} version {crd.version}: {crd.problem}",
                            location=location,
                            hint="fix the CRD's schema; the API server refuses it as it is",
                        )
                    )
                self.crds.setdefault((crd.group, crd.version, crd.kind), crd)

    def crd_schema(self, gvk: GVK) -> Schema | None:
        crd = self.crds.get(gvk)
        if crd is None or crd.schema is None:
            return None
        key = f"crd:{crd.source}:{gvk}"
        if key in self._compiled:
            return self._compiled[key]
        return self._compile(key, crd.source, crd.schema)

    def dir_schema(self, gvk: GVK) -> Schema | None:
        group, version, kind = gvk
        for directory in self.config.schema_dirs:
            path = f"{directory}/{group or 'core'}/{kind.lower()}_{version}.json"
            if self.trusted.exists(path):
                return self._from_file(path)
        return None

    def custom_schemas(self, resource: Resource) -> list[Schema]:
        found = []
        for custom in self.config.custom_schemas:
            if _matches(custom, resource):
                schema = self._from_file(custom.schema)
                if schema is not None:
                    found.append(schema)
        return found

    def _json(self, path: str) -> Mapping[str, object] | None:
        read = self.trusted.read(path)
        if read.content is None:
            if read.finding is not None:
                self.findings.append(read.finding)
            else:
                self._unusable(path, f"schema file {path} does not exist on the base revision")
            return None
        try:
            data = json.loads(read.content)
        except ValueError as error:
            self._unusable(path, f"schema file {path} is not valid JSON: {error}")
            return None
        if not isinstance(data, Mapping):
            self._unusable(path, f"schema file {path} is not a JSON object")
            return None
        return data

    def _from_file(self, path: str) -> Schema | None:
        if path in self._compiled:
            return self._compiled[path]
        return self._compile(path, path, self._json(path))

    def _compile(self, key: str, label: str, raw: Mapping[str, object] | None) -> Schema | None:
        schema = None
        if raw is not None:
            try:
                schema = Schema(self.catalog.compile(raw), label)
            except SchemaCompileError as error:
                self._unusable(label, f"schema {label} cannot be used: {error.message}")
        self._compiled[key] = schema
        return schema

    def _unusable(self, label: str, message: str) -> None:
        path = label if label.endswith((".json", *YAML_SUFFIXES)) else CONFIG_PATH
        self.findings.append(
            Finding(
                rule_id="schema-unusable",
                severity=Severity.ERROR,
                message=message,
                location=Location(path, 1),
                hint="fix the schema on the base branch, or remove it from validation.schemas",
            )
        )


def _matches(custom: CustomSchema, resource: Resource) -> bool:
    if custom.kind and custom.kind != resource.key.kind:
        return False
    if custom.api_version and custom.api_version != resource.body.get("apiVersion"):
        return False
    if custom.paths and not any(fnmatch.fnmatchcase(resource.origin.path, g) for g in custom.paths):
        return False
    return bool(custom.kind or custom.paths)
