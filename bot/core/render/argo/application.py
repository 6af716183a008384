"""Read an Argo CD Application into spec values; every bad field is a Finding with its line."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from bot.core.render.argo.spec import (
    Application,
    Declared,
    DirectoryOptions,
    HelmOptions,
    HelmParameter,
    KustomizeOptions,
    Source,
)
from bot.core.safe_yaml import format_field_path
from bot.model.finding import Finding, Severity


class _Reader:
    """Typed access to an untrusted mapping; a wrong type is a finding, never an exception."""

    def __init__(self, declared: Declared) -> None:
        self.declared = declared
        self.findings: list[Finding] = []

    def problem(self, field_path: str, message: str, hint: str) -> None:
        self.findings.append(
            Finding(
                rule_id="argocd-application-invalid",
                severity=Severity.ERROR,
                message=message,
                location=self.declared.location(field_path),
                hint=hint or "fix the field: Argo CD would refuse or misread this Application",
            )
        )

    def mapping(self, parent: Mapping[str, Any], key: str, at: str) -> Mapping[str, Any] | None:
        value = parent.get(key)
        if value is None or isinstance(value, Mapping):
            return value
        self.problem(_join(at, key), f"{_join(at, key)} must be a mapping", "fix its indentation")
        return None

    def string(self, parent: Mapping[str, Any], key: str, at: str) -> str:
        value = parent.get(key)
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        self.problem(
            _join(at, key),
            f"{_join(at, key)} must be a string, not {type(value).__name__}",
            'quote the value, e.g. "1.0"',
        )
        return ""

    def boolean(self, parent: Mapping[str, Any], key: str, at: str) -> bool:
        value = parent.get(key)
        if value is None or isinstance(value, bool):
            return bool(value)
        self.problem(_join(at, key), f"{_join(at, key)} must be true or false", "")
        return False

    def items(self, parent: Mapping[str, Any], key: str, at: str) -> list[tuple[str, Any]]:
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(_join(at, key), f"{_join(at, key)} must be a list", "")
            return []
        return [(format_field_path([*_split(at), key, i]), item) for i, item in enumerate(value)]

    def strings(self, parent: Mapping[str, Any], key: str, at: str) -> tuple[tuple[str, str], ...]:
        found = []
        for item_field, item in self.items(parent, key, at):
            if isinstance(item, str):
                found.append((item, item_field))
            else:
                self.problem(item_field, f"{item_field} must be a string", "")
        return tuple(found)

    def string_map(self, parent: Mapping[str, Any], key: str, at: str) -> Mapping[str, str]:
        value = self.mapping(parent, key, at) or {}
        result: dict[str, str] = {}
        for name, item in value.items():
            if isinstance(item, str):
                result[str(name)] = item
            else:
                self.problem(_join(_join(at, key), str(name)), "label values must be strings", "")
        return result


def _split(at: str) -> list[str | int]:
    parts: list[str | int] = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", at):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return parts


def _join(at: str, key: str) -> str:
    return format_field_path([*_split(at), key])


def _helm(reader: _Reader, body: Mapping[str, Any], at: str) -> HelmOptions:
    parameters, file_parameters = [], []
    for item_field, item in reader.items(body, "parameters", at):
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            reader.problem(item_field, f"{item_field} needs a string `name`", "")
            continue
        value = item.get("value", "")
        if not isinstance(value, str):
            reader.problem(f"{item_field}.value", f"{item_field}.value must be a string", "")
            continue
        force = reader.boolean(item, "forceString", item_field)
        parameters.append(HelmParameter(item["name"], value, force, item_field))
    for item_field, item in reader.items(body, "fileParameters", at):
        if not isinstance(item, Mapping) or not all(
            isinstance(item.get(k), str) for k in ("name", "path")
        ):
            reader.problem(item_field, f"{item_field} needs string `name` and `path`", "")
            continue
        file_parameters.append(HelmParameter(item["name"], item["path"], False, item_field))
    values, values_field = _helm_values(reader, body, at)
    return HelmOptions(
        value_files=reader.strings(body, "valueFiles", at),
        values=values,
        values_field=values_field,
        parameters=tuple(parameters),
        file_parameters=tuple(file_parameters),
        release_name=reader.string(body, "releaseName", at),
        namespace=reader.string(body, "namespace", at),
        ignore_missing_value_files=reader.boolean(body, "ignoreMissingValueFiles", at),
        skip_crds=reader.boolean(body, "skipCrds", at),
        skip_schema_validation=reader.boolean(body, "skipSchemaValidation", at),
        kube_version=reader.string(body, "kubeVersion", at),
        api_versions=tuple(v for v, _ in reader.strings(body, "apiVersions", at)),
    )


def _helm_values(reader: _Reader, body: Mapping[str, Any], at: str) -> tuple[str | None, str]:
    """`valuesObject` (wins) or `values` as YAML/JSON text, and the field it came from."""
    key = "valuesObject" if body.get("valuesObject") is not None else "values"
    value, where = body.get(key), _join(at, key)
    if value is None or (isinstance(value, str) and key == "values"):
        return value, where
    if isinstance(value, Mapping):  # `values` as a mapping: older manifests; renders the same
        try:
            return json.dumps(value, sort_keys=True), where
        except (TypeError, ValueError):
            reader.problem(where, f"{where} holds a value that is not plain data", "")
            return None, ""
    reader.problem(
        where,
        f"{where} must be a mapping" if key == "valuesObject" else f"{where} must be a YAML string",
        "",
    )
    return None, ""


def _kustomize(reader: _Reader, body: Mapping[str, Any], at: str) -> KustomizeOptions:
    replicas = []
    for item_field, item in reader.items(body, "replicas", at):
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            replicas.append((item["name"], item.get("count")))
        else:
            reader.problem(item_field, f"{item_field} needs `name` and `count`", "")
    patches = []
    for item_field, item in reader.items(body, "patches", at):
        if isinstance(item, Mapping):
            patches.append(item)
        else:
            reader.problem(item_field, f"{item_field} must be a mapping", "")
    return KustomizeOptions(
        at=at,
        name_prefix=reader.string(body, "namePrefix", at),
        name_suffix=reader.string(body, "nameSuffix", at),
        images=tuple(v for v, _ in reader.strings(body, "images", at)),
        common_labels=reader.string_map(body, "commonLabels", at),
        common_annotations=reader.string_map(body, "commonAnnotations", at),
        force_common_labels=reader.boolean(body, "forceCommonLabels", at),
        force_common_annotations=reader.boolean(body, "forceCommonAnnotations", at),
        label_without_selector=reader.boolean(body, "labelWithoutSelector", at),
        label_include_templates=reader.boolean(body, "labelIncludeTemplates", at),
        annotations_envsubst=reader.boolean(body, "commonAnnotationsEnvsubst", at),
        namespace=reader.string(body, "namespace", at),
        replicas=tuple(replicas),
        patches=tuple(patches),
        components=tuple(v for v, _ in reader.strings(body, "components", at)),
        ignore_missing_components=reader.boolean(body, "ignoreMissingComponents", at),
    )


def _source(reader: _Reader, body: Any, at: str) -> Source | None:
    if not isinstance(body, Mapping):
        reader.problem(at, f"{at} must be a mapping", "")
        return None
    repo_url = reader.string(body, "repoURL", at)
    if not repo_url:
        reader.problem(at, f"{at} has no repoURL", "set repoURL to this repository's URL")
        return None
    helm = reader.mapping(body, "helm", at)
    kustomize = reader.mapping(body, "kustomize", at)
    directory = reader.mapping(body, "directory", at)
    directory_at = _join(at, "directory")
    return Source(
        at=at,
        repo_url=repo_url,
        path=reader.string(body, "path", at) if "path" in body else None,
        target_revision=reader.string(body, "targetRevision", at),
        chart=reader.string(body, "chart", at),
        ref=reader.string(body, "ref", at),
        helm=_helm(reader, helm, _join(at, "helm")) if helm is not None else None,
        kustomize=_kustomize(reader, kustomize, _join(at, "kustomize"))
        if kustomize is not None
        else None,
        directory=DirectoryOptions(
            recurse=reader.boolean(directory, "recurse", directory_at),
            include=reader.string(directory, "include", directory_at),
            exclude=reader.string(directory, "exclude", directory_at),
            jsonnet=bool(directory.get("jsonnet")),
        )
        if directory is not None
        else None,
        plugin=body.get("plugin") is not None,
    )


def parse_application(
    body: Mapping[str, Any], declared: Declared, default_namespace: str = ""
) -> tuple[Application | None, tuple[Finding, ...]]:
    """The Application's fields, or None (with findings) when it cannot be rendered at all."""
    reader = _Reader(declared)
    metadata = reader.mapping(body, "metadata", "") or {}
    spec = reader.mapping(body, "spec", "")
    name = reader.string(metadata, "name", "metadata")
    if not name:
        reader.problem("metadata", "the Application has no metadata.name", "name it")
    if spec is None:
        reader.problem("", "the Application has no spec", "add spec.source and spec.destination")
        return None, tuple(reader.findings)
    destination = reader.mapping(spec, "destination", "spec") or {}
    sources: list[Source] = []
    multi = reader.items(spec, "sources", "spec")
    if multi:
        sources.extend(s for at, item in multi if (s := _source(reader, item, at)) is not None)
    elif spec.get("source") is not None:
        single = _source(reader, spec["source"], "spec.source")
        sources.extend([single] if single is not None else [])
    elif not reader.findings:
        reader.problem("spec", "the Application has neither spec.source nor spec.sources", "")
    if not name or not sources:
        return None, tuple(reader.findings)
    app = Application(
        name=name,
        namespace=reader.string(metadata, "namespace", "metadata") or default_namespace,
        project=reader.string(spec, "project", "spec"),
        destination_namespace=reader.string(destination, "namespace", "spec.destination"),
        destination_name=reader.string(destination, "name", "spec.destination"),
        destination_server=reader.string(destination, "server", "spec.destination"),
        sources=tuple(sources),
    )
    return app, tuple(reader.findings)
