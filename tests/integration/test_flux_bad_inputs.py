"""Bad Flux input in a pull request: each is a finding with file, line and what to do, never an
exception, and nothing outside the repository is read.

The repository: a bootstrap Kustomization (clusters/prod), a Kustomization `apps` with postBuild
variables, and a HelmRelease of a chart in the repository whose values come from a ConfigMap.
Each test breaks one thing at head and reviews the change with real kustomize and helm.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.model.finding import Severity
from bot.model.render import CoverageStatus
from bot.model.report import ExitCode, Report
from bot.model.resource import Location
from tests.integration.conftest import Files, PullRequest, RecordingRunner, review_commits

pytestmark = pytest.mark.integration

SYNC = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  url: https://example.com/fleet.git
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  path: ./clusters/prod
  sourceRef:
    kind: GitRepository
    name: flux-system
"""

APPS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  path: {path}
  sourceRef:
    kind: GitRepository
    name: flux-system
  postBuild:
    substitute:
{substitute}
"""

RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
  namespace: web
spec:
  chart:
    spec:
      chart: ./charts/web
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
  valuesFrom:
    - kind: ConfigMap
      name: {config_map}
  values:
    image: web:${{tag}}
"""

VALUES = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-values
  namespace: web
data:
  values.yaml: |
    replicas: 2
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: {{ .Values.image }}
"""


def repository(
    path: str = "./apps", substitute: str = '      tag: "1.0"', config_map: str = "web-values"
) -> Files:
    return {
        "clusters/prod/flux-system/gotk-sync.yaml": SYNC,
        "clusters/prod/apps.yaml": APPS.format(path=path, substitute=substitute),
        "apps/kustomization.yaml": "resources: [release.yaml, values.yaml]\n",
        "apps/release.yaml": RELEASE.format(config_map=config_map),
        "apps/values.yaml": VALUES,
        "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        "charts/web/values.yaml": "replicas: 1\nimage: web:latest\n",
        "charts/web/templates/deployment.yaml": DEPLOYMENT,
    }


APPS_TARGET = "flux-ks:flux-system/apps@prod"
RELEASE_TARGET = "flux-hr:web/web@prod"


def _review(
    make_pr: Callable[[Files, Files], PullRequest], head: Files, runner: RecordingRunner
) -> Report:
    pr = make_pr(repository(), head)
    return review_commits(pr.repo, pr.base, pr.head, runner)


def _coverage(report: Report) -> dict[str, tuple[CoverageStatus, str]]:
    return {c.target_id: (c.status, c.reason) for c in report.coverage}


def test_the_valid_repository_renders(make_pr, recording_runner: RecordingRunner) -> None:
    """The baseline the other tests break: values from the ConfigMap and the substituted tag."""
    head = {
        "apps/values.yaml": VALUES.replace("replicas: 2", "replicas: 3"),
        "clusters/prod/apps.yaml": APPS.format(path="./apps", substitute='      tag: "1.1"'),
    }
    report = _review(make_pr, head, recording_runner)

    # The bootstrap applies the changed Kustomization, which applies the ConfigMap and the
    # release (with the tag substituted); the release's Deployment follows both.
    assert {(d.target, d.key.kind, d.key.name) for d in report.diffs} == {
        ("flux-ks:flux-system/flux-system@prod", "Kustomization", "apps"),
        (APPS_TARGET, "ConfigMap", "web-values"),
        (APPS_TARGET, "HelmRelease", "web"),
        (RELEASE_TARGET, "Deployment", "web"),
    }
    (deployment,) = [d for d in report.diffs if d.target == RELEASE_TARGET]
    assert "-  replicas: 2\n+  replicas: 3" in deployment.unified_diff
    assert "-      - image: web:1.0\n+      - image: web:1.1" in deployment.unified_diff
    assert deployment.key.namespace == "web"
    assert report.exit_code() is ExitCode.CLEAN


def test_values_from_a_missing_config_map(make_pr, recording_runner: RecordingRunner) -> None:
    head = {"apps/release.yaml": RELEASE.format(config_map="web-valeus")}
    report = _review(make_pr, head, recording_runner)

    (finding,) = [f for f in report.findings if f.rule_id == "flux-values-missing"]
    assert finding.severity is Severity.ERROR
    assert finding.location == Location("apps/release.yaml", 15)  # the valuesFrom entry
    assert "ConfigMap web/web-valeus" in finding.message
    assert "optional: true" in finding.hint
    status, reason = _coverage(report)[RELEASE_TARGET]
    assert status is CoverageStatus.FAILED
    assert "web-valeus" in reason
    # helm never ran for the head release: only the base's render of the chart.
    assert [c.tool for c in recording_runner.calls].count("helm") == 1
    assert report.exit_code() is ExitCode.FINDINGS


def test_a_substitution_loop(make_pr, recording_runner: RecordingRunner) -> None:
    loop = '      tag: "${release}"\n      release: "${tag}"'
    head = {"clusters/prod/apps.yaml": APPS.format(path="./apps", substitute=loop)}
    report = _review(make_pr, head, recording_runner)

    (finding,) = [f for f in report.findings if f.rule_id == "flux-substitution-loop"]
    assert finding.severity is Severity.ERROR
    assert finding.location == Location("clusters/prod/apps.yaml", 14)
    assert "release -> tag -> release" in finding.message
    assert _coverage(report)[APPS_TARGET][0] is CoverageStatus.FAILED
    assert report.exit_code() is ExitCode.FINDINGS


def test_a_path_outside_the_repository(
    make_pr, recording_runner: RecordingRunner, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kustomization.yaml").write_text("resources: [secret.yaml]\n")
    (outside / "secret.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: LEAKED-MARKER\n"
    )
    head = {
        "clusters/prod/apps.yaml": APPS.format(path="../outside", substitute='      tag: "1.0"')
    }
    report = _review(make_pr, head, recording_runner)

    (finding,) = [f for f in report.findings if f.rule_id == "path-escapes-repo"]
    assert finding.severity is Severity.ERROR
    assert finding.location == Location("clusters/prod/apps.yaml", 7)  # spec.path
    assert "../outside" in finding.message
    assert _coverage(report)[APPS_TARGET][0] is CoverageStatus.FAILED
    assert "LEAKED-MARKER" not in repr(report)
    head_kustomize_paths = [c.args[0] for c in recording_runner.calls if c.tool == "kustomize"]
    assert not any("outside" in p for p in head_kustomize_paths)
    assert report.exit_code() is ExitCode.FINDINGS


def test_a_bad_substitution_expression(make_pr, recording_runner: RecordingRunner) -> None:
    head = {"apps/release.yaml": RELEASE.format(config_map="web-values").replace("${tag}", "${tag")}
    report = _review(make_pr, head, recording_runner)

    (finding,) = [f for f in report.findings if f.rule_id == "flux-substitution-failed"]
    assert finding.severity is Severity.ERROR
    assert finding.location == Location("clusters/prod/apps.yaml", 1)
    assert "HelmRelease web" in finding.message
    assert "missing closing brace" in finding.message
    assert report.exit_code() is ExitCode.FINDINGS
