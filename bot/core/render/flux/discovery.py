"""Flux apps of one revision, statically: which Kustomizations and HelmReleases exist, in which
cluster, applied by which parent, and every repository file each one's render depends on.

Roots are the apps no other Kustomization applies (the bootstrap `flux-system` applies itself);
their cluster comes from configuration or a `clusters/<name>/` directory. Every app a
Kustomization's build declares is its child, in the same cluster: an object built by
Kustomizations of two clusters is two apps (`…@staging`, `…@production`).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.paths import files_under
from bot.core.render.app_context import AppTargets
from bot.core.render.flux.charts import plan_chart
from bot.core.render.flux.clusters import cluster_of
from bot.core.render.flux.layout import kustomize_namespaces
from bot.core.render.flux.objects import (
    APP_KINDS,
    Declared,
    ObjectIndex,
    is_complete_app,
    scan_objects,
)
from bot.core.render.flux.plans import PLAN_KEY, HelmReleasePlan, KustomizationPlan
from bot.core.render.flux.reading import (
    data_objects,
    depends_on,
    read_static,
    references,
    source_text,
    spec_path,
)
from bot.core.render.flux.sources import SourceIndex
from bot.core.tree_view import TreeView
from bot.model.finding import Finding, Severity
from bot.model.render import AppRef, RenderTarget, TargetKind
from bot.model.repo_config import RenderConfig


@dataclass(slots=True)
class _Instance:
    decl: Declared
    namespace: str
    cluster: str
    parent: _Instance | None
    target_id: str = ""
    child_inputs: frozenset[str] = frozenset()
    # The parent applies it exactly as written: no patch, namespace, prefix or substitution of
    # any Kustomization above it can touch it, so it renders without rendering its parents.
    standalone: bool = True
    passes_through: bool = False  # a Kustomization whose children are standalone


# Kustomization settings that change the objects it applies (so also its child apps).
_OVERRIDES = (
    "targetNamespace",
    "namePrefix",
    "nameSuffix",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "components",
    "postBuild",
)


def target_id(kind: str, namespace: str, name: str, cluster: str) -> str:
    prefix = "flux-ks" if kind == "Kustomization" else "flux-hr"
    return f"{prefix}:{namespace}/{name}" + (f"@{cluster}" if cluster else "")


class _Discovery:
    def __init__(self, view: TreeView, config: RenderConfig, index: ObjectIndex) -> None:
        self.view, self.config, self.index = view, config, index
        early = SourceIndex(index, {})
        self.static = {
            d: read_static(d, early, view, config)
            for d in index.apps
            if d.kind == "Kustomization" and is_complete_app(d)
        }
        namespaces: dict[str, set[str]] = defaultdict(set)
        self.kustomized = kustomize_namespaces(view, config.ignore)
        for path, found in self.kustomized.items():
            namespaces[path] |= found
        self.includers: dict[str, list[Declared]] = defaultdict(list)
        for decl, static in self.static.items():
            for path, namespace in (static.layout.resource_files if static.layout else {}).items():
                self.includers[path].append(decl)
                if namespace:
                    namespaces[path].add(namespace)
        self.sources = SourceIndex(index, {k: frozenset(v) for k, v in namespaces.items()})
        self.findings: list[Finding] = []
        self.targets: list[RenderTarget] = []
        self.covers: set[str] = set()
        self._chart_files: dict[str, frozenset[str]] = {}

    def run(self) -> None:
        seen: dict[tuple[str, str, str, str], _Instance] = {}
        done: set[Declared] = set()
        roots = self._roots()
        if not roots:  # Kustomizations that only apply each other: start from the first
            roots = sorted(self.static, key=lambda d: (d.path, d.line))[:1]
        while roots:
            queue = deque(self._root(decl) for decl in roots)
            while queue:
                instance = queue.popleft()
                key = (instance.decl.kind, instance.namespace, instance.decl.name, instance.cluster)
                if key in seen:
                    self._duplicate(seen[key], instance)
                    continue
                seen[key] = instance
                done.add(instance.decl)
                if instance.decl.kind == "Kustomization":
                    self._kustomization(instance)
                    queue.extend(self._children(instance))
                else:
                    self._helm_release(instance)
            # Kustomizations that apply each other (a cycle) have no root: start from the first.
            left = sorted((d for d in self.static if d not in done), key=lambda d: (d.path, d.line))
            roots = left[:1]

    def _root(self, decl: Declared) -> _Instance:
        paths = [decl.path]
        static = self.static.get(decl)
        if static is not None and static.directory is not None:
            paths.append(static.directory + "/")
        cluster = cluster_of(paths, self.config)
        kustomized = self.kustomized.get(decl.path, set())
        namespace = next(iter(kustomized)) if len(kustomized) == 1 else decl.namespace
        return _Instance(decl, namespace or "default", cluster, None)

    def _roots(self) -> list[Declared]:
        roots = [
            d
            for d in self.index.apps
            if is_complete_app(d) and not [k for k in self.includers.get(d.path, ()) if k != d]
        ]
        return sorted(roots, key=lambda d: (d.path, d.line))

    def _children(self, parent: _Instance) -> list[_Instance]:
        static = self.static.get(parent.decl)
        if static is None or static.layout is None:
            return []
        children = []
        for path, namespace in sorted(static.layout.resource_files.items()):
            for decl in self.index.by_file.get(path, ()):
                if (decl.group, decl.kind) in APP_KINDS and decl != parent.decl:
                    effective = namespace or decl.namespace or "default"
                    child = _Instance(decl, effective, parent.cluster, parent)
                    child.standalone = parent.passes_through
                    children.append(child)
        return children

    def _duplicate(self, first: _Instance, again: _Instance) -> None:
        if first.decl == again.decl and first.parent is again.parent:
            return
        where = f" in cluster {again.cluster}" if again.cluster else ""
        by = again.parent.decl.display() if again.parent else again.decl.path
        kept = first.parent.decl.display() if first.parent else first.decl.path
        self.findings.append(
            Finding(
                rule_id="flux-duplicate-app",
                severity=Severity.WARNING,
                message=f"{again.decl.display()} is applied twice{where} (also by {by}); "
                f"only the one from {kept} is rendered",
                location=again.decl.location(),
                hint="apply each Flux object from one Kustomization per cluster",
            )
        )

    def _app(self, instance: _Instance, source: str) -> AppRef:
        spec = instance.decl.spec()
        return AppRef(
            kind=instance.decl.kind,
            namespace=instance.namespace,
            name=instance.decl.name,
            source=source,
            declared_in=instance.decl.location(),
            depends_on=depends_on(spec, instance.namespace),
        )

    def _kustomization(self, instance: _Instance) -> None:
        decl = instance.decl
        static = self.static.get(decl) or read_static(decl, self.sources, self.view, self.config)
        spec = decl.spec()
        post_build = spec.get("postBuild")
        refs = references(post_build, "substituteFrom") if isinstance(post_build, Mapping) else []
        config_maps, secrets = data_objects(refs, instance.namespace, self.sources, decl.path)
        parent_inputs = instance.parent.child_inputs if instance.parent else frozenset()
        spec_inputs = (
            frozenset(
                {decl.path, *static.source.declared_in, *(d.path for d in config_maps.values())}
            )
            | parent_inputs
        )
        layout = static.layout
        instance.passes_through = (
            instance.standalone
            and layout is not None
            and layout.transparent
            and not any(spec.get(field) for field in _OVERRIDES)
        )
        instance.target_id = target_id(decl.kind, instance.namespace, decl.name, instance.cluster)
        instance.child_inputs = spec_inputs | (layout.config_files if layout else frozenset())
        if layout is not None:
            self.covers.update(layout.input_files)
        raw = spec_path(decl) or "./"
        blocked = (
            *static.problems,
            *(f for f in (layout.findings if layout else ()) if f.severity is Severity.ERROR),
        )
        plan = KustomizationPlan(
            decl,
            instance.namespace,
            static.source,
            static.directory,
            layout,
            config_maps,
            secrets,
            standalone=instance.standalone and instance.parent is not None,
        )
        self.targets.append(
            RenderTarget(
                target_id=instance.target_id,
                kind=TargetKind.FLUX_KUSTOMIZATION,
                path=static.directory or "",
                input_files=spec_inputs | (layout.input_files if layout else frozenset()),
                blocked_by=blocked,
                skip_reason=static.source.skip_reason,
                app=self._app(instance, source_text(decl, static, raw)),
                cluster=instance.cluster,
                parent=instance.parent.target_id if instance.parent else "",
                spec={PLAN_KEY: plan},
            )
        )

    def _files_of(self, directory: str) -> frozenset[str]:
        """Files of a chart directory, computed once: many releases share a chart."""
        found = self._chart_files.get(directory)
        if found is None:
            found = self._chart_files[directory] = files_under(directory, self.view.entries)
        return found

    def _helm_release(self, instance: _Instance) -> None:
        decl = instance.decl
        chart = plan_chart(decl, instance.namespace, self.sources, self.config)
        refs = references(decl.spec(), "valuesFrom")
        config_maps, _secrets = data_objects(refs, instance.namespace, self.sources, decl.path)
        chart_files = (
            self._files_of(chart.local_dir) if chart.local_dir is not None else frozenset()
        )
        self.covers.update(chart_files)
        inputs = (
            frozenset(
                {
                    decl.path,
                    *chart.declared_in,
                    *chart.values_files,
                    *(d.path for d in config_maps.values()),
                }
            )
            | chart_files
            | (instance.parent.child_inputs if instance.parent else frozenset())
        )
        blocked: tuple[Finding, ...] = ()
        if chart.problem:
            blocked = (
                Finding(
                    rule_id="path-escapes-repo",
                    severity=Severity.ERROR,
                    message=f"{decl.display()}: {chart.problem}; nothing outside it is read",
                    location=decl.location("spec.chart.spec.chart"),
                    hint="give chart paths relative to the repository root, inside it",
                ),
            )
        instance.target_id = target_id(decl.kind, instance.namespace, decl.name, instance.cluster)
        self.targets.append(
            RenderTarget(
                target_id=instance.target_id,
                kind=TargetKind.FLUX_HELMRELEASE,
                path=chart.local_dir or "",
                input_files=inputs,
                blocked_by=blocked,
                skip_reason=chart.skip_reason,
                skip_unexpected=bool(chart.skip_reason),
                app=self._app(instance, chart.description),
                cluster=instance.cluster,
                parent=instance.parent.target_id if instance.parent else "",
                spec={
                    PLAN_KEY: HelmReleasePlan(
                        decl,
                        instance.namespace,
                        chart,
                        config_maps,
                        standalone=instance.standalone and instance.parent is not None,
                    )
                },
            )
        )


def discover(view: TreeView, config: RenderConfig) -> AppTargets:
    index = scan_objects(view, config)
    if not index.apps:
        return AppTargets(())
    discovery = _Discovery(view, config, index)
    discovery.run()
    return AppTargets(
        tuple(sorted(discovery.targets, key=lambda t: t.target_id)),
        tuple(discovery.findings),
        covers=frozenset(discovery.covers),
    )
