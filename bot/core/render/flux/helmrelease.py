"""Render a Flux HelmRelease: its effective definition (after the parent's patches), the chart
(a directory of this repository, or an allow-listed remote chart fetched into the overlay), the
merged values, `helm template`, then the post-renderers and helm-controller's labels."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from bot.core.overlay_tree import OverlayTree
from bot.core.render.app_context import RenderContext
from bot.core.render.commands import failure_finding
from bot.core.render.flux.charts import ChartPlan
from bot.core.render.flux.effective import effective_object
from bot.core.render.flux.plans import HelmReleasePlan, plan_of
from bot.core.render.flux.postbuild import with_metadata
from bot.core.render.flux.postrender import (
    OWNER_NAME,
    OWNER_NAMESPACE,
    kustomize_steps,
    post_render_kustomization,
)
from bot.core.render.flux.values import helm_values, merge_maps
from bot.core.render.manifests import Origin, index_by_key, resources_from_documents
from bot.core.render.origins import helm_origin_finder
from bot.core.safe_yaml import YamlDocument, YamlLimits, load_yaml_documents
from bot.model.finding import Finding, Severity
from bot.model.render import RenderTarget, TargetRender
from bot.ports import ChartFetchStatus, Command

MAX_RELEASE_NAME = 53
_KUSTOMIZE_FLAGS = (
    "--load-restrictor=LoadRestrictionsRootOnly",
    "--enable-alpha-plugins=false",
    "--enable-helm=false",
)
WORK_DIR = ".gitops-bot"
# Kinds Helm creates without a namespace; every other object lands in the release namespace.
_CLUSTER_SCOPED = frozenset(
    {
        "APIService",
        "CSIDriver",
        "CSINode",
        "CertificateSigningRequest",
        "ComponentStatus",
        "CustomResourceDefinition",
        "DeviceClass",
        "FlowSchema",
        "GatewayClass",
        "IPAddress",
        "IngressClass",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PodSecurityPolicy",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "RuntimeClass",
        "ServiceCIDR",
        "StorageClass",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
        "VolumeSnapshotClass",
    }
)


@dataclass(frozen=True, slots=True)
class _Chart:
    path: str = ""  # what `helm template` is given (a directory or a .tgz, repo-relative)
    files: Mapping[str, bytes] = field(default_factory=dict)  # overlay files it needs
    skipped: str = ""
    findings: tuple[Finding, ...] = ()


def release_name(spec: Mapping[str, Any], name: str) -> str:
    """helm-controller's GetReleaseName, shortened as release.ShortenName does."""
    target_namespace = str(spec.get("targetNamespace") or "")
    full = str(spec.get("releaseName") or "") or (
        f"{target_namespace}-{name}" if target_namespace else name
    )
    if len(full) <= MAX_RELEASE_NAME:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:12]
    return f"{full[: MAX_RELEASE_NAME - len(digest) - 1]}-{digest}"


def _version(spec: Mapping[str, Any], chart: ChartPlan) -> str:
    chart_spec = spec.get("chart")
    inner = chart_spec.get("spec") if isinstance(chart_spec, Mapping) else None
    if isinstance(inner, Mapping) and inner.get("version"):
        return str(inner["version"])
    return chart.version


def _local_chart(plan: HelmReleasePlan, context: RenderContext) -> _Chart:
    chart = plan.chart
    assert chart.local_dir is not None
    if not context.view.exists(f"{chart.local_dir}/Chart.yaml"):
        problem = Finding(
            rule_id="flux-chart-missing",
            severity=Severity.ERROR,
            message=f"{plan.declared.display()}: {chart.local_dir}/Chart.yaml does not exist in "
            "this revision",
            location=plan.declared.location("spec.chart.spec.chart"),
            hint="point spec.chart.spec.chart at a chart directory, relative to the repository "
            "root",
        )
        return _Chart(findings=(problem,))
    if not chart.values_files:
        return _Chart(chart.local_dir)
    # valuesFiles replace the chart's values.yaml (merged in order), as source-controller
    # packages the chart.
    merged: dict[str, Any] = {}
    for path in chart.values_files:
        load = context.view.load_yaml(path)
        data = load.documents[0].data if load.documents else None
        if isinstance(data, Mapping):
            merged = merge_maps(merged, data)
    values = yaml.safe_dump(merged, sort_keys=False).encode()
    return _Chart(chart.local_dir, {f"{chart.local_dir}/values.yaml": values})


def _remote_chart(plan: HelmReleasePlan, spec: Mapping[str, Any], context: RenderContext) -> _Chart:
    chart = plan.chart
    not_allowed = f"remote chart not allowed ({chart.repo_url})"
    if context.charts is None:
        return _Chart(skipped=not_allowed)
    fetched = context.charts.fetch(chart.repo_url, chart.chart, _version(spec, chart))
    if fetched.status is ChartFetchStatus.NOT_ALLOWED:
        return _Chart(skipped=not_allowed)
    if fetched.status is ChartFetchStatus.UNSUPPORTED:
        return _Chart(skipped=fetched.message)
    where = plan.declared.location("spec.chart")
    if fetched.archive is None or fetched.status is not ChartFetchStatus.FETCHED:
        problem = Finding(
            rule_id="flux-chart-fetch-failed",
            severity=Severity.ERROR,
            message=f"{chart.description}: {fetched.message}",
            location=where,
            hint="check the chart name and version constraint against the repository's index",
        )
        return _Chart(findings=(problem,))
    archive = fetched.archive
    path = f"{WORK_DIR}/charts/{archive.digest}/{archive.filename}"
    notes: tuple[Finding, ...] = ()
    if chart.values_files:
        notes = (
            Finding(
                rule_id="flux-values-files-ignored",
                severity=Severity.WARNING,
                message="spec.chart.spec.valuesFiles of a remote chart are not applied; the "
                "chart's own values.yaml is used",
                location=where,
            ),
        )
    return _Chart(path, {path: archive.data}, findings=notes)


def _helm_args(
    name: str, namespace: str, chart: str, values: str, spec: Mapping[str, Any]
) -> tuple[str, ...]:
    install = spec.get("install")
    options: Mapping[str, Any] = install if isinstance(install, Mapping) else {}
    args = ["template", name, f"./{chart}", "--namespace", namespace, "--values", f"./{values}"]
    args.append("--skip-tests")  # test hooks are never applied by helm-controller
    if str(options.get("crds") or "Create") != "Skip" and not options.get("skipCRDs"):
        args.append("--include-crds")
    if options.get("disableHooks"):
        args.append("--no-hooks")
    return tuple(args)


def _command(
    tool: str, args: tuple[str, ...], inputs: frozenset[str], context: RenderContext
) -> Command:
    return Command(
        tool=tool,
        args=args,
        inputs=inputs,
        timeout_seconds=context.config.timeout_seconds,
        max_output_bytes=context.config.max_output_bytes,
    )


def _in_namespace(documents: tuple[YamlDocument, ...], namespace: str) -> tuple[YamlDocument, ...]:
    """Helm installs namespaced objects that name no namespace into the release namespace."""
    placed = []
    for doc in documents:
        body = doc.data
        meta = body.get("metadata") if isinstance(body, Mapping) else None
        if (
            isinstance(meta, Mapping)
            and not meta.get("namespace")
            and str(body.get("kind")) not in _CLUSTER_SCOPED
            and not str(body.get("kind")).startswith("Cluster")
        ):
            body = {**body, "metadata": {**meta, "namespace": namespace}}
        placed.append(replace(doc, data=body))
    return tuple(placed)


def render_helm_release(target: RenderTarget, context: RenderContext) -> TargetRender:
    plan = plan_of(target)
    if not isinstance(plan, HelmReleasePlan):
        return TargetRender(target.target_id, findings=(_no_plan(target),))
    effective = effective_object(
        target, plan.declared, plan.namespace, context, standalone=plan.standalone
    )
    findings: list[Finding] = list(effective.findings)
    if effective.body is None:
        return TargetRender(target.target_id, findings=tuple(findings))
    spec = effective.spec()
    if plan.chart.local_dir is not None:
        chart = _local_chart(plan, context)
    else:
        chart = _remote_chart(plan, spec, context)
    findings.extend(chart.findings)
    if chart.skipped:
        return TargetRender(target.target_id, findings=tuple(findings), skipped=chart.skipped)
    limits = YamlLimits(max_bytes=context.config.max_output_bytes)
    values = helm_values(
        spec,
        plan.namespace,
        applied=effective.applied,
        declared={k: d.body for k, d in plan.config_maps.items()},
        where=plan.declared.location,
        limits=limits,
    )
    findings.extend(values.findings)
    if any(f.severity is Severity.ERROR for f in findings):
        return TargetRender(target.target_id, findings=tuple(findings))
    return _template(
        target, plan, spec, chart, values=values.values, context=context, findings=findings
    )


def _template(
    target: RenderTarget,
    plan: HelmReleasePlan,
    spec: Mapping[str, Any],
    chart: _Chart,
    *,
    values: Mapping[str, Any],
    context: RenderContext,
    findings: list[Finding],
) -> TargetRender:
    work = f"{WORK_DIR}/flux/{hashlib.sha256(target.target_id.encode()).hexdigest()[:16]}"
    files = dict(chart.files)
    files[f"{work}/values.yaml"] = yaml.safe_dump(dict(values), sort_keys=False).encode()
    namespace = str(spec.get("targetNamespace") or "") or plan.namespace
    name = release_name(spec, plan.declared.name)
    args = _helm_args(name, namespace, chart.path, f"{work}/values.yaml", spec)
    command = _command("helm", args, target.input_files | frozenset(files), context)
    result = context.runner.run(command, OverlayTree(context.view.tree, files))
    where = plan.declared.location()
    if not result.ok:
        findings.append(failure_finding(result, command, where))
        return TargetRender(target.target_id, findings=tuple(findings))
    stream = result.stdout
    local = chart.path if plan.chart.local_dir is not None else ""
    for index, step in enumerate(kustomize_steps(spec)):
        step_dir = f"{work}/post-render-{index}"
        step_files = {
            f"{step_dir}/helm-output.yaml": stream,
            f"{step_dir}/kustomization.yaml": post_render_kustomization(step, "helm-output.yaml"),
        }
        step_args = (f"./{step_dir}", *_KUSTOMIZE_FLAGS)
        step_command = _command("kustomize", step_args, frozenset(step_files), context)
        step_result = context.runner.run(step_command, OverlayTree(context.view.tree, step_files))
        if not step_result.ok:
            at = plan.declared.location("spec.postRenderers")
            findings.append(failure_finding(step_result, step_command, at))
            return TargetRender(target.target_id, findings=tuple(findings))
        stream, local = step_result.stdout, ""  # kustomize drops helm's "# Source:" lines
    limits = YamlLimits(max_bytes=context.config.max_output_bytes)
    output = load_yaml_documents(stream, where.path, limits)
    findings.extend(
        replace(f, message=f"helm output: {f.message}", location=where) for f in output.findings
    )
    origin_of = (
        helm_origin_finder(replace(target, path=local), stream, where)
        if local
        else (lambda _doc, _body: Origin(where))
    )
    documents = _in_namespace(output.documents, namespace)
    resources, problems = resources_from_documents(documents, target.target_id, origin_of)
    findings.extend(problems)
    common = spec.get("commonMetadata")
    owner = {OWNER_NAME: plan.declared.name, OWNER_NAMESPACE: plan.namespace}
    labelled = tuple(
        replace(r, body=with_metadata(r.body, common if isinstance(common, Mapping) else {}, owner))
        for r in resources
    )
    keyed, duplicates = index_by_key(labelled)
    return TargetRender(target.target_id, tuple(keyed.values()), (*findings, *duplicates))


def _no_plan(target: RenderTarget) -> Finding:
    return Finding(
        rule_id="app-render-failed",
        severity=Severity.ERROR,
        message=f"{target.target_id} carries no Flux plan; it was not discovered here",
        hint="this is a bug in gitops-bot; please report it",
    )
