"""A HelmRelease whose chart comes from an OCIRepository, end to end through the CLI.

The chart is a real `helm package` of ../shared/fixtures/charts/podinfo served by a loopback OCI
registry (tests/oci_registry.py, with the anonymous Bearer token dance). The repository is
generated: a bootstrap Kustomization applies ./apps, which declares the OCIRepository and the
HelmRelease (`chartRef: {kind: OCIRepository}`); the pull request raises replicaCount.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.settings import ALLOWED_CHART_REPOS_ENV, CHART_CACHE_ENV
from tests.integration.conftest import CliRun, Files, PullRequest
from tests.oci_registry import FakeRegistry, package_podinfo, serve, sha256

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
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  path: ./apps
  sourceRef:
    kind: GitRepository
    name: flux-system
"""

PODINFO = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: podinfo
  namespace: podinfo
spec:
  interval: 10m
  url: {url}
  ref:
    {ref}
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: podinfo
spec:
  interval: 10m
  chartRef:
    kind: OCIRepository
    name: podinfo
  values:
    replicaCount: {replicas}
"""

TARGET = "flux-hr:podinfo/podinfo@prod"


def repository(url: str, replicas: int, ref: str = "tag: 6.14.1") -> Files:
    return {
        "clusters/prod/flux-system/gotk-sync.yaml": SYNC,
        "apps/kustomization.yaml": "resources: [podinfo.yaml]\n",
        "apps/podinfo.yaml": PODINFO.format(url=url, ref=ref, replicas=replicas),
    }


@pytest.fixture(scope="module")
def chart(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return package_podinfo(tmp_path_factory.mktemp("oci-chart"))


@pytest.fixture
def registry(chart: bytes) -> Iterator[FakeRegistry]:
    with serve(FakeRegistry(chart)) as running:
        yield running


@pytest.mark.parametrize("ref", ["tag: 6.14.1", 'semver: ">=6.0.0 <7"'])
def test_the_oci_chart_is_fetched_and_rendered_when_allow_listed(
    registry: FakeRegistry,
    chart: bytes,
    ref: str,
    make_pr: Callable[[Files, Files], PullRequest],
    run_cli: Callable[..., CliRun],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = tmp_path / "chart-cache"
    registry_root = registry.url.removesuffix("/charts/podinfo")
    monkeypatch.setenv(ALLOWED_CHART_REPOS_ENV, f"https://charts.example.com,{registry_root}")
    monkeypatch.setenv(CHART_CACHE_ENV, str(cache))
    pr = make_pr(repository(registry.url, 1, ref), repository(registry.url, 3, ref))

    run = run_cli(pr)

    entry = next(c for c in run.report["coverage"] if c["target"] == TARGET)
    assert entry["status"] == "rendered", entry
    changes = {(d["resource"]["kind"], d["resource"]["name"]): d for d in run.diffs(TARGET)}
    assert set(changes) == {("Deployment", "podinfo")}
    assert [f["path"] for f in changes["Deployment", "podinfo"]["fields"]] == ["spec.replicas"]
    assert "-  replicas: 1\n+  replicas: 3" in changes["Deployment", "podinfo"]["unified_diff"]
    assert not run.findings("flux-chart-fetch-failed")
    assert run.exit_code == 0
    # Base and head share the chart: one blob download, kept under its digest.
    assert len(registry.blob_requests()) == 1
    digest = sha256(chart)
    assert (cache / "sha256" / digest[:2] / f"{digest}.tgz").is_file()
    assert "s3cr3t" not in run.text


def test_the_oci_chart_is_skipped_when_not_allow_listed(
    registry: FakeRegistry,
    make_pr: Callable[[Files, Files], PullRequest],
    run_cli: Callable[..., CliRun],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ALLOWED_CHART_REPOS_ENV, "oci://127.0.0.1:1/charts")
    pr = make_pr(repository(registry.url, 1), repository(registry.url, 3))

    run = run_cli(pr)

    entry = next(c for c in run.report["coverage"] if c["target"] == TARGET)
    assert entry["status"] == "skipped"
    assert entry["reason"] == f"remote chart not allowed ({registry.url})"
    assert registry.requests == []
    assert run.findings("render-skipped")
    assert run.exit_code == 1


def test_a_failed_oci_fetch_is_a_finding(
    registry: FakeRegistry,
    make_pr: Callable[[Files, Files], PullRequest],
    run_cli: Callable[..., CliRun],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ALLOWED_CHART_REPOS_ENV, registry.url)
    ref = "tag: 6.99.0"
    pr = make_pr(repository(registry.url, 1, ref), repository(registry.url, 3, ref))

    run = run_cli(pr)

    (finding, *_) = run.findings("flux-chart-fetch-failed")
    assert "/v2/charts/podinfo/manifests/6.99.0 answered 404" in finding["message"]
    assert run.exit_code == 1
