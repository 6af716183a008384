"""The validation stage of a review: head resources of the targets that rendered."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.core.tree_view import TreeView
from bot.core.validate.schemas import SchemaSources
from bot.core.validate.validation import Validator, resolve_versions
from bot.model.finding import Finding, Severity
from bot.model.render import TargetRender
from bot.model.repo_config import RepoConfig
from bot.model.resource import Resource
from bot.model.validation import ValidationSummary
from bot.ports import SchemaCatalog


def rendered_head_resources(head: Mapping[str, TargetRender]) -> list[Resource]:
    """Resources of every head target that rendered without errors, in a stable order."""
    return [
        resource
        for _, render in sorted(head.items())
        if not any(f.severity is Severity.ERROR for f in render.findings)
        for resource in render.resources
    ]


def validate_head(
    resources: Sequence[Resource],
    catalog: SchemaCatalog,
    config: RepoConfig,
    trusted: TreeView,
    head: TreeView,
) -> tuple[list[Finding], ValidationSummary | None]:
    """Validate against every configured cluster's Kubernetes version, CRDs of the change,
    schema directories and custom schemas. None when validation is switched off."""
    if not config.validation.enabled:
        return [], None
    versions, problems = resolve_versions(config.clusters, catalog.kubernetes_versions())
    if not versions:
        return problems, None
    sources = SchemaSources(catalog, config.validation, trusted)
    findings, summary = Validator(catalog, sources, head, versions).validate(resources)
    return problems + findings, summary
