"""Run a renderer Command for an Argo CD source and read its output into Resources."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.render.app_context import RenderContext
from bot.core.render.commands import failure_finding
from bot.core.render.manifests import OriginOf, resources_from_documents
from bot.core.safe_yaml import YamlLimits, load_yaml_documents
from bot.model.finding import Finding
from bot.model.resource import Location, Resource
from bot.ports import Command, RepoTree

Rendered = tuple[list[Resource], list[Finding]]


def run_tool(
    command: Command,
    tree: RepoTree,
    *,
    where: Location,
    context: RenderContext,
    target_id: str,
    origins: Callable[[bytes], OriginOf],
) -> Rendered:
    result = context.runner.run(command, tree)
    if not result.ok:
        return [], [failure_finding(result, command, where)]
    output = load_yaml_documents(
        result.stdout, where.path, YamlLimits(max_bytes=context.config.max_output_bytes)
    )
    if output.findings:
        return [], [
            Finding(
                f.rule_id,
                f.severity,
                f"{command.tool} output: {f.message}",
                where,
                hint="the renderer produced YAML gitops-bot cannot read safely",
            )
            for f in output.findings
        ]
    resources, problems = resources_from_documents(
        output.documents, target_id, origins(result.stdout)
    )
    return list(resources), list(problems)
