"""Argo CD end to end, with real kustomize and helm: the bundled example repository
(examples/argocd-repo), reviews of small changes built as git history, and hostile input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.pipeline import Ports, render_revision
from bot.engines.local_tree import LocalTree
from bot.engines.regorus_worker import RegorusEngine
from bot.engines.runner import SandboxedRunner
from bot.engines.schema_catalog import JsonSchemaCatalog
from bot.engines.workspace import Workspace
from bot.model.diff import ChangeKind
from bot.model.finding import Severity
from bot.model.render import CoverageStatus
from bot.model.report import ExitCode
from bot.model.resource import ResourceKey
from bot.settings import load_settings
from tests.integration.conftest import build_pr, review_commits

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "argocd-repo"


def example_files() -> dict[str, str]:
    return {
        p.relative_to(EXAMPLE).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(EXAMPLE.rglob("*"))
        if p.is_file()
    }


def key(kind: str, namespace: str, name: str, group: str = "") -> ResourceKey:
    return ResourceKey(group, kind, namespace, name)


APP = "argoproj.io"
RENDERED = {
    "argo:argocd/root": {
        key("Application", "argocd", name, APP)
        for name in ("guestbook", "podinfo", "web", "web-canary", "redis")
    },
    "argo:argocd/guestbook": {
        key("Deployment", "guestbook", "guestbook-ui", "apps"),
        key("Service", "guestbook", "guestbook-ui"),
        key("Namespace", "", "guestbook"),  # cluster-scoped: no destination namespace
    },
    "argo:argocd/guestbook-staging": {key("Deployment", "guestbook", "guestbook-ui", "apps")},
    "argo:argocd/podinfo": {
        key("Deployment", "podinfo", "prod-podinfo-v1", "apps"),
        key("Service", "podinfo", "prod-podinfo-v1"),
    },
    "argo:argocd/web": {
        key("Deployment", "web", "web-prod", "apps"),
        key("ConfigMap", "web", "web-prod-greeting"),
    },
    "argo:argocd/web-canary": {
        key("Deployment", "web-canary", "web-canary", "apps"),
        key("ConfigMap", "web-canary", "web-canary-greeting"),
    },
    **{
        f"argo:argocd/podinfo-{env}": {
            key("Deployment", f"podinfo-{env}", "podinfo", "apps"),
            key("Service", f"podinfo-{env}", "podinfo"),
        }
        for env in ("staging", "prod")
    },
    "argo:argocd/team-alpha": {key("ConfigMap", "team-alpha", "alpha-settings")},
    "argo:argocd/team-beta": {key("ConfigMap", "team-beta", "beta-settings")},
    **{
        f"argo:argocd/web-{region}": {
            key("Deployment", f"web-{region}", f"web-{region}", "apps"),
            key("ConfigMap", f"web-{region}", f"web-{region}-greeting"),
        }
        for region in ("eu", "us")
    },
    # The Applications applied by hand, and the ApplicationSets, stay plain manifests.
    "plain:clusters/prod": {key("Application", "argocd", "root", APP)},
    "plain:clusters/staging": {key("Application", "argocd", "guestbook-staging", APP)},
    "plain:clusters/prod/appsets": {
        key("ApplicationSet", "argocd", name, APP)
        for name in ("podinfo-envs", "teams", "regions", "monitoring")
    },
}
SKIPPED = {
    "argo:argocd/redis": "source is not this repository: https://charts.bitnami.com/bitnami",
    "argo-appset:argocd/monitoring#generators[0]": "the clusters generator needs a cluster or "
    "an external service; not expanded",
}


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory):
    with Workspace(str(tmp_path_factory.mktemp("ws"))) as workspace:
        ports = Ports(
            SandboxedRunner(load_settings(), workspace), JsonSchemaCatalog(), RegorusEngine()
        )
        yield render_revision(LocalTree.open(EXAMPLE), ports)


def test_every_application_of_the_example_renders(example):
    targets, renders = example
    by_id = {t.target_id: t for t in targets}
    assert {i: t.skip_reason for i, t in by_id.items() if t.skip_reason} == SKIPPED
    assert {i: {r.key for r in renders[i].resources} for i in renders} == RENDERED
    assert {i: [f.message for f in r.findings] for i, r in renders.items() if r.findings} == {}


def test_apps_know_their_cluster_and_parent(example):
    targets, _ = example
    by_id = {t.target_id: t for t in targets}
    assert by_id["argo:argocd/guestbook-staging"].cluster == "staging"
    assert {by_id[i].cluster for i in RENDERED if i.startswith("argo:") and "staging" not in i} == {
        "prod"
    }
    children = {i for i, t in by_id.items() if t.parent == "argo:argocd/root"}
    assert children == {
        "argo:argocd/guestbook",
        "argo:argocd/podinfo",
        "argo:argocd/web",
        "argo:argocd/web-canary",
        "argo:argocd/redis",
    }


def test_argo_options_reach_the_rendered_objects(example):
    _, renders = example

    def body(target: str, name: str) -> dict:
        return next(r.body for r in renders[target].resources if r.key.name == name)

    deployment = next(
        r.body for r in renders["argo:argocd/podinfo"].resources if r.key.kind == "Deployment"
    )
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/stefanprodan/podinfo:6.7.1"  # kustomize.images
    assert deployment["metadata"]["labels"] == {"team": "web"}  # kustomize.commonLabels
    web = body("argo:argocd/web", "web-prod")
    assert web["spec"]["replicas"] == 3  # --set replicas=3
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27.3"
    assert web["spec"]["template"]["spec"]["containers"][0]["env"] == [
        {"name": "BUILD", "value": "1234"}  # --set-string keeps it a string
    ]
    assert body("argo:argocd/web", "web-prod-greeting")["data"] == {
        "greeting": "hello from prod",  # valuesObject
        "namespace": "web",  # --namespace <destination.namespace>
    }
    canary = body("argo:argocd/web-canary", "web-canary")
    assert canary["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28.0"
    staging = next(
        r.body
        for r in renders["argo:argocd/podinfo-staging"].resources
        if r.key.kind == "Deployment"
    )
    assert staging["spec"]["replicas"] == 1  # kustomize.replicas from the list generator
    assert body("argo:argocd/web-eu", "web-eu-greeting")["data"]["greeting"] == "hello from eu"


@pytest.fixture
def pull_request(tmp_path: Path):
    def make(changes: dict[str, str | None]):
        return build_pr(tmp_path / "repo", example_files(), changes)

    return make


def _statuses(report) -> dict[str, CoverageStatus]:
    return {c.target_id: c.status for c in report.coverage}


def test_a_values_change_re_renders_only_the_app_that_reads_it(pull_request, recording_runner):
    values = EXAMPLE / "environments/prod/web-canary.yaml"
    pr = pull_request(
        {"environments/prod/web-canary.yaml": values.read_text().replace("1.28.0", "1.29.0")}
    )
    report = review_commits(pr.repo, pr.base, pr.head, recording_runner)
    rendered = {i for i, s in _statuses(report).items() if s is CoverageStatus.RENDERED}
    assert rendered == {"argo:argocd/web-canary"}
    assert [(c.tool, c.args[1]) for c in recording_runner.calls] == [
        ("helm", "web-canary"),
        ("helm", "web-canary"),
    ]
    (diff,) = report.diffs
    assert (diff.key, diff.change) == (
        key("Deployment", "web-canary", "web-canary", "apps"),
        ChangeKind.MODIFIED,
    )
    assert (diff.app, diff.cluster) == ("Application argocd/web-canary", "prod")
    assert [(f.path, f.change) for f in diff.fields] == [
        ("spec.template.spec.containers[0].image", ChangeKind.MODIFIED)
    ]
    skipped = {i for i, s in _statuses(report).items() if s is CoverageStatus.SKIPPED}
    assert skipped == set(SKIPPED)
    assert not [f for f in report.findings if f.severity is Severity.ERROR]


def test_editing_a_child_application_re_renders_it_and_diffs_the_object(
    pull_request, recording_runner
):
    path = "clusters/prod/apps/podinfo.yaml"
    text = (EXAMPLE / path).read_text().replace("namePrefix: prod-", "namePrefix: live-")
    report = review_commits(*_pr(pull_request({path: text})), recording_runner)
    rendered = {i for i, s in _statuses(report).items() if s is CoverageStatus.RENDERED}
    assert rendered == {"argo:argocd/root", "argo:argocd/podinfo"}
    assert {c.tool for c in recording_runner.calls} == {"kustomize"}
    changes = {(d.target, d.key.kind, d.key.name, d.change) for d in report.diffs}
    assert changes == {
        ("argo:argocd/root", "Application", "podinfo", ChangeKind.MODIFIED),
        ("argo:argocd/podinfo", "Deployment", "prod-podinfo-v1", ChangeKind.REMOVED),
        ("argo:argocd/podinfo", "Service", "prod-podinfo-v1", ChangeKind.REMOVED),
        ("argo:argocd/podinfo", "Deployment", "live-podinfo-v1", ChangeKind.ADDED),
        ("argo:argocd/podinfo", "Service", "live-podinfo-v1", ChangeKind.ADDED),
    }


def test_a_new_team_directory_becomes_a_new_app(pull_request, recording_runner):
    cm = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gamma-settings\ndata: {owner: gamma}\n"
    )
    pr = pull_request({"teams/gamma/configmap.yaml": cm})
    report = review_commits(pr.repo, pr.base, pr.head, recording_runner)
    assert recording_runner.calls == []  # a directory source needs no tool
    entry = next(c for c in report.coverage if c.target_id == "argo:argocd/team-gamma")
    assert (entry.status, entry.reason, entry.cluster) == (
        CoverageStatus.RENDERED,
        "added by this change",
        "prod",
    )
    assert [(d.key.kind, d.key.namespace, d.change) for d in report.diffs] == [
        ("ConfigMap", "team-gamma", ChangeKind.ADDED)
    ]


def _pr(pr):
    return pr.repo, pr.base, pr.head


ESCAPE = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: sneaky
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://github.com/example/argocd-repo.git
    path: web
    helm:
      valueFiles:
        - ../../etc/passwd
  destination:
    namespace: sneaky
"""


def test_value_file_outside_the_repository_is_a_finding_and_never_read(
    tmp_path: Path, recording_runner
):
    base = {
        ".gitops-bot.yaml": "version: 1\nrender:\n  repo_urls: [https://github.com/example/argocd-repo]\n",
        "web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        "web/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n",
    }
    pr = build_pr(tmp_path / "repo", base, {"apps/sneaky.yaml": ESCAPE})
    report = review_commits(pr.repo, pr.base, pr.head, recording_runner)
    # helm never ran for the app, and no tool was handed anything outside the repository.
    assert all("sneaky" not in c.args for c in recording_runner.calls)
    handed = {a for c in recording_runner.calls for a in (*c.args, *(c.inputs or ()))}
    assert not [a for a in handed if "passwd" in a or ".." in a]
    (finding,) = [f for f in report.findings if f.rule_id == "path-escapes-repo"]
    assert finding.severity is Severity.ERROR
    assert (finding.location.path, finding.location.line) == ("apps/sneaky.yaml", 13)
    assert "spec.source.helm.valueFiles[0] (../../etc/passwd) points outside" in finding.message
    assert _statuses(report)["argo:argocd/sneaky"] is CoverageStatus.FAILED
    assert report.exit_code() is not ExitCode.CLEAN
    assert "root:x:0:0" not in json.dumps([f.message for f in report.findings])  # /etc/passwd
