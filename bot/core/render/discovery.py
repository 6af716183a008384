"""Find every render target of a revision, with the repo files each one depends on."""

from __future__ import annotations

import fnmatch
import posixpath
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.paths import files_under, has_ancestor_in, is_under, parent_dir
from bot.core.render.apps import combine_with_apps
from bot.core.render.kustomization import KUSTOMIZATION_FILES, KustomizationScan, scan_kustomization
from bot.core.tree_view import YAML_SUFFIXES, TreeView
from bot.model.finding import Finding
from bot.model.render import HelmRelease, RenderTarget, TargetKind
from bot.model.repo_config import CONFIG_PATH, RenderConfig

_MANIFEST_MARKERS = (b"apiVersion", b"kind")


@dataclass(frozen=True, slots=True)
class Discovery:
    targets: tuple[RenderTarget, ...]
    findings: tuple[Finding, ...] = ()

    def by_id(self) -> Mapping[str, RenderTarget]:
        return {t.target_id: t for t in self.targets}


def _ignored(path: str, patterns: Iterable[str]) -> bool:
    if path == CONFIG_PATH or any(part.startswith(".") for part in path.split("/")):
        return True
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns)


def _chart_dirs(paths: Iterable[str]) -> list[str]:
    charts = sorted(parent_dir(p) for p in paths if posixpath.basename(p) == "Chart.yaml")
    # A chart vendored under another chart's charts/ is a dependency, not a release.
    return [c for c in charts if not any(is_under(c, f"{o}/charts") for o in charts if o != c)]


def _chart_meta(chart_dir: str, view: TreeView) -> Mapping[str, Any]:
    load = view.load_yaml(f"{chart_dir}/Chart.yaml" if chart_dir else "Chart.yaml")
    data = load.documents[0].data if load.documents else None
    return data if isinstance(data, Mapping) else {}


def _env_of_values_file(name: str) -> str | None:
    stem, ext = posixpath.splitext(name)
    if ext not in YAML_SUFFIXES:
        return None
    for prefix in ("values-", "values."):
        if stem.startswith(prefix) and len(stem) > len(prefix):
            return stem[len(prefix) :]
    return None


def _helm_targets(chart_dir: str, view: TreeView, config: RenderConfig) -> list[RenderTarget]:
    meta = _chart_meta(chart_dir, view)
    chart_files = files_under(chart_dir, view.entries)
    if meta.get("type") == "library":
        reason = "library chart: rendered only by the charts that depend on it"
        return [
            RenderTarget(
                f"helm:{chart_dir}", TargetKind.HELM, chart_dir, chart_files, skip_reason=reason
            )
        ]
    name = str(meta.get("name") or posixpath.basename(chart_dir) or "release")
    configured = [r.release for r in config.helm_releases if r.chart == chart_dir]
    if configured:
        # A values file of one configured release must not make its siblings re-render.
        others = {f for r in configured for f in r.value_files}
        return [
            RenderTarget(
                target_id=f"helm:{chart_dir}#"
                + (f"{r.namespace}/{r.release_name}" if r.namespace else r.release_name),
                kind=TargetKind.HELM,
                path=chart_dir,
                input_files=(chart_files - (others - set(r.value_files))) | set(r.value_files),
                helm=r,
            )
            for r in configured
        ]
    envs = {
        f: env
        for f in chart_files
        if parent_dir(f) == chart_dir and (env := _env_of_values_file(posixpath.basename(f)))
    }
    if not envs:
        return [
            RenderTarget(
                f"helm:{chart_dir}", TargetKind.HELM, chart_dir, chart_files, HelmRelease(name, "")
            )
        ]
    targets = []
    for values_file, env in sorted(envs.items(), key=lambda item: item[1]):
        other_envs = frozenset(envs) - {values_file}
        targets.append(
            RenderTarget(
                target_id=f"helm:{chart_dir}#{env}",
                kind=TargetKind.HELM,
                path=chart_dir,
                input_files=chart_files - other_envs,
                helm=HelmRelease(name, "", (values_file,)),
            )
        )
    return targets


def _looks_like_manifest(path: str, view: TreeView) -> bool:
    read = view.read(path)
    if read.content is None:
        return read.finding is not None  # unreadable: render it so the problem is reported
    return all(marker in read.content for marker in _MANIFEST_MARKERS)


def _plain_targets(candidates: Iterable[str], view: TreeView) -> list[RenderTarget]:
    by_dir: dict[str, set[str]] = defaultdict(set)
    for path in candidates:
        if _looks_like_manifest(path, view):
            by_dir[parent_dir(path)].add(path)
    return [
        RenderTarget(f"plain:{d or '.'}", TargetKind.PLAIN, d, frozenset(files))
        for d, files in sorted(by_dir.items())
    ]


def _covered_dirs(scans: Mapping[str, KustomizationScan]) -> frozenset[str]:
    """Kustomization dirs rendered as part of a root: reachable from a dir nobody references.

    A dir inside a reference cycle (itself, or a <-> b) is reachable from no root, so it stays a
    target of its own and kustomize's "cycle detected" error is reported instead of vanishing.
    """
    referenced = {d for scan in scans.values() for d in scan.referenced_dirs}
    roots = [scan for k, scan in scans.items() if parent_dir(k) not in referenced]
    return frozenset(d for scan in roots for d in scan.referenced_dirs)


def discover_targets(view: TreeView, config: RenderConfig) -> Discovery:
    """Kustomize roots, Helm releases of local charts, and folders of plain manifests.

    A kustomization referenced by another one is rendered as part of it, not on its own; plain
    YAML owned by a kustomization or a chart is never rendered twice.
    """
    paths = [p for p in view.entries if not _ignored(p, config.ignore)]
    charts = _chart_dirs(paths)
    chart_set = set(charts)
    in_chart = {p for p in paths if has_ancestor_in(p, chart_set)}
    kustomization_files = [
        p for p in paths if posixpath.basename(p) in KUSTOMIZATION_FILES and p not in in_chart
    ]
    scans: dict[str, KustomizationScan] = {
        k: scan_kustomization(k, view) for k in kustomization_files
    }
    referenced_dirs = {d for scan in scans.values() for d in scan.referenced_dirs}
    referenced_files = {f for scan in scans.values() for f in scan.referenced_files}
    kustomize_dirs = {parent_dir(k) for k in kustomization_files}

    covered = _covered_dirs(scans)
    targets: list[RenderTarget] = []
    for kpath, scan in sorted(scans.items()):
        directory = parent_dir(kpath)
        if scan.is_component or directory in covered:
            continue
        targets.append(
            RenderTarget(
                target_id=f"kustomize:{directory or '.'}",
                kind=TargetKind.KUSTOMIZE,
                path=directory,
                input_files=scan.input_files,
                blocked_by=scan.findings,
            )
        )
    for chart in charts:
        targets.extend(_helm_targets(chart, view, config))
    plain_candidates = [
        p
        for p in paths
        if p.endswith(YAML_SUFFIXES)
        and p not in in_chart
        and p not in referenced_files
        and parent_dir(p) not in kustomize_dirs
        and not has_ancestor_in(p, referenced_dirs)
    ]
    targets.extend(_plain_targets(plain_candidates, view))
    with_apps, findings = combine_with_apps(view, config, tuple(targets))
    return Discovery(targets=with_apps, findings=findings)
