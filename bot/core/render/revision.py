"""Render targets of one revision: plain YAML in process, Kustomize and Helm through the runner."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.core.paths import join_inside
from bot.core.render.app_context import RenderContext
from bot.core.render.apps import APP_KINDS, RENDERERS
from bot.core.render.commands import failure_finding, helm_command, kustomize_command
from bot.core.render.kustomization import find_kustomization
from bot.core.render.manifests import Origin, index_by_key, resources_from_documents
from bot.core.render.origins import helm_origin_finder, kustomize_origin_finder
from bot.core.safe_yaml import YamlDocument, YamlLimits, load_yaml_documents
from bot.core.tree_view import TreeView
from bot.model.finding import Finding, Severity
from bot.model.render import RenderTarget, TargetKind, TargetRender
from bot.model.repo_config import RenderConfig
from bot.model.resource import Location, Resource, SourceDocument
from bot.ports import ChartSource, CommandRunner


def _render_plain(target: RenderTarget, view: TreeView) -> tuple[list[Resource], list[Finding]]:
    resources: list[Resource] = []
    findings: list[Finding] = []
    for path in sorted(target.input_files):
        load = view.load_yaml(path)
        findings.extend(load.findings)

        def origin(doc: YamlDocument, _body: Mapping[str, Any], path: str = path) -> Origin:
            source = SourceDocument(path, doc.line, doc.field_lines)
            return Origin(Location(path, doc.line), (source,))

        found, problems = resources_from_documents(load.documents, target.target_id, origin)
        resources.extend(found)
        findings.extend(problems)
    return resources, findings


def _chart_dependency_findings(target: RenderTarget, view: TreeView) -> list[Finding]:
    chart_file = f"{target.path}/Chart.yaml" if target.path else "Chart.yaml"
    load = view.load_yaml(chart_file)
    if not load.documents or not isinstance(load.documents[0].data, Mapping):
        return list(load.findings)
    doc = load.documents[0]
    findings: list[Finding] = []
    dependencies = doc.data.get("dependencies")
    for i, dep in enumerate(dependencies if isinstance(dependencies, list) else []):
        repo = dep.get("repository") if isinstance(dep, Mapping) else None
        if (
            isinstance(repo, str)
            and repo.startswith("file://")
            and join_inside(target.path, repo.removeprefix("file://")) is None
        ):
            findings.append(
                Finding(
                    rule_id="path-escapes-repo",
                    severity=Severity.ERROR,
                    message=f"chart dependency {repo} points outside the repository",
                    location=Location(
                        chart_file, doc.field_lines.get(f"dependencies[{i}].repository", 1)
                    ),
                    hint="vendor the dependency into the repository",
                )
            )
    return findings


def _render_with_tool(
    target: RenderTarget, view: TreeView, runner: CommandRunner, config: RenderConfig
) -> tuple[list[Resource], list[Finding]]:
    if target.kind is TargetKind.KUSTOMIZE:
        command = kustomize_command(target, config)
        where = Location(find_kustomization(target.path, view) or target.path, 1)
    else:
        assert target.helm is not None
        blocked = _chart_dependency_findings(target, view)
        if blocked:
            return [], blocked
        command = helm_command(target, target.helm, config)
        where = Location(f"{target.path}/Chart.yaml" if target.path else "Chart.yaml", 1)
    result = runner.run(command, view.tree)
    if not result.ok:
        return [], [failure_finding(result, command, where)]
    output = load_yaml_documents(
        result.stdout, where.path, YamlLimits(max_bytes=config.max_output_bytes)
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
    if target.kind is TargetKind.KUSTOMIZE:
        origin_of = kustomize_origin_finder(target, view, where)
    else:
        origin_of = helm_origin_finder(target, result.stdout, where)
    resources, problems = resources_from_documents(output.documents, target.target_id, origin_of)
    return list(resources), list(problems)


def render_plain_target(target: RenderTarget, view: TreeView) -> TargetRender:
    """Plain manifests need no tool: every document of every input file is a resource."""
    resources, findings = _render_plain(target, view)
    keyed, duplicates = index_by_key(tuple(resources))
    return TargetRender(target.target_id, tuple(keyed.values()), (*findings, *duplicates))


def _render_in_context(target: RenderTarget, context: RenderContext) -> TargetRender:
    """Render one target; every problem becomes a Finding with a file and line, never a raise."""
    if target.blocked_by:
        return TargetRender(target.target_id, findings=target.blocked_by)
    if target.kind in APP_KINDS:
        return RENDERERS[target.kind](target, context)
    if target.kind is TargetKind.PLAIN:
        return render_plain_target(target, context.view)
    resources, findings = _render_with_tool(target, context.view, context.runner, context.config)
    keyed, duplicates = index_by_key(tuple(resources))
    return TargetRender(target.target_id, tuple(keyed.values()), tuple(findings) + duplicates)


def render_target(
    target: RenderTarget,
    view: TreeView,
    runner: CommandRunner,
    config: RenderConfig,
    charts: ChartSource | None = None,
) -> TargetRender:
    known = {target.target_id: target}
    context = RenderContext(view, runner, config, known, _render_in_context, charts)
    return context.render(target.target_id)


def render_targets(
    targets: Iterable[RenderTarget],
    view: TreeView,
    runner: CommandRunner,
    config: RenderConfig,
    every_target: Mapping[str, RenderTarget] | None = None,
    *,
    charts: ChartSource | None = None,
) -> dict[str, TargetRender]:
    """Render `targets`; `every_target` (the revision's discovery) lets an app render the
    parent that declares it even when the parent itself is not affected."""
    wanted = list(targets)
    known = dict(every_target or {})
    known.update((t.target_id, t) for t in wanted)
    context = RenderContext(view, runner, config, known, _render_in_context, charts)
    return {t.target_id: context.render(t.target_id) for t in wanted}
