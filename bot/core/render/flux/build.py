"""Render a Flux Kustomization: its effective definition, the kustomization file
kustomize-controller would build (an overlay over the real tree), `kustomize build`, then the
post-build steps (substitution, commonMetadata, owner labels)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.core.overlay_tree import OverlayTree
from bot.core.paths import join_inside
from bot.core.render.app_context import RenderContext
from bot.core.render.commands import failure_finding, kustomize_command
from bot.core.render.flux.effective import effective_object
from bot.core.render.flux.layout import BuildLayout, scan_layout
from bot.core.render.flux.overlay import flux_kustomization
from bot.core.render.flux.plans import KustomizationPlan, plan_of
from bot.core.render.flux.postbuild import OWNER_NAME, OWNER_NAMESPACE, substitute, with_metadata
from bot.core.render.flux.variables import collect_variables
from bot.core.render.manifests import index_by_key, resources_from_documents
from bot.core.render.origins import kustomize_origin_finder
from bot.core.safe_yaml import YamlLimits, load_yaml_documents
from bot.model.finding import Finding, Severity
from bot.model.render import RenderTarget, TargetRender
from bot.model.resource import Location, Resource
from bot.ports import RepoTree


def _wrong_plan(target: RenderTarget) -> TargetRender:
    return TargetRender(
        target.target_id,
        findings=(
            Finding(
                rule_id="app-render-failed",
                severity=Severity.ERROR,
                message=f"{target.target_id} carries no Flux plan; it was not discovered here",
                hint="this is a bug in gitops-bot; please report it",
            ),
        ),
    )


def _effective_layout(
    plan: KustomizationPlan, spec: Mapping[str, Any], target: RenderTarget, context: RenderContext
) -> tuple[BuildLayout | None, list[Finding]]:
    """The layout of the path after the parent's patches; a path other than the written one
    is rendered, with a warning when its files were not tracked as inputs."""
    written = plan.declared.spec().get("path")
    if spec.get("path") == written or plan.source.root is None:
        return plan.layout, []
    raw = str(spec.get("path") or "").strip()
    directory = join_inside(plan.source.root, raw.lstrip("/")) if raw else plan.source.root
    where = plan.declared.location("spec.path")
    if directory is None or not context.view.is_dir(directory):
        return None, [
            Finding(
                rule_id="flux-path-missing",
                severity=Severity.ERROR,
                message=f"spec.path becomes {raw} after {target.parent}'s patches, which is not "
                "a directory of this repository",
                location=where,
                hint="fix the patch that sets spec.path",
            )
        ]
    namespace = str(spec.get("targetNamespace") or "")
    components = [c for c in spec.get("components") or () if isinstance(c, str)]
    layout = scan_layout(directory, namespace, components, context.view, context.config.ignore)
    untracked = layout.input_files - target.input_files
    findings = []
    if untracked:
        findings.append(
            Finding(
                rule_id="flux-input-tracking",
                severity=Severity.WARNING,
                message=f"spec.path is {raw} after {target.parent}'s patches, not {written}; "
                f"{len(untracked)} of its files are not tracked as inputs, so a change to them "
                "alone may be reported as unchanged",
                location=where,
                hint="write spec.path in the file that declares the Kustomization",
            )
        )
    return layout, findings


def _suspended(plan: KustomizationPlan, spec: Mapping[str, Any]) -> list[Finding]:
    if spec.get("suspend") is not True:
        return []
    return [
        Finding(
            rule_id="flux-suspended",
            severity=Severity.INFO,
            message=f"{plan.declared.display()} is suspended: Flux applies none of this until "
            "it is resumed",
            location=plan.declared.location("spec.suspend"),
        )
    ]


def render_kustomization(target: RenderTarget, context: RenderContext) -> TargetRender:
    plan = plan_of(target)
    if not isinstance(plan, KustomizationPlan):
        return _wrong_plan(target)
    effective = effective_object(
        target, plan.declared, plan.namespace, context, standalone=plan.standalone
    )
    findings: list[Finding] = list(effective.findings)
    spec = effective.spec()
    layout: BuildLayout | None = None
    if effective.body is not None:
        findings += _suspended(plan, spec)
        layout, problems = _effective_layout(plan, spec, target, context)
        findings += problems
    if layout is None or any(f.severity is Severity.ERROR for f in findings):
        return TargetRender(target.target_id, findings=tuple(findings))
    if layout.kustomization_file is None and not layout.generated:
        return TargetRender(target.target_id, findings=tuple(findings))  # an empty directory
    return _build(target, plan, spec, layout, context, applied=effective.applied, findings=findings)


def _build(
    target: RenderTarget,
    plan: KustomizationPlan,
    spec: Mapping[str, Any],
    layout: BuildLayout,
    context: RenderContext,
    *,
    applied: tuple[Resource, ...],
    findings: list[Finding],
) -> TargetRender:
    where = plan.declared.location()
    overlay = flux_kustomization(spec, layout, context.view, where)
    findings.extend(overlay.findings)
    if any(f.severity is Severity.ERROR for f in overlay.findings):
        return TargetRender(target.target_id, findings=tuple(findings))
    inputs = target.input_files | layout.input_files
    tree: RepoTree = context.view.tree
    if overlay.content is not None:
        tree = OverlayTree(tree, {overlay.path: overlay.content})
        inputs |= {overlay.path}
    command = kustomize_command(
        replace(target, path=layout.directory, input_files=inputs), context.config
    )
    result = context.runner.run(command, tree)
    built_at = Location(layout.kustomization_file, 1) if layout.kustomization_file else where
    if not result.ok:
        findings.append(failure_finding(result, command, built_at))
        return TargetRender(target.target_id, findings=tuple(findings))
    post_build = spec.get("postBuild")
    variables = collect_variables(
        post_build if isinstance(post_build, Mapping) else {},
        plan.namespace,
        applied,
        {k: d.body for k, d in plan.config_maps.items()},
        plan.declared.location,
    )
    findings.extend(variables.findings)
    limits = YamlLimits(max_bytes=context.config.max_output_bytes)
    substituted = substitute(result.stdout, variables, where, limits)
    findings.extend(substituted.findings)
    output = load_yaml_documents(substituted.stream, built_at.path, limits)
    findings.extend(
        replace(f, message=f"kustomize output: {f.message}", location=built_at)
        for f in output.findings
    )
    origin_of = kustomize_origin_finder(replace(target, input_files=inputs), context.view, built_at)
    resources, problems = resources_from_documents(output.documents, target.target_id, origin_of)
    findings.extend(problems)
    common = spec.get("commonMetadata")
    owner = {OWNER_NAME: plan.declared.name, OWNER_NAMESPACE: plan.namespace}
    finished = tuple(
        replace(r, body=with_metadata(r.body, common if isinstance(common, Mapping) else {}, owner))
        for r in resources
    )
    keyed, duplicates = index_by_key(finished)
    return TargetRender(target.target_id, tuple(keyed.values()), (*findings, *duplicates))
