import pytest

from bot.core.render.discovery import discover_targets
from bot.core.tree_view import TreeView
from bot.model.render import HelmRelease, TargetKind
from bot.model.repo_config import HelmReleaseConfig, RenderConfig
from tests.core.fakes import FakeTree

DEPLOY = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n"

REPO = {
    "apps/web/base/kustomization.yaml": "resources: [deploy.yaml]\n",
    "apps/web/base/deploy.yaml": DEPLOY.format(name="web"),
    "apps/web/overlays/prod/kustomization.yaml": "resources: [../../base]\n",
    "apps/web/overlays/staging/kustomization.yaml": "resources: [../../base]\n",
    "apps/web/component/kustomization.yaml": "kind: Component\n",
    "charts/cache/Chart.yaml": "apiVersion: v2\nname: cache\nversion: 0.1.0\n",
    "charts/cache/values.yaml": "replicas: 1\n",
    "charts/cache/values-prod.yaml": "replicas: 2\n",
    "charts/cache/values.staging.yaml": "replicas: 1\n",
    "charts/cache/templates/deploy.yaml": "kind: Deployment\n",
    "charts/cache/charts/dep/Chart.yaml": "apiVersion: v2\nname: dep\nversion: 1.0.0\n",
    "charts/lib/Chart.yaml": "apiVersion: v2\nname: lib\ntype: library\nversion: 1.0.0\n",
    "charts/plain/Chart.yaml": "apiVersion: v2\nname: plain\nversion: 1.0.0\n",
    "clusters/prod/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n",
    "clusters/prod/notes.yaml": "just: some config, not a manifest\n",
    "clusters/prod/broken.yaml": "apiVersion: v1\nkind: [unclosed\n",
    ".github/workflows/ci.yaml": "apiVersion: nope\nkind: Workflow\n",
    "ignored/x.yaml": DEPLOY.format(name="x"),
    ".gitops-bot.yaml": "version: 1\n",
}


DEFAULT = RenderConfig()


def discover(files, config=DEFAULT):
    return {
        t.target_id: t for t in discover_targets(TreeView(FakeTree(files), 1 << 20), config).targets
    }


def test_targets_of_a_mixed_repository():
    targets = discover(REPO, RenderConfig(ignore=("ignored/*",)))
    assert sorted(targets) == [
        "helm:charts/cache#prod",
        "helm:charts/cache#staging",
        "helm:charts/lib",
        "helm:charts/plain",
        "kustomize:apps/web/overlays/prod",
        "kustomize:apps/web/overlays/staging",
        "plain:clusters/prod",
    ]


@pytest.mark.parametrize(
    ("target_id", "kind", "inputs"),
    [
        (
            "kustomize:apps/web/overlays/prod",
            TargetKind.KUSTOMIZE,
            {
                "apps/web/overlays/prod/kustomization.yaml",
                "apps/web/base/kustomization.yaml",
                "apps/web/base/deploy.yaml",
            },
        ),
        (
            "helm:charts/cache#prod",
            TargetKind.HELM,
            {
                "charts/cache/Chart.yaml",
                "charts/cache/values.yaml",
                "charts/cache/values-prod.yaml",
                "charts/cache/templates/deploy.yaml",
                "charts/cache/charts/dep/Chart.yaml",
            },
        ),
        (
            "plain:clusters/prod",
            TargetKind.PLAIN,
            {"clusters/prod/ns.yaml", "clusters/prod/broken.yaml"},
        ),
    ],
    ids=["overlay-includes-base", "helm-env-excludes-other-envs", "plain-only-manifests"],
)
def test_each_target_knows_its_inputs(target_id, kind, inputs):
    target = discover(REPO)[target_id]
    assert target.kind is kind
    assert target.input_files == inputs


def test_values_file_convention_sets_release():
    target = discover(REPO)["helm:charts/cache#prod"]
    assert target.helm == HelmRelease("cache", "", ("charts/cache/values-prod.yaml",))


def test_configured_releases_replace_the_convention():
    config = RenderConfig(
        helm_releases=(
            HelmReleaseConfig(
                "charts/cache", HelmRelease("cache", "prod", ("charts/cache/values-prod.yaml",))
            ),
            HelmReleaseConfig(
                "charts/cache",
                HelmRelease("cache", "staging", ("charts/cache/values.staging.yaml",)),
            ),
        )
    )
    targets = discover(REPO, config)
    assert "helm:charts/cache#prod" not in targets
    prod = targets["helm:charts/cache#prod/cache"]
    assert "charts/cache/values.staging.yaml" not in prod.input_files
    assert "charts/cache/values-prod.yaml" in prod.input_files


def test_blocked_kustomization_carries_its_findings():
    files = {"k/kustomization.yaml": "resources:\n  - https://example.com/all.yaml\n"}
    target = discover(files)["kustomize:k"]
    assert [f.rule_id for f in target.blocked_by] == ["remote-base-not-allowed"]


@pytest.mark.parametrize(
    "files",
    [
        {"self/kustomization.yaml": "resources: [., cm.yaml]\n"},
        {
            "a/kustomization.yaml": "resources: [../b]\n",
            "b/kustomization.yaml": "resources: [../a]\n",
        },
    ],
    ids=["self-reference", "two-cycle"],
)
def test_kustomizations_in_a_cycle_stay_targets(files):
    ids = set(discover(files))
    assert ids == {f"kustomize:{path.split('/')[0]}" for path in files}


def test_library_chart_is_listed_as_skipped_with_the_reason():
    target = discover(REPO)["helm:charts/lib"]
    assert target.skip_reason.startswith("library chart")
