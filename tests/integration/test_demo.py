"""The README's first command, end to end with real git, kustomize and helm."""

import json

import pytest

from bot.entrypoints.cli import main

pytestmark = pytest.mark.integration


def test_demo_comment_matches_golden(golden, capsys):
    assert main(["demo"]) == 0
    golden("demo-comment.md", capsys.readouterr().out)


def test_demo_json_shows_every_part_of_the_diff(tmp_path):
    out = tmp_path / "report.json"
    assert main(["demo", "--format", "json", "--output", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["schema"] == "gitops-bot/report/v1"
    changes = {
        (d["resource"]["kind"], d["resource"]["namespace"], d["resource"]["name"]): d["change"]
        for d in report["diffs"]
    }
    assert changes == {
        ("Deployment", "prod", "podinfo"): "modified",
        ("Deployment", "prod", "redis-cache"): "modified",
        ("Secret", "prod", "podinfo-credentials"): "modified",
        ("Secret", "staging", "podinfo-credentials"): "modified",
        ("PodDisruptionBudget", "prod", "podinfo"): "added",
        ("ConfigMap", "prod", "legacy-settings"): "removed",
    }
    statuses = {c["target"]: c["status"] for c in report["coverage"]}
    assert statuses["helm:charts/redis-cache#staging/redis-cache"] == "unchanged"
    assert set(statuses.values()) == {"rendered", "unchanged"}
    text = json.dumps(report)
    assert "not-a-real-token" not in text  # the Secret's values never leave the core
    assert (
        report["plan"]["summary"]
        == "+1 ~4 -1 resources in 4 apps; 2 Secrets changed (values hidden)"
    )
