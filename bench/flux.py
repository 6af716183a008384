"""Benchmark: affected-only review of a Flux repository vs rendering every app, same run.

A generated repo: a bootstrap Kustomization, an `apps` Kustomization listing 300 per-app
Kustomizations (each with postBuild variables), each applying one HelmRelease of one of 3 local
charts. The PR changes one app's values. Only that app's Kustomization and HelmRelease may
render (their parents are rendered to read them, not diffed).

Run: .venv/bin/python bench/flux.py   (prints one summary line last; exit 1 only on errors)
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import commit_main_then_branch_pr, git, run_review, targets_with

from bot.model.finding import Severity
from bot.model.render import CoverageStatus
from bot.model.report import Report

APPS, CHARTS, PR_APP = 300, ("web", "worker", "cache"), "app042"
EXPECTED_TARGETS = {f"flux-ks:flux-system/{PR_APP}@prod", f"flux-hr:{PR_APP}/{PR_APP}@prod"}
TARGET_S, TARGET_X = 3.0, 10.0
RUNS = 3
_SYNC = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec: {url: https://example.com/fleet.git, ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: flux-system, namespace: flux-system}
spec:
  path: ./clusters/prod
  sourceRef: {kind: GitRepository, name: flux-system}
"""
_APPS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  path: ./apps
  sourceRef: {kind: GitRepository, name: flux-system}
"""
_APP_KS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: @APP@, namespace: flux-system}
spec:
  path: ./apps/@APP@/app
  targetNamespace: @APP@
  sourceRef: {kind: GitRepository, name: flux-system}
  dependsOn: [{name: apps}]
  postBuild:
    substitute: {app: @APP@, tier: @CHART@}
"""
_RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: @APP@}
spec:
  interval: 10m
  chart:
    spec:
      chart: ./charts/@CHART@
      sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}
  values:
    image: registry.example.com/${app}
    tag: "1.0.@N@"
    replicas: @R@
    tier: ${tier}
"""
_TEMPLATES = {
    "deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels: {app.kubernetes.io/name: '{{ .Release.Name }}', tier: '{{ .Values.tier }}'}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app.kubernetes.io/name: '{{ .Release.Name }}'}
  template:
    metadata:
      labels: {app.kubernetes.io/name: '{{ .Release.Name }}'}
    spec:
      serviceAccountName: {{ .Release.Name }}
      containers:
        - name: app
          image: '{{ .Values.image }}:{{ .Values.tag }}'
          resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {memory: 128Mi}}
""",
    "service.yaml": """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  selector: {app.kubernetes.io/name: '{{ .Release.Name }}'}
  ports: [{name: http, port: 80}]
""",
    "serviceaccount.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n"
    "  name: {{ .Release.Name }}\n",
    "configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
    "  name: {{ .Release.Name }}-config\ndata:\n  TIER: '{{ .Values.tier }}'\n",
}


def _files() -> dict[str, str]:
    files = {
        "clusters/prod/flux-system/gotk-sync.yaml": _SYNC,
        "clusters/prod/flux-system/kustomization.yaml": "resources: [gotk-sync.yaml]\n",
        "clusters/prod/apps.yaml": _APPS,
        "apps/kustomization.yaml": "resources:\n"
        + "".join(f"  - app{n:03d}/ks.yaml\n" for n in range(APPS)),
    }
    for chart in CHARTS:
        files[f"charts/{chart}/Chart.yaml"] = f"apiVersion: v2\nname: {chart}\nversion: 1.0.0\n"
        files[f"charts/{chart}/values.yaml"] = "replicas: 1\ntier: none\n"
        for name, body in _TEMPLATES.items():
            files[f"charts/{chart}/templates/{name}"] = body
    for n in range(APPS):
        app, chart = f"app{n:03d}", CHARTS[n % len(CHARTS)]

        def fill(text: str, app: str = app, chart: str = chart, n: int = n) -> str:
            return text.replace("@APP@", app).replace("@CHART@", chart).replace("@N@", str(n))

        files[f"apps/{app}/ks.yaml"] = fill(_APP_KS)
        files[f"apps/{app}/app/kustomization.yaml"] = "resources: [release.yaml]\n"
        files[f"apps/{app}/app/release.yaml"] = fill(_RELEASE).replace("@R@", "1")
    return files


def build_repo(repo: Path) -> int:
    """`main` with the apps, `pr` changing one app's replicas and tag. Returns the file count."""
    files = _files()
    commit_main_then_branch_pr(repo, files, f"{APPS} apps")
    release = repo / "apps" / PR_APP / "app" / "release.yaml"
    text = release.read_text().replace("replicas: 1", "replicas: 3")
    release.write_text(text.replace(f'tag: "1.0.{int(PR_APP[3:])}"', 'tag: "1.1.0"'))
    git(repo, "commit", "--quiet", "--all", "--message", f"Scale {PR_APP}")
    return len(files)


def check(affected: Report, full: Report) -> list[str]:
    """Why the two reports disagree (or are wrong), empty when they agree."""
    reports = {"affected-only": affected, "render-all": full}
    problems = [
        f"{n}: [{f.rule_id}] {f.message}"
        for n, r in reports.items()
        for f in r.findings
        if f.severity is Severity.ERROR
    ]
    all_ids = {c.target_id for c in full.coverage}
    if len(all_ids) != 2 * APPS + 2:
        problems.append(f"expected {2 * APPS + 2} apps, found {len(all_ids)}")
    if {c.target_id for c in affected.coverage} != all_ids:
        problems.append("the two reports list different targets")
    if targets_with(full, CoverageStatus.RENDERED) != all_ids:
        problems.append("render-all did not render every target")
    rendered = targets_with(affected, CoverageStatus.RENDERED)
    if rendered != EXPECTED_TARGETS:
        problems.append(f"affected-only rendered {sorted(rendered)}, expected {EXPECTED_TARGETS}")
    if targets_with(affected, CoverageStatus.UNCHANGED) != all_ids - EXPECTED_TARGETS:
        problems.append("affected-only did not report every other target as unchanged")
    if {(d.target, d.key): d for d in affected.diffs} != {(d.target, d.key): d for d in full.diffs}:
        problems.append("the diffs differ between affected-only and render-all")
    changed = {(d.target, d.key.kind, d.key.name) for d in affected.diffs}
    expected = {
        (f"flux-ks:flux-system/{PR_APP}@prod", "HelmRelease", PR_APP),
        (f"flux-hr:{PR_APP}/{PR_APP}@prod", "Deployment", PR_APP),
    }
    if changed != expected:
        problems.append(f"unexpected diffs: {sorted(changed)}")
    return problems


def child_affected(repo: Path) -> None:
    """Runs in a fresh interpreter: one affected-only review, then its own peak RSS."""
    wall, _report = run_review(repo, render_all=False)
    print(json.dumps([wall, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss]))


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--child-affected":
        child_affected(Path(sys.argv[2]))
        return 0
    with tempfile.TemporaryDirectory(prefix="gitops-bot-bench-flux-") as tmp:
        repo = Path(tmp)
        started = time.perf_counter()
        files = build_repo(repo)
        print(
            f"repo: {APPS} HelmReleases over {len(CHARTS)} local charts, {APPS + 2} Flux "
            f"Kustomizations, {files} files; PR changes apps/{PR_APP}/app/release.yaml (built in "
            f"{time.perf_counter() - started:.1f} s)"
        )
        argv = [sys.executable, __file__, "--child-affected", str(repo)]
        out = subprocess.run(argv, check=True, capture_output=True).stdout
        child_s, self_kb = json.loads(out)
        print(
            f"fresh process: affected-only review {child_s:.2f} s, peak RSS {self_kb / 1024:.0f} MB"
        )
        times, affected = [], None
        for _ in range(RUNS):
            wall, affected = run_review(repo, render_all=False)
            times.append(wall)
        assert affected is not None
        print("affected-only runs: " + ", ".join(f"{t:.2f} s" for t in times))
        full_s, full = run_review(repo, render_all=True)
    best = min(times)
    head_n = sum(c.head_resources for c in full.coverage)
    print(
        f"render-all: {len(full.coverage)} apps x 2 revisions, {head_n} resources at head, "
        f"{full_s:.1f} s"
    )
    print(
        f"affected-only: {len(targets_with(affected, CoverageStatus.RENDERED))} apps "
        f"rendered, {len(targets_with(affected, CoverageStatus.UNCHANGED))} unchanged: "
        f"{affected.plan().line()}"
    )
    problems = check(affected, full)
    for problem in problems[:20]:
        print(f"ERROR: {problem}")
    if problems:
        print("flux: ERROR (results of affected-only and render-all disagree)")
        return 1
    speedup = full_s / best
    ok = best <= TARGET_S and speedup >= TARGET_X
    print(
        f"flux: {best:.2f} s (target <= {TARGET_S:g} s); render-all {full_s:.1f} s = "
        f"{speedup:.1f}x (target >= {TARGET_X:g}x) {'PASS' if ok else 'MISS'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
