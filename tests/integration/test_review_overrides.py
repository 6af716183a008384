"""`review --config PATH` and `review --kubernetes-version V` (the Action's config and
kubernetes-version inputs) on real git history."""

from __future__ import annotations

import pytest

from bot.core.trusted_inputs import parse_config
from bot.entrypoints.cli import main
from bot.entrypoints.review_overrides import _with_clusters

pytestmark = pytest.mark.integration

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: prod\ndata: {{a: b}}\n"


def test_kubernetes_version_replaces_the_configured_clusters(make_pr, run_cli):
    config = 'clusters:\n  prod: {kubernetes: "1.31"}\n'
    pr = make_pr(
        {".gitops-bot.yaml": config, "apps/cm.yaml": CM.format(name="a")},
        {"apps/cm.yaml": CM.format(name="b")},
    )
    assert run_cli(pr).report["validation"]["kubernetes_versions"] == ["1.31"]
    run = run_cli(pr, "--kubernetes-version", "1.29", "--kubernetes-version", "v1.33")
    assert run.report["validation"]["kubernetes_versions"] == ["1.29", "1.33"]
    # Applied to both revisions alike: not a change of the config.
    assert [f["path"] for f in run.report["changed_files"]] == ["apps/cm.yaml"]
    assert not any("This change edits" in note for note in run.report["notes"])


def test_kubernetes_version_keeps_the_clusters_and_their_paths():
    config = b'clusters:\n  prod: {kubernetes: "1.31", paths: [clusters/prod]}\n'
    overridden = parse_config(_with_clusters(config, ("1.29", "1.33")) or b"")
    assert [(c.name, c.kubernetes, c.paths) for c in overridden.clusters] == [
        ("prod", "1.29", ("clusters/prod",)),
        ("kubernetes-1.33", "1.33", ()),
    ]


def test_kubernetes_version_keeps_a_broken_config_at_its_own_line(make_pr, run_cli):
    pr = make_pr({".gitops-bot.yaml": "version: 1\nrender:\n  timout: 3\n"}, {"a.yaml": "x: 1\n"})
    run = run_cli(pr, "--kubernetes-version", "1.30")
    (finding,) = run.findings("config-invalid")
    assert finding["location"] == {"path": ".gitops-bot.yaml", "line": 3, "column": 1}
    assert run.exit_code == 2


def test_a_bad_kubernetes_version_is_a_usage_error(make_pr, capsys):
    pr = make_pr({"a.yaml": "x: 1\n"}, {"a.yaml": "x: 2\n"})
    argv = ["review", "--repo", str(pr.repo), "--base", pr.base, "--head", pr.head]
    assert main([*argv, "--kubernetes-version", "1.3x"]) == 2
    assert "not a Kubernetes version: '1.3x'" in capsys.readouterr().err


def test_config_path_is_read_from_the_base_revision(make_pr, run_cli):
    pr = make_pr(
        {
            "deploy/gitops-bot.yaml": "fail_on: never\nvalidation: {enabled: false}\n",
            ".gitops-bot.yaml": "fail_on: error\n",
            "apps/cm.yaml": CM.format(name="a"),
        },
        {
            "deploy/gitops-bot.yaml": "fail_on: error\n",  # the PR cannot tighten or loosen it
            "apps/cm.yaml": CM.format(name="b").replace("kind: ConfigMap", "kind: ConfigMapp"),
        },
    )
    run = run_cli(pr, "--config", "deploy/gitops-bot.yaml")
    assert run.report["validation"] is None  # switched off by the relocated file, at base
    assert run.report["fail_on"] == "never" and run.exit_code == 0
    assert sorted(f["path"] for f in run.report["changed_files"]) == [
        "apps/cm.yaml",
        "deploy/gitops-bot.yaml",
    ]
    assert any("This change edits deploy/gitops-bot.yaml" in note for note in run.report["notes"])


def test_a_broken_relocated_config_is_reported_at_its_path_and_line(make_pr, run_cli):
    pr = make_pr({"deploy/gitops-bot.yaml": "version: 1\nfail_onn: error\n"}, {"a.yaml": "x: 1\n"})
    run = run_cli(pr, "--config", "./deploy/gitops-bot.yaml")
    (finding,) = run.findings("config-invalid")
    assert finding["location"]["path"] == "deploy/gitops-bot.yaml"
    assert finding["location"]["line"] == 2
    assert finding["message"].startswith("deploy/gitops-bot.yaml: fail_onn: unknown key")
    assert run.exit_code == 2


@pytest.mark.parametrize("path", ["/etc/gitops-bot.yaml", "../other/.gitops-bot.yaml"])
def test_config_outside_the_repository_is_refused(make_pr, capsys, path):
    pr = make_pr({"a.yaml": "x: 1\n"}, {"a.yaml": "x: 2\n"})
    argv = ["review", "--repo", str(pr.repo), "--base", pr.base, "--head", pr.head]
    assert main([*argv, "--config", path]) == 2
    assert "must be a path inside the repository" in capsys.readouterr().err
