"""`gitops-bot apps` and `gitops-bot render --app` on real repositories."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.entrypoints.cli import main

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared/fixtures/repos"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("cli") / "example"
    bundle = FIXTURES / "flux2-kustomize-helm-example.bundle"
    subprocess.run(
        ["git", "clone", "--quiet", str(bundle), str(repo)], check=True, capture_output=True
    )
    return repo


def test_apps_json_lists_every_app(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exit_code = main(["apps", str(example), "--ref", "a81337f", "--format", "json"])
    rows = json.loads(capsys.readouterr().out)

    assert exit_code == 0  # skipped apps are listed, not failures
    summary = {
        (r["cluster"], r["kind"], r["namespace"], r["name"], r["status"], r["resources"])
        for r in rows
    }
    expected = set()
    for cluster in ("production", "staging"):
        expected |= {
            (cluster, "Kustomization", "flux-system", "apps", "rendered", 3),
            (cluster, "Kustomization", "flux-system", "infra-configs", "rendered", 3),
            (cluster, "Kustomization", "flux-system", "infra-controllers", "rendered", 6),
            (cluster, "HelmRelease", "podinfo", "podinfo", "skipped", 0),
            (cluster, "HelmRelease", "cert-manager", "cert-manager", "skipped", 0),
            (cluster, "HelmRelease", "envoy-gateway-system", "envoy-gateway", "skipped", 0),
        }
    assert summary == expected
    staging = next(r for r in rows if (r["cluster"], r["name"]) == ("staging", "apps"))
    assert staging["source"] == ("ExternalArtifact flux-system/apps ./staging -> apps/staging/")
    assert staging["depends_on"] == ["flux-system/infra-configs"]
    assert staging["declared_in"] == "clusters/staging/apps.yaml:2"
    podinfo = next(r for r in rows if (r["cluster"], r["name"]) == ("staging", "podinfo"))
    assert podinfo["reason"] == "remote chart not allowed (https://stefanprodan.github.io/podinfo)"
    assert podinfo["parent"] == "flux-ks:flux-system/apps@staging"


def test_apps_text_table(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apps", str(example), "--ref", "a81337f"]) == 0
    lines = capsys.readouterr().out.splitlines()

    assert lines[0].split() == ["CLUSTER", "KIND", "APP", "STATUS", "RESOURCES", "SOURCE"]
    assert lines[1].split()[:5] == [
        "production",
        "HelmRelease",
        "cert-manager/cert-manager",
        "skipped",
        "0",
    ]
    assert "skipped: HelmRelease podinfo/podinfo: remote chart not allowed" in "\n".join(lines)


def test_render_one_app(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exit_code = main(
        ["render", str(example), "--ref", "a81337f", "--app", "flux-system/apps@staging"]
    )
    captured = capsys.readouterr()

    assert exit_code == 0
    assert captured.err.splitlines() == ["rendered  flux-ks:flux-system/apps@staging (3 resources)"]
    documents = [d for d in yaml.safe_load_all(captured.out) if d]
    assert sorted(d["kind"] for d in documents) == ["HelmRelease", "HelmRepository", "Namespace"]
    release = next(d for d in documents if d["kind"] == "HelmRelease")
    assert release["spec"]["chart"]["spec"]["version"] == ">=1.0.0-alpha"  # the staging patch
    assert "# target: flux-ks:flux-system/apps@staging" in captured.out


def test_render_app_by_name_in_every_cluster(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", str(example), "--ref", "a81337f", "--app", "podinfo"]) == 0
    assert capsys.readouterr().err.splitlines() == [
        "skipped   flux-hr:podinfo/podinfo@production (remote chart not allowed "
        "(https://stefanprodan.github.io/podinfo))",
        "skipped   flux-hr:podinfo/podinfo@staging (remote chart not allowed "
        "(https://stefanprodan.github.io/podinfo))",
    ]


def test_apps_of_a_working_tree_without_apps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(FIXTURES / "flux-local-testdata" / "repo", tmp_path / "repo")
    assert main(["apps", str(tmp_path / "repo")]) == 0
    assert capsys.readouterr().out == "No Flux or Argo CD apps found.\n"


def test_render_an_unknown_app(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(example), "--ref", "a81337f", "--app", "nope"]) == 2
    assert "no app named 'nope'" in capsys.readouterr().err
