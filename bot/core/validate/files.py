"""Validate manifest files as they are (no rendering): `gitops-bot validate PATH...`."""

from __future__ import annotations

from bot.core.render.revision import render_plain_target
from bot.core.tree_view import TreeView
from bot.core.validate.stage import validate_head
from bot.model.finding import Finding
from bot.model.render import RenderTarget, TargetKind
from bot.model.repo_config import RepoConfig
from bot.model.validation import ValidationSummary
from bot.ports import RepoTree, SchemaCatalog


def validate_files(
    files: RepoTree,
    catalog: SchemaCatalog,
    config: RepoConfig,
    schemas: RepoTree,
) -> tuple[list[Finding], ValidationSummary | None]:
    """Every document of every file in `files` is a manifest; `schemas` holds the files that
    `config.validation` names (schema directories, custom schemas)."""
    view = TreeView(files, config.render.max_file_bytes)
    target = RenderTarget("files", TargetKind.PLAIN, "", frozenset(view.entries))
    rendered = render_plain_target(target, view)
    trusted = TreeView(schemas, config.render.max_file_bytes)
    findings, summary = validate_head(rendered.resources, catalog, config, trusted, view)
    return [*rendered.findings, *findings], summary
