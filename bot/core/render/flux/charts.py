"""Where a HelmRelease's chart comes from: a directory of this repository, or a remote repository.

Remote charts (HelmRepository over HTTP(S), OCI) are decided at render time through the
ChartSource port: only the operator's allow-list decides what may be fetched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.paths import join_inside
from bot.core.render.flux.objects import Declared
from bot.core.render.flux.sources import Ref, SourceIndex
from bot.model.repo_config import RenderConfig


@dataclass(frozen=True, slots=True)
class ChartPlan:
    """`local_dir` for a chart in this repository; `repo_url` (+ `chart`) for a remote one;
    neither, with `skip_reason`, when it cannot be rendered at all."""

    description: str
    local_dir: str | None = None
    repo_url: str = ""
    chart: str = ""
    version: str = ""  # as declared; the render uses the HelmRelease after its parent's patches
    values_files: tuple[str, ...] = ()  # repo paths (GitRepository charts) or chart paths
    declared_in: tuple[str, ...] = ()
    skip_reason: str = ""
    problem: str = ""  # an error in the declaration itself (path outside the repository)

    @property
    def remote(self) -> bool:
        return bool(self.repo_url)


def _chart_spec(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    chart = spec.get("chart")
    inner = chart.get("spec") if isinstance(chart, Mapping) else None
    return inner if isinstance(inner, Mapping) else {}


def _values_files(chart_spec: Mapping[str, Any]) -> tuple[str, ...]:
    files = chart_spec.get("valuesFiles")
    single = chart_spec.get("valuesFile")
    listed = [f for f in files if isinstance(f, str)] if isinstance(files, list) else []
    return (*([single] if isinstance(single, str) and single else []), *listed)


def plan_chart(
    decl: Declared, namespace: str, sources: SourceIndex, config: RenderConfig
) -> ChartPlan:
    spec = decl.spec()
    chart_ref = Ref.of(spec.get("chartRef"), namespace)
    if chart_ref is not None:
        return _from_chart_ref(chart_ref, decl, sources, config)
    chart_spec = _chart_spec(spec)
    source = Ref.of(chart_spec.get("sourceRef"), namespace)
    if source is None:
        return ChartPlan(
            "no chart", skip_reason="neither spec.chart.spec.sourceRef nor spec.chartRef is set"
        )
    return _from_chart_spec(chart_spec, source, decl.path, sources, config)


def _from_chart_ref(
    ref: Ref, decl: Declared, sources: SourceIndex, config: RenderConfig
) -> ChartPlan:
    found = sources.find(ref.kind, ref.namespace, ref.name, decl.path)
    if found is None:
        return ChartPlan(ref.display(), skip_reason=f"{ref.display()} is not declared here")
    spec = found.spec()
    if ref.kind == "HelmChart":
        source = Ref.of(spec.get("sourceRef"), ref.namespace)
        if source is None:
            return ChartPlan(ref.display(), skip_reason=f"{ref.display()} has no sourceRef")
        plan = _from_chart_spec(spec, source, found.path, sources, config)
        return ChartPlan(
            f"{plan.description} via {ref.display()}",
            plan.local_dir,
            plan.repo_url,
            plan.chart,
            plan.version,
            plan.values_files,
            (found.path, *plan.declared_in),
            plan.skip_reason,
            plan.problem,
        )
    if ref.kind == "OCIRepository":
        url = str(spec.get("url") or "")
        reference = spec.get("ref")
        version = ""
        if isinstance(reference, Mapping):
            version = str(reference.get("semver") or reference.get("tag") or "")
        return ChartPlan(
            f"chart {url} {version or 'latest'} from {ref.display()}",
            repo_url=url,
            version=version,
            declared_in=(found.path,),
        )
    return ChartPlan(ref.display(), skip_reason=f"charts from {ref.kind} sources are not rendered")


def _from_chart_spec(
    chart_spec: Mapping[str, Any],
    source: Ref,
    near: str,
    sources: SourceIndex,
    config: RenderConfig,
) -> ChartPlan:
    chart = str(chart_spec.get("chart") or "")
    version = str(chart_spec.get("version") or "")
    values_files = _values_files(chart_spec)
    if source.kind == "GitRepository":
        resolved = sources.git_repository(source, config, near)
        description = f"chart {chart} from {resolved.description}"
        if resolved.root is None:
            return ChartPlan(
                description,
                skip_reason=f"chart source {resolved.skip_reason.removeprefix('source ')}",
                declared_in=resolved.declared_in,
            )
        directory = join_inside(resolved.root, chart.lstrip("/"))
        files = tuple(
            f for f in (join_inside(resolved.root, v.lstrip("/")) for v in values_files) if f
        )
        if directory is None or len(files) != len(values_files):
            return ChartPlan(
                description,
                declared_in=resolved.declared_in,
                problem=f"chart path {chart} points outside the repository",
            )
        return ChartPlan(
            description,
            local_dir=directory,
            values_files=files,
            declared_in=resolved.declared_in,
        )
    found = sources.find(source.kind, source.namespace, source.name, near)
    if source.kind != "HelmRepository" or found is None:
        reason = (
            f"{source.display()} is not declared here"
            if found is None
            else f"charts from {source.kind} sources are not rendered"
        )
        return ChartPlan(f"chart {chart} from {source.display()}", skip_reason=reason)
    url = str(found.spec().get("url") or "")
    if found.spec().get("type") == "oci" and not url.startswith("oci://"):
        url = "oci://" + url.split("://", 1)[-1]
    return ChartPlan(
        f"chart {chart} {version or '*'} from {source.display()} ({url})",
        repo_url=url,
        chart=chart,
        version=version,
        values_files=values_files,
        declared_in=(found.path,),
    )
