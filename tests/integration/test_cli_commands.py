"""render, diff and review against a working tree, on the bundled example, with real tools."""

import json
from contextlib import ExitStack

import pytest
import yaml

from bot.entrypoints.cli import main
from bot.entrypoints.demo import build_demo_repository

pytestmark = pytest.mark.integration


@pytest.fixture
def demo_repo():
    with ExitStack() as stack:
        yield build_demo_repository(stack)


def test_render_prints_every_target_with_secrets_hidden(demo_repo, capsys):
    repo, base, _head = demo_repo
    assert main(["render", str(repo), "--ref", base]) == 0
    out, err = capsys.readouterr()
    docs = [d for d in yaml.safe_load_all(out) if d]
    kinds = sorted({(d["kind"], d["metadata"].get("namespace", "")) for d in docs})
    assert ("Deployment", "prod") in kinds and ("Deployment", "staging") in kinds
    assert ("ConfigMap", "prod") in kinds  # the plain folder
    secret = next(d for d in docs if d["kind"] == "Secret")
    assert secret["stringData"] == {"api-token": "<hidden>", "username": "<hidden>"}
    assert "not-a-real-token" not in out
    assert "rendered  kustomize:apps/podinfo/overlays/prod (3 resources)" in err
    assert "# source: apps/podinfo/base/deployment.yaml:1" in out


def test_render_can_show_secrets_and_filter_targets(demo_repo, capsys):
    repo, base, _head = demo_repo
    assert main(["render", str(repo), "--ref", base, "--target", "staging", "--show-secrets"]) == 0
    out, err = capsys.readouterr()
    assert "not-a-real-token-1234" in out
    assert "prod" not in err


def test_diff_prints_unified_diffs(demo_repo, capsys):
    repo, base, head = demo_repo
    assert main(["diff", "--repo", str(repo), "--base", base, "--head", head]) == 0
    out = capsys.readouterr().out
    assert "-  replicas: 2\n+  replicas: 3" in out
    assert "+++ head/policy/PodDisruptionBudget prod/podinfo" in out
    assert "not-a-real-token" not in out


def test_review_of_uncommitted_changes_in_the_working_tree(demo_repo, tmp_path):
    repo, _base, head = demo_repo
    values = repo / "charts/redis-cache/values-staging.yaml"
    values.write_text("maxMemory: 128mb\n")
    out = tmp_path / "r.json"
    assert (
        main(
            [
                "review",
                "--repo",
                str(repo),
                "--base",
                head,
                "--format",
                "json",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    report = json.loads(out.read_text())
    assert report["change"]["head"]["ref"] == "working tree"
    assert [c["path"] for c in report["changed_files"]] == [
        "charts/redis-cache/values-staging.yaml"
    ]
    (diff,) = report["diffs"]
    assert diff["target"] == "helm:charts/redis-cache#staging/redis-cache"
    assert diff["fields"] == [
        {"path": "spec.template.spec.containers[0].args[1]", "change": "modified"}
    ]
    rendered = {c["target"] for c in report["coverage"] if c["status"] == "rendered"}
    assert rendered == {"helm:charts/redis-cache#staging/redis-cache"}
