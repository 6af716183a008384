"""review() of real commit ranges of fluxcd/flux2-multi-tenancy (git bundle fixture).

Its clusters apply infrastructure (kyverno: an OCIRepository and the Kustomization that syncs
it, then policies) and tenants (per cluster, an overlay that patches the dev-team tenant's
Kustomization to its cluster's path). The dev-team tenant syncs another branch of another
repository and the kyverno controller an OCI artifact: both apps are listed as skipped, as
expected, without failing the check.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.core.render.discovery import discover_targets
from bot.core.render.revision import render_targets
from bot.core.tree_view import TreeView
from bot.engines.git_tree import GitTree
from bot.engines.runner import SandboxedRunner
from bot.engines.workspace import Workspace
from bot.model.diff import ChangeKind, FieldChange
from bot.model.render import CoverageStatus
from bot.model.repo_config import RenderConfig
from bot.model.report import ExitCode
from bot.model.resource import ResourceKey
from bot.settings import load_settings
from tests.integration.conftest import review_commits

pytestmark = pytest.mark.integration

BUNDLE = (
    Path(__file__).resolve().parents[2].parent / "shared/fixtures/repos/flux2-multi-tenancy.bundle"
)
CLUSTERS = ("production", "staging")
KYVERNO_SOURCE = ResourceKey(
    "source.toolkit.fluxcd.io", "OCIRepository", "flux-system", "kyverno-controller"
)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tenancy") / "flux2-multi-tenancy"
    subprocess.run(
        ["git", "clone", "--quiet", str(BUNDLE), str(path)], check=True, capture_output=True
    )
    return path


@pytest.fixture
def runner(tmp_path: Path):
    with Workspace(str(tmp_path)) as workspace:
        yield SandboxedRunner(load_settings(), workspace)


def test_two_kyverno_updates(repo: Path, runner: SandboxedRunner) -> None:
    # 9d0bb45 (merge of "Update kyverno to v1.14.2") .. 192da05 (merge of v1.14.4): four
    # commits, two merges, one line of infrastructure/kyverno/source.yaml.
    report = review_commits(repo, "9d0bb45", "192da05", runner)

    assert {(d.target, d.key, d.change, d.fields) for d in report.diffs} == {
        (
            f"flux-ks:flux-system/kyverno@{c}",
            KYVERNO_SOURCE,
            ChangeKind.MODIFIED,
            (FieldChange("spec.ref.tag", ChangeKind.MODIFIED),),
        )
        for c in CLUSTERS
    }
    (diff, _) = report.diffs
    assert "-    tag: v1.14.2\n+    tag: v1.14.4" in diff.unified_diff
    status = {c.target_id: (c.status, c.reason) for c in report.coverage}
    for c in CLUSTERS:
        assert status.pop(f"flux-ks:flux-system/kyverno@{c}") == (CoverageStatus.RENDERED, "")
        reason = status.pop(f"flux-ks:flux-system/kyverno-controller@{c}")[1]
        assert reason.startswith("content comes from OCIRepository flux-system/kyverno-controller")
        reason = status.pop(f"flux-ks:apps/dev-team@{c}")[1]
        assert reason == (
            "source GitRepository apps/dev-team is another repository "
            "(https://github.com/fluxcd/flux2-multi-tenancy)"
        )
        for name in ("kyverno-policies", "tenants"):
            assert status.pop(f"flux-ks:flux-system/{name}@{c}")[0] is CoverageStatus.UNCHANGED
    assert {s for s, _ in status.values()} == {CoverageStatus.UNCHANGED}  # clusters/* folders
    assert [f for f in report.findings if f.rule_id.startswith(("render", "flux"))] == []
    assert report.plan().line() == "+0 ~2 -0 resources in 2 apps"
    assert report.exit_code() is ExitCode.CLEAN


def test_tenant_overlay_patches_the_tenant_kustomization(
    repo: Path, runner: SandboxedRunner
) -> None:
    # c49e6be "add namespace to kustomize files": the tenant overlays' kustomizations change
    # (namespace: apps, already the tenant's namespace), so both clusters' `tenants` render, to
    # the same objects. Each overlay patches the dev-team Kustomization to its cluster's path.
    report = review_commits(repo, "c49e6be^", "c49e6be", runner, render_all=True)

    assert report.diffs == ()
    coverage = {c.target_id: c for c in report.coverage}
    for c in CLUSTERS:
        tenants = coverage[f"flux-ks:flux-system/tenants@{c}"]
        assert (tenants.status, tenants.base_resources, tenants.head_resources) == (
            CoverageStatus.RENDERED,
            5,  # Namespace, ServiceAccount, RoleBinding, GitRepository, Kustomization
            5,
        )
        assert (tenants.app, tenants.cluster) == ("Kustomization flux-system/tenants", c)
        dev_team = coverage[f"flux-ks:apps/dev-team@{c}"]
        assert dev_team.status is CoverageStatus.SKIPPED

    with GitTree.open(repo, "c49e6be") as tree:
        view = TreeView(tree, 1 << 22)
        targets = discover_targets(view, RenderConfig()).by_id()
        for c in CLUSTERS:
            tenants = f"flux-ks:flux-system/tenants@{c}"
            assert targets[f"flux-ks:apps/dev-team@{c}"].parent == tenants
            render = render_targets([targets[tenants]], view, runner, RenderConfig(), targets)
            (kustomization,) = [
                r
                for r in render[tenants].resources
                if r.key.name == "dev-team" and r.key.kind == "Kustomization"
            ]
            assert kustomization.body["spec"]["path"] == f"./{c}"
            assert kustomization.body["metadata"]["labels"] == {
                "kustomize.toolkit.fluxcd.io/name": "tenants",
                "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
            }


def test_affected_only_equals_render_all_on_the_range(repo: Path, runner: SandboxedRunner) -> None:
    affected = review_commits(repo, "9d0bb45", "192da05", runner)
    everything = review_commits(repo, "9d0bb45", "192da05", runner, render_all=True)

    def summary(report):
        return {(d.target, d.key, d.change, d.fields) for d in report.diffs}

    assert summary(affected) == summary(everything)
    unchanged = {c.target_id for c in affected.coverage if c.status is CoverageStatus.UNCHANGED}
    rendered = {c.target_id for c in everything.coverage if c.status is CoverageStatus.RENDERED}
    assert unchanged <= rendered  # everything called unchanged really renders, to no diff
