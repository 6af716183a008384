"""Benchmark: affected-only review vs rendering every target, on a generated 200-app repo.

Run: .venv/bin/python bench/review.py   (prints one summary line last; exit 1 only on errors)
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

from bot.model.render import CoverageStatus
from bot.model.report import Report
from bot.settings import load_settings

KUSTOMIZE_APPS, HELM_APPS, PR_APP = 150, 50, "app007"
EXPECTED_TARGETS = {f"kustomize:apps/{PR_APP}/overlays/prod"}
TARGET_S, TARGET_X, TARGET_MB = 2.0, 10.0, 300.0
RUNS = 3
# Shared bodies: "@APP@" is the app name, "@N@" its number. Kustomize adds labels/namespaces.
_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: @APP@
spec:
  replicas: 1
  template:
    spec:
      serviceAccountName: @APP@
      containers:
        - name: @APP@
          image: registry.example.com/@APP@:1.0.@N@
          ports: [{name: http, containerPort: 8080}]
          envFrom: [{configMapRef: {name: @APP@-config}}]
          resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {memory: 128Mi}}
"""
_KUSTOMIZE_BASE = {
    "deployment.yaml": _DEPLOYMENT,
    "service.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: @APP@\nspec:\n"
    "  ports:\n    - {name: http, port: 80, targetPort: http}\n",
    "configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: @APP@-config\n"
    "data:\n  LOG_LEVEL: info\n  FEATURE_FLAGS: a,b,c\n  APP_ID: '@N@'\n",
    "serviceaccount.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: @APP@\n",
    "pdb.yaml": "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: @APP@\n"
    "spec:\n  minAvailable: 1\n  selector:\n    matchLabels: {app.kubernetes.io/name: @APP@}\n",
    "kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
    "labels:\n  - pairs: {app.kubernetes.io/name: @APP@}\n    includeSelectors: true\n"
    "resources: [deployment.yaml, service.yaml, configmap.yaml, serviceaccount.yaml, pdb.yaml]\n",
}
_OVERLAY = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: @ENV@
resources: [../../base]
patches: [{path: replicas.yaml}]
images:
  - name: registry.example.com/@APP@
    newTag: 1.0.@N@
"""
_REPLICAS = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: @APP@\nspec:\n  replicas: @R@\n"
)
_HELPERS = """\
{{- define "app.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}
"""
_META = """\
metadata:
  name: {{ .Chart.Name }}@SUFFIX@
  namespace: {{ .Values.namespace }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
"""
_SELECTOR = "    matchLabels: {app.kubernetes.io/name: '{{ .Chart.Name }}'}\n"
_CHART_TEMPLATES = {
    "deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\n" + _META + "spec:\n"
    "  replicas: {{ .Values.replicas }}\n  selector:\n" + _SELECTOR + "  template:\n"
    "    metadata:\n      labels: {app.kubernetes.io/name: '{{ .Chart.Name }}'}\n"
    "    spec:\n      serviceAccountName: {{ .Chart.Name }}\n      containers:\n"
    "        - name: app\n          image: '{{ .Values.image }}:{{ .Values.tag }}'\n"
    "          resources: {{- toYaml .Values.resources | nindent 12 }}\n",
    "service.yaml": "apiVersion: v1\nkind: Service\n" + _META + "spec:\n  selector:"
    " {app.kubernetes.io/name: '{{ .Chart.Name }}'}\n  ports: [{name: http, port: 80}]\n",
    "configmap.yaml": "apiVersion: v1\nkind: ConfigMap\n"
    + _META.replace("@SUFFIX@", "-config")
    + "data:\n  LOG_LEVEL: {{ .Values.logLevel }}\n",
    "serviceaccount.yaml": "apiVersion: v1\nkind: ServiceAccount\n" + _META,
    "pdb.yaml": "apiVersion: policy/v1\nkind: PodDisruptionBudget\n"
    + _META
    + "spec:\n  minAvailable: 1\n  selector:\n"
    + _SELECTOR,
}
_VALUES = "image: registry.example.com/@APP@\ntag: 2.0.@N@\nreplicas: 1\nlogLevel: info\n"
_VALUES += "resources:\n  requests: {cpu: 50m, memory: 64Mi}\n"
_NAMESPACES = "".join(
    f"---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n" for ns in ("staging", "prod")
)


def _files() -> dict[str, str]:
    files = {"clusters/platform/namespaces.yaml": _NAMESPACES}
    for n in range(KUSTOMIZE_APPS):
        app, root = f"app{n:03d}", f"apps/app{n:03d}"
        own = {f"{root}/base/{name}": body for name, body in _KUSTOMIZE_BASE.items()}
        for env, replicas in (("staging", 1), ("prod", 3)):
            own[f"{root}/overlays/{env}/kustomization.yaml"] = _OVERLAY.replace("@ENV@", env)
            own[f"{root}/overlays/{env}/replicas.yaml"] = _REPLICAS.replace("@R@", str(replicas))
        files |= {k: v.replace("@APP@", app).replace("@N@", str(n)) for k, v in own.items()}
    for n in range(KUSTOMIZE_APPS, KUSTOMIZE_APPS + HELM_APPS):
        app, root = f"app{n:03d}", f"charts/app{n:03d}"
        files[f"{root}/Chart.yaml"] = f"apiVersion: v2\nname: {app}\nversion: 0.1.{n}\n"
        files[f"{root}/values.yaml"] = _VALUES.replace("@APP@", app).replace("@N@", str(n))
        for env, replicas in (("staging", 1), ("prod", 3)):
            files[f"{root}/values-{env}.yaml"] = f"namespace: {env}\nreplicas: {replicas}\n"
        files[f"{root}/templates/_helpers.tpl"] = _HELPERS
        for name, body in _CHART_TEMPLATES.items():
            files[f"{root}/templates/{name}"] = body.replace("@SUFFIX@", "")
    return files


def build_repo(repo: Path) -> int:
    """`main` with 200 apps, `pr` bumping one app's prod image and replicas. Returns file count."""
    files = _files()
    commit_main_then_branch_pr(repo, files, "200 apps")
    prod = repo / "apps" / PR_APP / "overlays" / "prod"
    kust = (prod / "kustomization.yaml").read_text()
    tag = f"newTag: 1.0.{int(PR_APP[3:])}"
    (prod / "kustomization.yaml").write_text(kust.replace(tag, "newTag: 1.1.0"))
    (prod / "replicas.yaml").write_text(_REPLICAS.replace("@APP@", PR_APP).replace("@R@", "5"))
    git(repo, "commit", "--quiet", "--all", "--message", f"Bump {PR_APP} in prod")
    return len(files)


def check(affected: Report, full: Report) -> list[str]:
    """Why the two reports disagree (or are wrong), empty when they agree."""
    reports = {"affected-only": affected, "render-all": full}
    # Policy findings (the built-in library flags the generated Deployments) legitimately
    # differ: render-all evaluates every resource, affected-only the affected ones. Any other
    # finding (render, validation) means the bench repo or the review is broken.
    problems = [
        f"{n}: [{f.rule_id}] {f.message}"
        for n, r in reports.items()
        for f in r.findings
        if "policy" not in f.metadata
    ]
    policy = [
        {(f.rule_id, f.message) for f in r.findings if "policy" in f.metadata}
        for r in (affected, full)
    ]
    if not policy[0] <= policy[1]:
        problems.append("affected-only has policy findings render-all does not")
    all_ids = {c.target_id for c in full.coverage}
    if {c.target_id for c in affected.coverage} != all_ids:
        problems.append("the two reports list different targets")
    if targets_with(full, CoverageStatus.RENDERED) != all_ids:
        problems.append("render-all did not render every target")
    rendered = targets_with(affected, CoverageStatus.RENDERED)
    if rendered != EXPECTED_TARGETS:
        problems.append(f"affected-only rendered {sorted(rendered)}, expected {EXPECTED_TARGETS}")
    entries = [{c.target_id: c for c in r.coverage} for r in (affected, full)]
    if any(entries[0].get(t) != entries[1].get(t) for t in EXPECTED_TARGETS):
        problems.append("coverage (resource counts) of the changed target differs")
    if targets_with(affected, CoverageStatus.UNCHANGED) != all_ids - EXPECTED_TARGETS:
        problems.append("affected-only did not report every other target as unchanged")
    if {(d.target, d.key): d for d in affected.diffs} != {(d.target, d.key): d for d in full.diffs}:
        problems.append("the diffs differ between affected-only and render-all")
    changed = {(d.target, d.key.kind, d.key.name) for d in affected.diffs}
    if changed != {(next(iter(EXPECTED_TARGETS)), "Deployment", PR_APP)}:
        problems.append(f"unexpected diffs: {sorted(changed)}")
    return problems


def child_affected(repo: Path) -> None:
    """Runs in a fresh interpreter: one affected-only review, then its own peak RSS."""
    wall, _report = run_review(repo, render_all=False)
    who = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    print(json.dumps([wall, *(resource.getrusage(w).ru_maxrss for w in who)]))


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--child-affected":
        child_affected(Path(sys.argv[2]))
        return 0
    with tempfile.TemporaryDirectory(prefix="gitops-bot-bench-") as tmp:
        repo = Path(tmp)
        started = time.perf_counter()
        files = build_repo(repo)
        print(
            f"repo: {KUSTOMIZE_APPS} kustomize + {HELM_APPS} helm apps, {files} files, "
            f"PR touches apps/{PR_APP}/overlays/prod (built in "
            f"{time.perf_counter() - started:.1f} s); workspaces under "
            f"{load_settings().work_dir or tempfile.gettempdir()}"
        )
        argv = [sys.executable, __file__, "--child-affected", str(repo)]
        out = subprocess.run(argv, check=True, capture_output=True).stdout
        child_s, self_kb, tools_kb = json.loads(out)
        peak_mb = self_kb / 1024
        print(
            f"fresh process: affected-only review {child_s:.2f} s, python peak RSS "
            f"{peak_mb:.0f} MB, largest tool/git subprocess {tools_kb / 1024:.0f} MB"
        )
        times, affected = [], None
        for _ in range(RUNS):
            wall, affected = run_review(repo, render_all=False)
            times.append(wall)
        assert affected is not None
        print("affected-only runs: " + ", ".join(f"{t:.2f} s" for t in times))
        full_s, full = run_review(repo, render_all=True)
    best = min(times)
    base_n = sum(c.base_resources for c in full.coverage)
    head_n = sum(c.head_resources for c in full.coverage)
    print(
        f"render-all: {len(full.coverage)} targets x 2 revisions, {base_n} resources at base, "
        f"{head_n} at head, {full_s:.1f} s"
    )
    print(
        f"affected-only: {len(targets_with(affected, CoverageStatus.RENDERED))} target rendered, "
        f"{len(targets_with(affected, CoverageStatus.UNCHANGED))} unchanged, "
        f"{len(affected.diffs)} resource diff(s): {affected.plan().line()}"
    )
    problems = check(affected, full)
    for problem in problems:
        print(f"ERROR: {problem}")
    if problems:
        print("review: ERROR (results of affected-only and render-all disagree)")
        return 1
    speedup = full_s / best
    ok = best <= TARGET_S and speedup >= TARGET_X and peak_mb <= TARGET_MB
    print(
        f"review: {best:.2f} s (target <= {TARGET_S} s); render-all {full_s:.1f} s = "
        f"{speedup:.1f}x (target >= {TARGET_X:g}x); peak RSS {peak_mb:.0f} MB "
        f"(target <= {TARGET_MB:g} MB) {'PASS' if ok else 'MISS'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
