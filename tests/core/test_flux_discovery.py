"""Flux discovery on small in-memory repositories: ids, parents, clusters, sources, skips, and
the input files that decide when an app renders."""

from typing import Any

import pytest

from bot.core.render.discovery import discover_targets
from bot.core.tree_view import TreeView
from bot.model.render import RenderTarget, TargetKind
from bot.model.repo_config import RenderConfig
from tests.core.fakes import FakeTree


def kustomization(
    name: str,
    path: str,
    source: str = "GitRepository/flux-system",
    namespace: str = "flux-system",
    extra: str = "",
) -> str:
    kind, _, source_name = source.partition("/")
    return f"""apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: {namespace}
spec:
  path: {path}
  sourceRef:
    kind: {kind}
    name: {source_name}
{extra}"""


def release(name: str, namespace: str, chart: str) -> str:
    return f"""apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
  namespace: {namespace}
spec:
{chart}"""


LOCAL_CHART = """  chart:
    spec:
      chart: ./charts/web
      sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}
  valuesFrom:
    - {kind: ConfigMap, name: web-values}
"""
REMOTE_CHART = """  chart:
    spec:
      chart: podinfo
      version: 6.x
      sourceRef: {kind: HelmRepository, name: podinfo, namespace: flux-system}
"""
HELM_REPOSITORY = """apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  url: https://stefanprodan.github.io/podinfo
"""
CONFIG_MAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: {namespace}
data:
  values.yaml: "replicas: 2"
"""
VARS = "  postBuild:\n    substituteFrom:\n      - {kind: ConfigMap, name: cluster-vars}\n  dependsOn:\n    - name: infra\n"

REPO = {
    "clusters/staging/apps.yaml": kustomization("apps", "./apps/staging", extra=VARS),
    "clusters/staging/vars.yaml": CONFIG_MAP.format(name="cluster-vars", namespace="flux-system"),
    "clusters/production/apps.yaml": kustomization("apps", "./apps/production", extra=VARS),
    "clusters/production/vars.yaml": CONFIG_MAP.format(
        name="cluster-vars", namespace="flux-system"
    ),
    "apps/base/kustomization.yaml": "namespace: web\nresources: [web.yaml, podinfo.yaml, values.yaml, repo.yaml]\n",
    "apps/base/web.yaml": release("web", "", LOCAL_CHART),
    "apps/base/podinfo.yaml": release("podinfo", "web", REMOTE_CHART),
    "apps/base/values.yaml": CONFIG_MAP.format(name="web-values", namespace="web"),
    "apps/base/repo.yaml": HELM_REPOSITORY,
    "apps/staging/kustomization.yaml": "resources: [../base]\npatches: [{path: patch.yaml}]\n",
    "apps/staging/patch.yaml": release("web", "web", "  values: {replicas: 1}\n"),
    "apps/production/kustomization.yaml": "resources: [../base]\n",
    "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "charts/web/templates/deploy.yaml": "kind: Deployment\n{{ .Values }}\n",
    "README.md": "docs",
}


def discover(files: dict[str, Any], config: RenderConfig | None = None) -> dict[str, RenderTarget]:
    targets = discover_targets(TreeView(FakeTree(files), 1 << 20), config or RenderConfig()).targets
    return {t.target_id: t for t in targets}


def test_one_app_per_cluster_with_parents_and_clusters() -> None:
    targets = discover(REPO)

    assert sorted(targets) == [
        "flux-hr:web/podinfo@production",
        "flux-hr:web/podinfo@staging",
        "flux-hr:web/web@production",
        "flux-hr:web/web@staging",
        "flux-ks:flux-system/apps@production",
        "flux-ks:flux-system/apps@staging",
        # the root Kustomizations' own files, which nothing in the repository applies
        "plain:clusters/production",
        "plain:clusters/staging",
    ]
    web = targets["flux-hr:web/web@staging"]
    assert (web.kind, web.parent, web.cluster, web.path) == (
        TargetKind.FLUX_HELMRELEASE,
        "flux-ks:flux-system/apps@staging",
        "staging",
        "charts/web",
    )
    assert web.app is not None
    # The namespace comes from the base kustomization (the file names none).
    assert (web.app.kind, web.app.namespace, web.app.name) == ("HelmRelease", "web", "web")
    apps = targets["flux-ks:flux-system/apps@staging"].app
    assert apps is not None
    assert apps.source == "GitRepository flux-system/flux-system ./apps/staging -> apps/staging/"
    assert apps.depends_on == ("flux-system/infra",)
    assert apps.declared_in is not None and apps.declared_in.path == "clusters/staging/apps.yaml"


def test_input_files_decide_what_an_app_depends_on() -> None:
    targets = discover(REPO)
    staging = targets["flux-ks:flux-system/apps@staging"].input_files
    assert staging == {
        "clusters/staging/apps.yaml",
        "clusters/staging/vars.yaml",  # its substituteFrom, from its own cluster
        "apps/staging/kustomization.yaml",
        "apps/staging/patch.yaml",
        "apps/base/kustomization.yaml",
        "apps/base/web.yaml",
        "apps/base/podinfo.yaml",
        "apps/base/values.yaml",
        "apps/base/repo.yaml",
    }
    web = targets["flux-hr:web/web@staging"].input_files
    # Its file, what shapes it in the parent's build (kustomization files, the patch), the
    # parent's own definition and variables, its chart and its values ConfigMap; never its
    # siblings (podinfo.yaml, repo.yaml).
    assert web == {
        "apps/base/web.yaml",
        "apps/base/values.yaml",
        "apps/base/kustomization.yaml",
        "apps/staging/kustomization.yaml",
        "apps/staging/patch.yaml",
        "clusters/staging/apps.yaml",
        "clusters/staging/vars.yaml",
        "charts/web/Chart.yaml",
        "charts/web/templates/deploy.yaml",
    }
    podinfo = targets["flux-hr:web/podinfo@production"].input_files
    assert "apps/base/repo.yaml" in podinfo  # the HelmRepository
    assert "apps/base/web.yaml" not in podinfo


@pytest.mark.parametrize(
    ("files", "target_id", "reason"),
    [
        pytest.param(
            {
                "clusters/a/ks.yaml": kustomization("x", "./deploy", "GitRepository/other"),
                "clusters/a/src.yaml": "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: other\n  namespace: flux-system\nspec:\n  url: https://example.com/other.git\n",
            },
            "flux-ks:flux-system/x@a",
            "source GitRepository flux-system/other is another repository (https://example.com/other.git)",
            id="another-repository",
        ),
        pytest.param(
            {"clusters/a/ks.yaml": kustomization("x", "./", "OCIRepository/manifests")},
            "flux-ks:flux-system/x@a",
            "content comes from OCIRepository flux-system/manifests, not from this repository",
            id="oci",
        ),
        pytest.param(
            {"clusters/a/ks.yaml": kustomization("x", "./", "GitRepository/undeclared")},
            "flux-ks:flux-system/x@a",
            "source GitRepository flux-system/undeclared is not declared in this repository",
            id="undeclared",
        ),
    ],
)
def test_content_elsewhere_is_skipped(files: dict[str, str], target_id: str, reason: str) -> None:
    target = discover(files)[target_id]
    assert (target.skip_reason, target.skip_unexpected) == (reason, False)


def test_repo_urls_make_a_git_repository_this_repository() -> None:
    files = {
        "clusters/a/ks.yaml": kustomization("x", "./deploy", "GitRepository/fleet"),
        "clusters/a/src.yaml": "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: fleet\n  namespace: flux-system\nspec:\n  url: ssh://git@github.com/acme/fleet.git\n",
        "deploy/cm.yaml": CONFIG_MAP.format(name="a", namespace="b"),
    }
    assert discover(files)["flux-ks:flux-system/x@a"].skip_reason
    config = RenderConfig(repo_urls=("https://github.com/acme/fleet",))
    target = discover(files, config)["flux-ks:flux-system/x@a"]
    assert (target.skip_reason, target.path) == ("", "deploy")


def test_artifact_generator_maps_back_to_a_directory() -> None:
    generator = """apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: gen
  namespace: flux-system
spec:
  sources:
    - {alias: repo, kind: GitRepository, name: flux-system}
  artifacts:
    - name: apps
      copy:
        - {from: "@repo/apps/base/**", to: "@artifact/base/"}
        - {from: "@repo/apps/prod/**", to: "@artifact/prod/"}
"""
    files = {
        "clusters/prod/gen.yaml": generator,
        "clusters/prod/apps.yaml": kustomization("apps", "./prod", "ExternalArtifact/apps"),
        "apps/prod/kustomization.yaml": "resources: [cm.yaml]\n",
        "apps/prod/cm.yaml": CONFIG_MAP.format(name="a", namespace="b"),
    }
    target = discover(files)["flux-ks:flux-system/apps@prod"]
    assert (target.skip_reason, target.path) == ("", "apps/prod")
    assert "clusters/prod/gen.yaml" in target.input_files


def test_configured_cluster_paths() -> None:
    files = {
        "fleet/eu-1/apps.yaml": kustomization("apps", "./deploy"),
        "deploy/cm.yaml": CONFIG_MAP.format(name="a", namespace="b"),
    }
    assert "flux-ks:flux-system/apps" in discover(files)
    config = RenderConfig(cluster_paths={"eu-1": ("fleet/eu-1",), "fleet": ("fleet",)})
    target = discover(files, config)["flux-ks:flux-system/apps@eu-1"]  # the most specific wins
    assert target.cluster == "eu-1"


@pytest.mark.parametrize(
    ("path", "rule"),
    [("../../etc", "path-escapes-repo"), ("./not/there", "flux-path-missing")],
)
def test_bad_paths_block_the_app(path: str, rule: str) -> None:
    target = discover({"clusters/a/ks.yaml": kustomization("x", path)})["flux-ks:flux-system/x@a"]
    (finding,) = target.blocked_by
    assert finding.rule_id == rule
    assert finding.location is not None
    assert (finding.location.path, finding.location.line) == ("clusters/a/ks.yaml", 7)


def test_bootstrap_applies_itself_and_its_children() -> None:
    sync = kustomization("flux-system", "./clusters/a")
    files = {
        "clusters/a/flux-system/gotk-sync.yaml": sync,
        "clusters/a/flux-system/kustomization.yaml": "resources: [gotk-sync.yaml]\n",
        "clusters/a/apps.yaml": kustomization("apps", "./deploy"),
        "deploy/cm.yaml": CONFIG_MAP.format(name="a", namespace="b"),
    }
    targets = discover(files)
    assert targets["flux-ks:flux-system/flux-system@a"].parent == ""
    assert targets["flux-ks:flux-system/apps@a"].parent == "flux-ks:flux-system/flux-system@a"
    # Everything is rendered by an app: no generic target is left.
    assert all(t.app is not None for t in targets.values())


def test_kustomizations_that_apply_each_other_are_still_discovered() -> None:
    files = {
        "a/ks.yaml": kustomization("a", "./b"),
        "b/ks.yaml": kustomization("b", "./a"),
    }
    targets = discover(files)
    assert sorted(targets) == ["flux-ks:flux-system/a", "flux-ks:flux-system/b"]
    assert targets["flux-ks:flux-system/b"].parent == "flux-ks:flux-system/a"


def test_patch_files_are_not_apps() -> None:
    targets = discover(REPO)
    assert not [
        t
        for t in targets.values()
        if t.app and t.app.declared_in and t.app.declared_in.path == "apps/staging/patch.yaml"
    ]
