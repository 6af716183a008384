"""What each source of an Application renders, and every repo file that rendering reads.

The same reading serves discovery (input files, which Applications an app-of-apps renders) and
rendering, so the files a render depends on and the files it is given are the same set.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from bot.core.paths import join_inside
from bot.core.render.argo.envsubst import build_env
from bot.core.render.argo.helm_inputs import plan_helm
from bot.core.render.argo.repo_url import is_this_repo, not_this_repo_reason
from bot.core.render.argo.source_files import escape, finding, plan_directory, plan_kustomize
from bot.core.render.argo.spec import Application, Declared, Source
from bot.core.render.kustomization import find_kustomization
from bot.core.tree_view import TreeView
from bot.model.finding import Finding, Severity
from bot.model.repo_config import RenderConfig


class SourceType(StrEnum):
    DIRECTORY = "directory"
    KUSTOMIZE = "kustomize"
    HELM = "helm"


@dataclass(frozen=True, slots=True)
class SourcePlan:
    """One content source: how it renders and what it reads, or why it is not rendered."""

    source: Source
    kind: SourceType | None = None  # None: not rendered (see `skip` and `findings`)
    path: str = ""
    skip: str = ""
    inputs: frozenset[str] = frozenset()
    renders: frozenset[str] = frozenset()  # files whose objects it emits (app-of-apps children)
    value_files: tuple[str, ...] = ()
    file_parameters: tuple[tuple[str, str], ...] = ()
    kustomization: str = ""
    components: tuple[str, ...] = ()  # kustomize.components that exist, as written
    env: Mapping[str, str] | None = None
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class AppPlan:
    app: Application
    declared: Declared
    sources: tuple[SourcePlan, ...]
    findings: tuple[Finding, ...]

    @property
    def inputs(self) -> frozenset[str]:
        return frozenset(f for s in self.sources for f in s.inputs)

    @property
    def renders(self) -> frozenset[str]:
        return frozenset(f for s in self.sources if s.kind for f in s.renders)

    @property
    def skip_reason(self) -> str:
        """Set when no source renders and nothing is wrong: every source is elsewhere."""
        if any(s.kind for s in self.sources) or self.blocked:
            return ""
        return "; ".join(dict.fromkeys(s.skip for s in self.sources if s.skip))

    @property
    def blocked(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)

    def describe(self) -> str:
        """The sources in the user's words: `apps/web (kustomize)`, `chart redis 19.0.1 from
        https://charts.bitnami.com/bitnami`."""
        parts = []
        for plan in self.sources:
            source, revision = plan.source, plan.source.target_revision
            pinned = f" @ {revision}" if revision not in ("", "HEAD") else ""
            if plan.kind:
                parts.append(f"{plan.path or '.'} ({plan.kind}){pinned}")
            elif source.chart:
                version = revision or "(latest)"
                parts.append(f"chart {source.chart} {version} from {source.repo_url}")
            else:
                parts.append(f"{source.path or '.'}{pinned} from {source.repo_url}")
        return "; ".join(parts)


def _kind(
    source: Source, path: str, view: TreeView, declared: Declared
) -> tuple[SourceType | None, Finding | None]:
    """Argo CD's choice: the one explicit `helm`/`kustomize`/`directory`, else by the files."""
    explicit = [
        kind
        for kind, options in (
            (SourceType.HELM, source.helm),
            (SourceType.KUSTOMIZE, source.kustomize),
            (SourceType.DIRECTORY, source.directory),
        )
        if options is not None
    ]
    if len(explicit) > 1:
        names = ", ".join(explicit)
        return None, finding(
            "argocd-application-invalid",
            f"{source.at} sets options for more than one source type ({names}); Argo CD refuses it",
            declared,
            source.at,
            "keep the options of the one tool that renders this path",
        )
    if explicit:
        return explicit[0], None
    if view.exists(posixpath.join(path, "Chart.yaml")):
        return SourceType.HELM, None
    if find_kustomization(path, view) is not None:
        return SourceType.KUSTOMIZE, None
    return SourceType.DIRECTORY, None


def _located(
    source: Source, declared: Declared, view: TreeView, config: RenderConfig
) -> SourcePlan:
    """The source's directory in this repository, or why it is not rendered from here."""
    plan = SourcePlan(source)
    if not is_this_repo(source.repo_url, config):
        return replace(plan, skip=not_this_repo_reason(source.repo_url, config))
    if source.plugin:
        return replace(plan, skip="config management plugins are never run by gitops-bot")
    problem = None
    raw = (source.path or "").strip()
    path = join_inside("", raw.lstrip("/")) if raw not in ("", ".", "/") else ""
    if source.chart:
        problem = finding(
            "argocd-application-invalid",
            f"{source.at}.chart is set, but repoURL is this Git repository",
            declared,
            f"{source.at}.chart",
            "for a chart in this repository set `path:` to its directory instead of `chart:`",
        )
    elif path is None:
        problem = escape(raw, declared, f"{source.at}.path")
    elif not view.is_dir(path):
        problem = finding(
            "argocd-path-invalid",
            f"{source.at}.path {raw!r} is not a directory in this revision",
            declared,
            f"{source.at}.path",
            "fix the path; Argo CD fails to render an app whose path does not exist",
        )
    return replace(plan, path=path or "", findings=(problem,) if problem else ())


def _plan_source(
    source: Source,
    app: Application,
    declared: Declared,
    *,
    view: TreeView,
    config: RenderConfig,
    refs: Mapping[str, Source],
) -> SourcePlan:
    plan = _located(source, declared, view, config)
    if plan.skip or plan.findings:
        return plan
    path = plan.path
    kind, problem = _kind(source, path, view, declared)
    if kind is None:
        return replace(plan, findings=(problem,) if problem else ())
    env = build_env(
        name=app.name,
        namespace=app.destination_namespace,
        project=app.project,
        repo_url=source.repo_url,
        path=path,
        revision=source.target_revision,
    )
    plan = replace(plan, kind=kind, path=path, env=env)
    if kind is SourceType.HELM:
        return plan_helm(plan, view, declared, refs, config)
    if kind is SourceType.KUSTOMIZE:
        return plan_kustomize(plan, view, declared)
    return plan_directory(plan, view, declared)


def plan_application(
    app: Application,
    declared: Declared,
    view: TreeView,
    config: RenderConfig,
    findings: Iterable[Finding] = (),
) -> AppPlan:
    """Every content source of `app` planned against one revision (ref-only sources only lend
    files to `$ref/...` value files)."""
    refs = {s.ref: s for s in app.sources if s.ref}
    plans = tuple(
        _plan_source(s, app, declared, view=view, config=config, refs=refs)
        for s in app.sources
        if not s.ref_only
    )
    every = (*findings, *(f for p in plans for f in p.findings))
    return AppPlan(app, declared, plans, every)
