"""A Helm source: `helm template` with the arguments Argo CD passes (release name, destination
namespace, value files, `values`/`valuesObject`, `--set`/`--set-string`/`--set-file`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from bot.core.render.app_context import RenderContext
from bot.core.render.argo.envsubst import envsubst
from bot.core.render.argo.overlay import OverlayTree, generated_path
from bot.core.render.argo.sources import SourcePlan
from bot.core.render.argo.spec import Application, HelmOptions
from bot.core.render.argo.tool import Rendered, run_tool
from bot.core.render.origins import helm_origin_finder
from bot.model.render import RenderTarget, TargetKind
from bot.model.resource import Location
from bot.ports import Command

_UNESCAPED_COMMA = re.compile(r"(?<!\\),")


def set_value(value: str) -> str:
    """Argo CD's cleanSetParameters: a comma would split a --set value unless it is a `{a,b}`
    list, so commas are escaped."""
    if value.startswith("{") and value.endswith("}"):
        return value
    return _UNESCAPED_COMMA.sub(r"\\,", value)


def _local(path: str) -> str:
    return f"./{path}" if path else "."


def helm_args(
    plan: SourcePlan, app: Application, options: HelmOptions, values_file: str | None
) -> tuple[str, ...]:
    env: Mapping[str, str] = plan.env or {}
    namespace = options.namespace or app.destination_namespace
    args = ["template", options.release_name or app.name, _local(plan.path)]
    if namespace:
        args += ["--namespace", namespace]
    args.append("--skip-tests")  # test hooks are never applied by Argo CD
    if not options.skip_crds:
        args.append("--include-crds")
    if options.skip_schema_validation:
        args.append("--skip-schema-validation")
    if options.kube_version:
        args += ["--kube-version", options.kube_version]
    for api_version in options.api_versions:
        args += ["--api-versions", api_version]
    for path in plan.value_files:
        args += ["--values", _local(path)]
    if values_file is not None:
        args += ["--values", _local(values_file)]
    for parameter in sorted(options.parameters, key=lambda p: (p.force_string, p.name)):
        flag = "--set-string" if parameter.force_string else "--set"
        value = envsubst(parameter.value, env)[0]
        args += [flag, f"{parameter.name}={set_value(value)}"]
    for name, path in plan.file_parameters:
        args += ["--set-file", f"{name}={_local(path)}"]
    return tuple(args)


def render_helm(
    plan: SourcePlan, app: Application, target_id: str, context: RenderContext
) -> Rendered:
    options = plan.source.helm or HelmOptions()
    view = context.view
    tree = view.tree
    inputs = set(plan.inputs)
    values_file = None
    if options.values is not None and options.values.strip():
        content = options.values.encode()
        name = f"values-{hashlib.sha256(content).hexdigest()[:16]}.yaml"
        values_file = generated_path(tree, name)
        tree = OverlayTree(tree, {values_file: content})
        inputs.add(values_file)
    command = Command(
        tool="helm",
        args=helm_args(plan, app, options, values_file),
        inputs=frozenset(inputs),
        timeout_seconds=context.config.timeout_seconds,
        max_output_bytes=context.config.max_output_bytes,
    )
    chart = RenderTarget(target_id, TargetKind.HELM, plan.path, plan.inputs)
    where = Location(f"{plan.path}/Chart.yaml" if plan.path else "Chart.yaml", 1)
    return run_tool(
        command,
        tree,
        where=where,
        context=context,
        target_id=target_id,
        origins=lambda stdout: helm_origin_finder(chart, stdout, where),
    )
