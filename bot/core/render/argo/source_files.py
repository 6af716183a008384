"""The files a directory or Kustomize source reads (helm_inputs.py does Helm's)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.core.paths import files_under, join_inside
from bot.core.render.argo.globs import directory_glob_match
from bot.core.render.argo.spec import Declared
from bot.core.render.kustomization import find_kustomization, scan_kustomization
from bot.core.tree_view import TreeView
from bot.model.finding import Finding, Severity

if TYPE_CHECKING:
    from bot.core.render.argo.sources import SourcePlan

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def finding(rule: str, message: str, declared: Declared, field: str, hint: str) -> Finding:
    return Finding(rule, Severity.ERROR, message, declared.location(field), hint=hint)


def _resolved(view: TreeView, path: str) -> tuple[set[str], Finding | None]:
    """`path` plus the symlinks on its way and its real location: a tool only sees inputs."""
    real, problem = view.resolve(path)
    found = {path, *view.symlinks_on(path)}
    if real is not None:
        found.add(real)
    return found, problem


def select_directory_files(
    view: TreeView, path: str, recurse: bool, include: str, exclude: str
) -> list[str]:
    """The files Argo CD's directory source reads, in its walk order."""
    candidates = files_under(path, view.entries) if recurse else view.files_in_dir(path)
    chosen = []
    for file in sorted(candidates):
        if not file.endswith((*MANIFEST_SUFFIXES, ".jsonnet")):
            continue
        rel = file[len(path) + 1 :] if path else file
        if exclude and directory_glob_match(exclude, rel):
            continue
        if include and not directory_glob_match(include, rel):
            continue
        chosen.append(file)
    return chosen


def plan_directory(plan: SourcePlan, view: TreeView, declared: Declared) -> SourcePlan:
    options = plan.source.directory
    files = select_directory_files(
        view,
        plan.path,
        options.recurse if options else False,
        options.include if options else "",
        options.exclude if options else "",
    )
    inputs: set[str] = set()
    findings = []
    for file in files:
        found, problem = _resolved(view, file)
        inputs |= found
        if problem is not None:
            findings.append(problem)
        if file.endswith(".jsonnet"):
            findings.append(
                finding(
                    "argocd-unsupported",
                    f"{file} is Jsonnet; gitops-bot does not evaluate Jsonnet",
                    declared,
                    f"{plan.source.at}.path",
                    "exclude it with directory.exclude, or render it to YAML in the repository",
                )
            )
    renders = frozenset(f for f in files if f.endswith(MANIFEST_SUFFIXES))
    return replace(
        plan, inputs=frozenset(inputs), renders=renders, findings=(*plan.findings, *findings)
    )


def plan_kustomize(plan: SourcePlan, view: TreeView, declared: Declared) -> SourcePlan:
    kfile = find_kustomization(plan.path, view)
    field = plan.source.at
    if kfile is None:
        problem = finding(
            "argocd-path-invalid",
            f"{plan.path or '.'} has no kustomization.yaml, but the source is a Kustomize source",
            declared,
            f"{field}.path",
            "point path at a kustomization directory, or drop the `kustomize:` options",
        )
        return replace(plan, kind=None, findings=(*plan.findings, problem))
    scan = scan_kustomization(kfile, view)
    inputs, renders, findings = set(scan.input_files), set(scan.referenced_files), [*scan.findings]
    options = plan.source.kustomize
    components: list[str] = []
    for i, component in enumerate(options.components if options else ()):
        where = f"{field}.kustomize.components[{i}]"
        local = join_inside(plan.path, component)
        child = find_kustomization(local, view) if local is not None else None
        if local is None:
            findings.append(escape(component, declared, where))
        elif child is not None:
            components.append(component)  # as written: relative to the kustomization
            sub = scan_kustomization(child, view)
            inputs |= sub.input_files
            findings.extend(sub.findings)
        else:
            inputs.add(f"{local}/kustomization.yaml")  # adding it later must re-render
            if not (options and options.ignore_missing_components):
                findings.append(
                    finding(
                        "argocd-path-invalid",
                        f"component {component} has no kustomization in this revision",
                        declared,
                        where,
                        "fix the path, or set kustomize.ignoreMissingComponents",
                    )
                )
    for i, patch in enumerate(options.patches if options else ()):
        path = patch.get("path")
        if isinstance(path, str):
            local = join_inside(plan.path, path)
            if local is None:
                findings.append(escape(path, declared, f"{field}.kustomize.patches[{i}].path"))
            else:
                found, trouble = _resolved(view, local)
                inputs |= found
                findings.extend([trouble] if trouble else [])
    return replace(
        plan,
        inputs=frozenset(inputs),
        renders=frozenset(renders),
        kustomization=kfile,
        components=tuple(components),
        findings=(*plan.findings, *findings),
    )


def escape(value: str, declared: Declared, field: str) -> Finding:
    return finding(
        "path-escapes-repo",
        f"{field} ({value}) points outside the repository; nothing there was read",
        declared,
        field,
        "reference only files inside the repository",
    )
