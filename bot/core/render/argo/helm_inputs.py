"""A Helm source's files: the chart, its value files (confined to the repository, `$ref/...`
from another source of the same Application) and `fileParameters`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from bot.core.paths import files_under, join_inside
from bot.core.render.argo.envsubst import envsubst
from bot.core.render.argo.repo_url import is_this_repo, not_this_repo_reason
from bot.core.render.argo.spec import Declared, HelmOptions, Source
from bot.core.tree_view import TreeView
from bot.model.finding import Finding, Severity
from bot.model.repo_config import RenderConfig
from bot.model.resource import Location

if TYPE_CHECKING:
    from bot.core.render.argo.sources import SourcePlan

_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Resolved:
    """A value file's repo path, or why it is not used (skip: the whole source is skipped)."""

    path: str = ""
    skip: str = ""
    finding: Finding | None = None


def _problem(rule: str, message: str, declared: Declared, field: str, hint: str) -> _Resolved:
    return _Resolved(
        finding=Finding(rule, Severity.ERROR, message, declared.location(field), hint=hint)
    )


def _resolve(
    raw: str,
    field: str,
    chart: str,
    refs: Mapping[str, Source],
    context: tuple[Declared, Mapping[str, str], RenderConfig],
) -> _Resolved:
    declared, env, config = context
    base = chart
    if raw.startswith("$"):
        name, _, rest = raw[1:].partition("/")
        ref = refs.get(name)
        if ref is None:
            return _problem(
                "argocd-application-invalid",
                f"{field} ({raw}) refers to ${name}, but no source of this Application has "
                f"`ref: {name}`",
                declared,
                field,
                f"add `ref: {name}` to the source that holds the file",
            )
        if not is_this_repo(ref.repo_url, config):
            return _Resolved(skip=not_this_repo_reason(ref.repo_url, config))
        # A $ref path is relative to the root of the referenced repository.
        value, base = envsubst(rest, env)[0], ""
    else:
        value = envsubst(raw, env)[0]
        if _URL.match(value):
            return _problem(
                "remote-values-not-allowed",
                f"{field} is a URL ({value}); gitops-bot never fetches remote value files",
                declared,
                field,
                "commit the values file to this repository and reference it by path",
            )
    if value.startswith("/"):  # Argo CD reads absolute paths from the repository root
        value, base = value.lstrip("/"), ""
    local = join_inside(base, value)
    if local is None:
        return _problem(
            "path-escapes-repo",
            f"{field} ({raw}) points outside the repository; it was not read",
            declared,
            field,
            "use a value file inside the repository (paths are relative to the chart)",
        )
    return _Resolved(path=local)


def plan_helm(
    plan: SourcePlan,
    view: TreeView,
    declared: Declared,
    refs: Mapping[str, Source],
    config: RenderConfig,
) -> SourcePlan:
    chart = plan.path
    field = plan.source.at
    chart_file = f"{chart}/Chart.yaml" if chart else "Chart.yaml"
    inputs = set(files_under(chart, view.entries))
    findings: list[Finding] = []
    if not view.exists(chart_file):
        findings.append(
            Finding(
                "argocd-path-invalid",
                Severity.ERROR,
                f"{chart or '.'} has no Chart.yaml, but the source is a Helm source",
                declared.location(f"{field}.path"),
                hint="point path at a chart directory, or drop the `helm:` options",
            )
        )
    else:
        findings.extend(_dependency_escapes(chart, chart_file, view))
    options = plan.source.helm or HelmOptions()
    context = (declared, plan.env or {}, config)
    value_files: list[str] = []
    for raw, item_field in options.value_files:
        found = _resolve(raw, item_field, chart, refs, context)
        if found.skip:
            return replace(plan, kind=None, skip=found.skip, findings=())
        if found.finding is not None:
            findings.append(found.finding)
            continue
        path, missing = _read_path(
            view, found.path, inputs=inputs, findings=findings, declared=declared, field=item_field
        )
        if missing and options.ignore_missing_value_files:
            continue
        if missing:
            findings.append(_missing(raw, found.path, declared, item_field))
            continue
        value_files.append(path)
    file_parameters: list[tuple[str, str]] = []
    for parameter in options.file_parameters:
        where = f"{parameter.at}.path"
        found = _resolve(parameter.value, where, chart, {}, context)
        if found.finding is not None:
            findings.append(found.finding)
            continue
        path, missing = _read_path(
            view, found.path, inputs=inputs, findings=findings, declared=declared, field=where
        )
        if missing:
            findings.append(_missing(parameter.value, path, declared, where))
        else:
            file_parameters.append((parameter.name, path))
    templates = f"{chart}/templates/" if chart else "templates/"
    return replace(
        plan,
        inputs=frozenset(inputs),
        renders=frozenset(f for f in inputs if f.startswith(templates)),
        value_files=tuple(value_files),
        file_parameters=tuple(file_parameters),
        findings=(*plan.findings, *findings),
    )


def _read_path(
    view: TreeView,
    path: str,
    *,
    inputs: set[str],
    findings: list[Finding],
    declared: Declared,
    field: str,
) -> tuple[str, bool]:
    """Track `path` (and the symlinks behind it) as an input; (path, missing)."""
    real, problem = view.resolve(path)
    inputs.update({path, *view.symlinks_on(path)})
    if problem is not None:
        findings.append(replace(problem, location=declared.location(field)))
        return path, False
    assert real is not None
    inputs.add(real)
    return path, not view.exists(real)


def _missing(raw: str, path: str, declared: Declared, field: str) -> Finding:
    return Finding(
        "argocd-value-file-missing",
        Severity.ERROR,
        f"{field} ({raw}) names {path}, which does not exist in this revision",
        declared.location(field),
        hint="add the file, fix the path, or set helm.ignoreMissingValueFiles: true",
    )


def _dependency_escapes(chart: str, chart_file: str, view: TreeView) -> list[Finding]:
    load = view.load_yaml(chart_file)
    doc = load.documents[0] if load.documents else None
    body: Any = doc.data if doc is not None else None
    if doc is None or not isinstance(body, Mapping):
        return list(load.findings)
    findings = []
    dependencies = body.get("dependencies")
    for i, dependency in enumerate(dependencies if isinstance(dependencies, list) else []):
        repository = dependency.get("repository") if isinstance(dependency, Mapping) else None
        if (
            isinstance(repository, str)
            and repository.startswith("file://")
            and join_inside(chart, repository.removeprefix("file://")) is None
        ):
            findings.append(
                Finding(
                    "path-escapes-repo",
                    Severity.ERROR,
                    f"chart dependency {repository} points outside the repository",
                    Location(chart_file, doc.field_lines.get(f"dependencies[{i}].repository", 1)),
                    hint="vendor the dependency into the repository",
                )
            )
    return findings
