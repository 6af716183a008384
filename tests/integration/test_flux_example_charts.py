"""flux2-kustomize-helm-example end to end, with the podinfo chart served for real.

The test packages ../shared/fixtures/charts/podinfo (6.14.1) with `helm package`, indexes it
with `helm repo index` and serves it from a loopback HTTP server: the same index.yaml and .tgz
a HelmRepository points Flux at. The repository's own HelmRepository URL is rewritten to that
server in a base commit on top of 1556b42 (the parent of 7c6e245); the head is 7c6e245 "Migrate
ingress to Envoy Gateway" cherry-picked onto it, a real change of the podinfo values (ingress
-> httpRoute, a new redis tag). The OCI charts (cert-manager, envoy-gateway) are not allow-listed
here, so they are skipped (OCI fetching is tested against a loopback registry in
tests/integration/test_flux_oci_chart.py).
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.pipeline import Ports, review
from bot.engines.builtin_policies import load_builtin_policies
from bot.engines.chart_repository import HttpChartRepository
from bot.engines.git_tree import GitTree
from bot.engines.regorus_worker import RegorusEngine
from bot.engines.runner import SandboxedRunner
from bot.engines.schema_catalog import JsonSchemaCatalog
from bot.engines.workspace import Workspace
from bot.entrypoints.cli import main
from bot.model.change import ChangeRequest, Revision
from bot.model.render import CoverageStatus
from bot.model.report import Report
from bot.settings import ALLOWED_CHART_REPOS_ENV, CHART_CACHE_ENV, load_settings
from tests.integration.conftest import git

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared/fixtures"
BUNDLE = FIXTURES / "repos/flux2-kustomize-helm-example.bundle"
PODINFO_CHART = FIXTURES / "charts/podinfo"
UPSTREAM_URL = "https://stefanprodan.github.io/podinfo"
MIGRATION = "7c6e245ac4e2498361cb6f9ad0f8b616c617bdc4"
CLUSTERS = ("production", "staging")
PODINFO_TARGETS = [f"flux-hr:podinfo/podinfo@{c}" for c in CLUSTERS]
OCI_RELEASES = [
    f"flux-hr:{name}@{c}"
    for name in (
        "cert-manager/cert-manager",
        "envoy-gateway-system/envoy-gateway",
        "envoy-gateway-system/envoy-gateway-crds",
    )
    for c in CLUSTERS
]


@dataclass
class ChartServer:
    url: str
    digest: str  # the index's sha256 of podinfo-6.14.1.tgz
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def chart_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChartServer]:
    directory = tmp_path_factory.mktemp("charts")
    helm = load_settings().helm.path
    assert helm, "helm is needed to package the chart"
    subprocess.run(
        [helm, "package", str(PODINFO_CHART), "-d", str(directory)], check=True, capture_output=True
    )
    requests: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            requests.append(self.path)

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(directory)))
    url = f"http://127.0.0.1:{server.server_address[1]}"
    subprocess.run(
        [helm, "repo", "index", str(directory), "--url", url], check=True, capture_output=True
    )
    index = yaml.safe_load((directory / "index.yaml").read_text())
    (entry,) = index["entries"]["podinfo"]
    assert entry["version"] == "6.14.1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ChartServer(url, entry["digest"], requests)
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Change:
    repo: Path
    base: str
    head: str


def _clone(tmp: Path, name: str) -> Path:
    repo = tmp / name
    subprocess.run(
        ["git", "clone", "--quiet", str(BUNDLE), str(repo)], check=True, capture_output=True
    )
    return repo


def _rewrite_repository(repo: Path, url: str, config: str | None = None) -> str:
    path = repo / "apps/base/podinfo/repository.yaml"
    text = path.read_text()
    assert UPSTREAM_URL in text
    path.write_text(text.replace(UPSTREAM_URL, url))
    if config is not None:
        (repo / ".gitops-bot.yaml").write_text(config)
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "Serve podinfo from the test's chart repository")
    return git(repo, "rev-parse", "HEAD")


def _pull_request(tmp: Path, name: str, url: str, config: str | None = None) -> Change:
    repo = _clone(tmp, name)
    git(repo, "checkout", "--quiet", f"{MIGRATION}^")
    base = _rewrite_repository(repo, url, config)
    git(repo, "cherry-pick", MIGRATION)
    return Change(repo, base, git(repo, "rev-parse", "HEAD"))


@pytest.fixture(scope="module")
def migration(tmp_path_factory: pytest.TempPathFactory, chart_server: ChartServer) -> Change:
    return _pull_request(tmp_path_factory.mktemp("flux"), "example", chart_server.url)


def _review(change: Change, charts: HttpChartRepository | None, tmp: Path) -> Report:
    with (
        Workspace(str(tmp)) as workspace,
        GitTree.open(change.repo, change.base) as base,
        GitTree.open(change.repo, change.head) as head,
    ):
        ports = Ports(
            SandboxedRunner(load_settings(), workspace),
            JsonSchemaCatalog(),
            RegorusEngine(),
            load_builtin_policies(),
            charts=charts,
        )
        request = ChangeRequest(Revision("base", base.commit), Revision("head", head.commit))
        return review(request, base, head, ports)


def test_podinfo_rendered_from_the_served_chart_through_the_cli(
    migration: Change,
    chart_server: ChartServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = tmp_path / "chart-cache"
    monkeypatch.setenv(ALLOWED_CHART_REPOS_ENV, chart_server.url)
    monkeypatch.setenv(CHART_CACHE_ENV, str(cache))
    out = tmp_path / "report.json"
    argv = [
        "review",
        "--repo",
        str(migration.repo),
        "--base",
        migration.base,
        "--head",
        migration.head,
    ]
    exit_code = main([*argv, "--format", "json", "--output", str(out)])
    report = json.loads(out.read_text())

    coverage = {c["target"]: c for c in report["coverage"]}
    for target, cluster in zip(PODINFO_TARGETS, CLUSTERS, strict=True):
        entry = coverage[target]
        assert (entry["status"], entry["base_resources"], entry["head_resources"]) == (
            "rendered",
            6,
            6,
        )
        assert (entry["app"], entry["cluster"]) == ("HelmRelease podinfo/podinfo", cluster)
    # What helm renders from the chart changes: the Ingress gives way to an HTTPRoute, and the
    # redis image follows the new tag.
    for target in PODINFO_TARGETS:
        changes = {
            (d["resource"]["kind"], d["resource"]["name"], d["change"]): [
                f["path"] for f in d["fields"]
            ]
            for d in report["diffs"]
            if d["target"] == target
        }
        assert changes == {
            ("Ingress", "podinfo", "removed"): [],
            ("HTTPRoute", "podinfo", "added"): [],
            ("Deployment", "podinfo-redis", "modified"): ["spec.template.spec.containers[0].image"],
        }
    redis = next(
        d
        for d in report["diffs"]
        if d["target"] == PODINFO_TARGETS[1] and d["resource"]["name"] == "podinfo-redis"
    )
    assert "public.ecr.aws/docker/library/redis:" in redis["unified_diff"]
    assert redis["origin"]["path"] == "apps/base/podinfo/release.yaml"
    # The OCI charts are not allow-listed: skipped, and the skip fails the check.
    for target in OCI_RELEASES:
        assert coverage[target]["status"] == "skipped"
        assert coverage[target]["reason"].startswith("remote chart not allowed (oci://")
    skipped = [f for f in report["findings"] if f["rule_id"] == "render-skipped"]
    assert {f["severity"] for f in skipped} == {"error"}
    assert len(skipped) == 6  # cert-manager, envoy-gateway(-crds), in both clusters
    assert exit_code == 1
    # Exactly the index and the archive, once each (the second cluster uses the cache), and
    # the archive is kept under its index digest.
    assert sorted(chart_server.requests) == ["/index.yaml", "/podinfo-6.14.1.tgz"]
    cached = cache / "sha256" / chart_server.digest[:2] / f"{chart_server.digest}.tgz"
    assert cached.is_file()


def test_nothing_is_fetched_when_nothing_is_allow_listed(
    migration: Change, chart_server: ChartServer, tmp_path: Path
) -> None:
    before = len(chart_server.requests)
    report = _review(migration, HttpChartRepository((), None), tmp_path)

    coverage = {c.target_id: c for c in report.coverage}
    for target in PODINFO_TARGETS:
        assert coverage[target].status is CoverageStatus.SKIPPED
        assert coverage[target].reason == f"remote chart not allowed ({chart_server.url})"
    assert len(chart_server.requests) == before
    assert not [d for d in report.diffs if d.target in PODINFO_TARGETS]


def test_accepted_skips_do_not_fail_the_check(
    chart_server: ChartServer, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    config = "render:\n  fail_on_skipped: false\n"
    change = _pull_request(tmp_path_factory.mktemp("flux"), "accepting", chart_server.url, config)
    report = _review(change, HttpChartRepository((chart_server.url,), None), tmp_path)

    skipped = [f for f in report.findings if f.rule_id == "render-skipped"]
    assert len(skipped) == 6
    assert {f.severity.label for f in skipped} == {"warning"}
    assert report.failing_findings() == ()
