"""validate_resources(): every head resource against its schemas, all errors, with places."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from bot.core.safe_yaml import format_field_path
from bot.core.tree_view import YAML_SUFFIXES, TreeView
from bot.core.validate.lifecycle import GVK, builtin_groups, judge_api, split_api_version
from bot.core.validate.locate import locate
from bot.core.validate.schemas import Schema, SchemaSources, is_crd
from bot.model.finding import Finding, Severity
from bot.model.repo_config import CONFIG_PATH, ClusterConfig
from bot.model.resource import Location, Resource
from bot.model.validation import ValidationSummary
from bot.ports import SchemaCatalog, SchemaViolation

_CRD_MARKER = b"CustomResourceDefinition"


def resolve_versions(
    clusters: Sequence[ClusterConfig], available: Sequence[str]
) -> tuple[tuple[str, ...], list[Finding]]:
    """Bundled schema versions for the configured clusters (newest when none is configured)."""
    wanted = [c.kubernetes for c in clusters] or ["latest"]
    resolved: list[str] = []
    findings = []
    for version in wanted:
        minor = ".".join(version.split(".")[:2]) if version != "latest" else available[-1]
        if minor not in available:
            findings.append(
                Finding(
                    rule_id="kubernetes-version-unsupported",
                    severity=Severity.ERROR,
                    message=f"no bundled Kubernetes schemas for {version} "
                    f"(available: {available[0]} to {available[-1]})",
                    location=Location(CONFIG_PATH, 1),
                    hint="set clusters.<name>.kubernetes to a supported version",
                )
            )
            continue
        if minor not in resolved:
            resolved.append(minor)
    return tuple(resolved), findings


class _Served(Mapping[str, frozenset[GVK]]):
    """Kinds served per Kubernetes version, loaded only when a verdict needs them."""

    def __init__(self, catalog: SchemaCatalog) -> None:
        self._catalog = catalog
        self._versions = catalog.kubernetes_versions()
        self._groups: frozenset[str] | None = None

    def groups(self) -> frozenset[str]:
        if self._groups is None:
            self._groups = builtin_groups(self)
        return self._groups

    def __getitem__(self, version: str) -> frozenset[GVK]:
        return self._catalog.kubernetes_kinds(version)

    def __iter__(self) -> Iterator[str]:
        return iter(self._versions)

    def __len__(self) -> int:
        return len(self._versions)


_UNEXPECTED = re.compile(r"\('([^']+)'(?:, '[^']+')* (?:was|were) unexpected\)")


def _culprit(violation: SchemaViolation) -> tuple[str | int, ...]:
    """Where to point: at the unexpected key itself rather than the object holding it."""
    if violation.keyword == "additionalProperties":
        match = _UNEXPECTED.search(violation.message)
        if match:
            return (*violation.path, match.group(1))
    return violation.path


@dataclass(frozen=True, slots=True)
class _Problem:
    rule_id: str
    severity: Severity
    message: str
    location: Location
    hint: str
    path: str = ""


class _ResourceCheck:
    """All problems of one resource, merged across target Kubernetes versions."""

    def __init__(self, resource: Resource, versions: Sequence[str]) -> None:
        self.resource = resource
        self.versions = versions
        self.seen: dict[_Problem, list[str]] = defaultdict(list)
        self.without_schema = False

    def add(self, problem: _Problem, version: str = "") -> None:
        self.seen[problem].append(version)

    def violations(
        self, schema: Schema, found: Sequence[SchemaViolation], more: bool, v: str
    ) -> None:
        for i, violation in enumerate(found):
            field = format_field_path(violation.path) or "(the object)"
            last = more and i == len(found) - 1
            self.add(
                _Problem(
                    "schema-invalid",
                    Severity.ERROR,
                    f"{self.resource.key.display()}: {field}: {violation.message}"
                    + (" (more errors in this resource not shown)" if last else ""),
                    locate(self.resource, _culprit(violation)),
                    f"fix the field to match the {schema.label} schema",
                    field,
                ),
                v,
            )

    def findings(self) -> Iterator[Finding]:
        for problem, versions in self.seen.items():
            suffix = ""
            if len(self.versions) > 1 and all(versions):
                suffix = f" (Kubernetes {', '.join(versions)})"
            metadata = {"path": problem.path} if problem.path else {}
            yield Finding(
                problem.rule_id,
                problem.severity,
                problem.message + suffix,
                problem.location,
                self.resource.key,
                problem.hint,
                metadata,
            )


@dataclass
class Validator:
    catalog: SchemaCatalog
    sources: SchemaSources
    head: TreeView
    versions: tuple[str, ...]
    _served: _Served | None = None
    _scanned: bool = False
    cel_rules: int = 0

    def validate(self, resources: Sequence[Resource]) -> tuple[list[Finding], ValidationSummary]:
        self._served = _Served(self.catalog)
        self.sources.add_crds((r.body, r.origin) for r in resources if is_crd(r.body))
        findings: list[Finding] = []
        valid = invalid = without_schema = 0
        for resource in resources:
            check = self._check(resource)
            found = list(check.findings())
            findings.extend(found)
            has_error = any(f.severity is Severity.ERROR for f in found)
            invalid += has_error
            without_schema += check.without_schema
            valid += not has_error and not check.without_schema
        summary = ValidationSummary(
            resources=len(resources),
            valid=valid,
            kubernetes_versions=self.versions,
            strict=self.sources.config.strict,
            invalid=invalid,
            without_schema=without_schema,
            crd_kinds=len(self.sources.crds),
            cel_rules_not_evaluated=sum(c.cel_rules for c in self.sources.crds.values()),
        )
        return findings + self.sources.findings, summary

    def _check(self, resource: Resource) -> _ResourceCheck:
        check = _ResourceCheck(resource, self.versions)
        api_version = str(resource.body.get("apiVersion", ""))
        group, version = split_api_version(api_version)
        gvk = (group, version, resource.key.kind)
        limit = self.sources.config.max_errors_per_resource
        strict = self.sources.config.strict
        assert self._served is not None
        customs = self.sources.custom_schemas(resource)
        for target in self.versions:
            verdict = judge_api(gvk, target, self._served, self._served.groups)
            if verdict is not None:
                check.add(
                    _Problem(
                        verdict.rule_id,
                        verdict.severity,
                        f"{resource.key.display()}: {verdict.message}",
                        locate(resource, ("apiVersion",)),
                        f"change apiVersion to {verdict.replacement}"
                        if verdict.replacement
                        else "remove the resource or target a Kubernetes version that serves it",
                    ),
                    target,
                )
                if verdict.severity is Severity.ERROR:
                    continue
            compiled = self.catalog.kubernetes_schema(target, group, version, gvk[2], strict)
            schema = Schema(compiled, "Kubernetes API") if compiled else self._extra(gvk)
            if schema is None and customs:
                continue  # validated by the custom schemas below
            if schema is None:
                check.without_schema = True
                if self.sources.config.missing_schema is not None:
                    check.add(self._no_schema(resource, api_version))
                continue
            result = schema.compiled.violations(resource.body, limit)
            check.violations(schema, result.items, result.more, target)
        for custom in customs:
            result = custom.compiled.violations(resource.body, limit)
            check.violations(custom, result.items, result.more, "")
        return check

    def _extra(self, gvk: GVK) -> Schema | None:
        found = self.sources.crd_schema(gvk) or self.sources.dir_schema(gvk)
        if found is None and not self._scanned:
            self._scanned = True
            self.sources.add_crds(self._crds_in_tree())
            found = self.sources.crd_schema(gvk)
        return found

    def _crds_in_tree(self) -> Iterator[tuple[Mapping[str, object], Location]]:
        """CRDs anywhere in the head revision (plain files, charts' crds/), found without
        rendering: a custom resource's CRD often lives in a target the change did not touch."""
        for path in sorted(self.head.entries):
            if not path.endswith(YAML_SUFFIXES):
                continue
            read = self.head.read(path)
            if read.content is None or _CRD_MARKER not in read.content:
                continue
            for doc in self.head.load_yaml(path).documents:
                if isinstance(doc.data, Mapping) and is_crd(doc.data):
                    yield doc.data, Location(path, doc.line)

    def _no_schema(self, resource: Resource, api_version: str) -> _Problem:
        severity = self.sources.config.missing_schema
        assert severity is not None
        return _Problem(
            "no-schema",
            severity,
            f"{resource.key.display()}: no schema for {api_version} {resource.key.kind}; "
            "it was not validated",
            resource.origin,
            "add its CRD to the repository, list a schema directory under "
            "validation.schema_dirs, or set validation.missing_schema: ignore",
        )
