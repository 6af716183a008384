"""The 13 small Flux clusters of flux-local's test data: discovery and rendering per cluster.

Each cluster is read as flux-local reads it, under `tests/testdata/<cluster>/` (its paths are
written relative to the flux-local repository root). The tables say, from the manifests, which
Flux Kustomizations and HelmReleases exist, which Kustomization applies each (its parent), what
its source is, and what rendering gives (resources, or why it is skipped) with real kustomize
and helm and no chart repository allow-listed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.memory_tree import InMemoryTree
from bot.core.render.discovery import discover_targets
from bot.core.render.revision import render_targets
from bot.core.tree_view import TreeView
from bot.engines.runner import SandboxedRunner
from bot.engines.workspace import Workspace
from bot.model.render import RenderTarget, TargetRender
from bot.model.repo_config import RenderConfig
from bot.settings import load_settings

pytestmark = pytest.mark.integration

TESTDATA = Path(__file__).resolve().parents[2].parent / "shared/fixtures/repos/flux-local-testdata"
T = "tests/testdata"
GIT = "GitRepository flux-system/flux-system"
NOT_ALLOWED = "skipped: remote chart not allowed"

# cluster -> app target id -> (parent target id, source, outcome); outcome is the number of
# rendered resources or "skipped: <reason prefix>".
CASES: dict[str, dict[str, tuple[str, str, int | str]]] = {
    "cluster": {
        "flux-ks:flux-system/flux-system@prod": (
            "",
            f"{GIT} ./{T}/cluster/clusters/prod -> {T}/cluster/clusters/prod/",
            7,  # GitRepository, 4 Kustomizations, ConfigMap cluster-config, Secret
        ),
        "flux-ks:flux-system/apps@prod": (
            "flux-ks:flux-system/flux-system@prod",
            f"{GIT} ./{T}/cluster/apps/prod -> {T}/cluster/apps/prod/",
            7,  # Namespace, ConfigMap, 4 Certificates, HelmRelease
        ),
        "flux-ks:flux-system/infra-configs@prod": (
            "flux-ks:flux-system/flux-system@prod",
            f"{GIT} ./{T}/cluster/infrastructure/configs -> {T}/cluster/infrastructure/configs/",
            6,
        ),
        "flux-ks:flux-system/infra-controllers@prod": (
            "flux-ks:flux-system/flux-system@prod",
            f"{GIT} ./{T}/cluster/infrastructure/controllers -> "
            f"{T}/cluster/infrastructure/controllers/",
            2,
        ),
        "flux-hr:podinfo/podinfo@prod": (
            "flux-ks:flux-system/apps@prod",
            "chart podinfo * from HelmRepository flux-system/podinfo (oci://ghcr.io/stefanprodan/charts)",
            NOT_ALLOWED,
        ),
        "flux-hr:metallb/metallb@prod": (
            "flux-ks:flux-system/infra-controllers@prod",
            "chart metallb 4.1.14 from HelmRepository flux-system/bitnami "
            "(https://charts.bitnami.com/bitnami)",
            NOT_ALLOWED,
        ),
        "flux-hr:flux-system/weave-gitops@prod": (
            "flux-ks:flux-system/infra-controllers@prod",
            "chart weave-gitops 4.0.36 from HelmRepository flux-system/weave-charts "
            "(oci://ghcr.io/weaveworks/charts)",
            NOT_ALLOWED,
        ),
    },
    "cluster2": {
        # No bootstrap: GitRepository home-ops-kubernetes is this repository because the
        # Kustomization `cluster` that syncs it applies the file declaring it.
        "flux-ks:flux-system/cluster": (
            "",
            f"GitRepository flux-system/home-ops-kubernetes ./{T}/cluster2/flux -> {T}/cluster2/flux/",
            8,
        ),
        "flux-ks:flux-system/flux": (
            "flux-ks:flux-system/cluster",
            "OCIRepository flux-system/flux-manifests (oci://ghcr.io/fluxcd/flux-manifests) ./",
            "skipped: content comes from OCIRepository flux-system/flux-manifests",
        ),
        "flux-ks:flux-system/cluster-apps": (
            "flux-ks:flux-system/cluster",
            f"GitRepository flux-system/home-ops-kubernetes ./{T}/cluster2/apps -> {T}/cluster2/apps/",
            5,
        ),
        "flux-ks:flux-system/cluster-apps-headlamp": ("flux-ks:flux-system/cluster-apps", "", 1),
        "flux-ks:flux-system/cluster-apps-ingress-nginx": (
            "flux-ks:flux-system/cluster-apps",
            "",
            1,
        ),
        "flux-ks:flux-system/cluster-apps-ingress-nginx-certificates": (
            "flux-ks:flux-system/cluster-apps",
            "",
            1,
        ),
        "flux-hr:monitoring/headlamp": (
            "flux-ks:flux-system/cluster-apps-headlamp",
            "chart headlamp 0.39.0 from HelmRepository flux-system/headlamp "
            "(https://kubernetes-sigs.github.io/headlamp/)",
            NOT_ALLOWED,
        ),
        # No namespace in its file: the Kustomization's targetNamespace gives it one.
        "flux-hr:networking/ingress-nginx": (
            "flux-ks:flux-system/cluster-apps-ingress-nginx",
            "",
            NOT_ALLOWED,
        ),
    },
    "cluster3": {
        "flux-ks:flux-system/flux-system@cluster3": ("", "", 5),
        "flux-ks:flux-system/namespaces@cluster3": (
            "flux-ks:flux-system/flux-system@cluster3",
            "OCIRepository flux-system/cluster (oci://ghcr.io/allenporter/manifests/flux-local) "
            "./namespaces/overlays/cluster3",
            "skipped: content comes from OCIRepository flux-system/cluster",
        ),
        "flux-ks:flux-system/tenants@cluster3": (
            "flux-ks:flux-system/flux-system@cluster3",
            "",
            "skipped: content comes from OCIRepository flux-system/cluster",
        ),
        # Applied from the OCI artifact, so no Kustomization of this repository applies it.
        "flux-hr:podinfo/podinfo": ("", "", NOT_ALLOWED),
    },
    "cluster4": {
        "flux-ks:flux-system/cluster": ("", "", 6),
        "flux-ks:flux-system/flux": ("flux-ks:flux-system/cluster", "", "skipped: content comes"),
        "flux-ks:flux-system/cluster-apps": ("flux-ks:flux-system/cluster", "", 2),
        # Its path holds both its own ks.yaml and a kustomization.yaml that lists only the
        # release: only the release is built.
        "flux-ks:flux-system/cluster-apps-headlamp": ("flux-ks:flux-system/cluster-apps", "", 1),
        "flux-hr:monitoring/headlamp": (
            "flux-ks:flux-system/cluster-apps-headlamp",
            "",
            NOT_ALLOWED,
        ),
    },
    "cluster5": {
        "flux-ks:flux-system/flux-system@prod": ("", "", 3),
        # Outside flux-system and without spec.path: the whole source, whose generated
        # kustomization lists tests/testdata/cluster5 (it has a kustomization.yaml).
        "flux-ks:controllers/infra-controllers@prod": (
            "flux-ks:flux-system/flux-system@prod",
            "GitRepository controllers/flux-system ./ -> ./",
            4,
        ),
        "flux-hr:metallb/metallb@prod": (
            "flux-ks:controllers/infra-controllers@prod",
            "",
            NOT_ALLOWED,
        ),
        "flux-hr:flux-system/weave-gitops@prod": (
            "flux-ks:controllers/infra-controllers@prod",
            "",
            NOT_ALLOWED,
        ),
    },
    "cluster6": {
        "flux-ks:flux-system/flux-system": ("", "", 3),
        "flux-ks:flux-system/apps": ("flux-ks:flux-system/flux-system", "", 2),
        "flux-hr:default/renovate": ("flux-ks:flux-system/apps", "", NOT_ALLOWED),
    },
    "cluster7": {
        "flux-ks:flux-system/flux-system@home": ("", "", 4),
        "flux-ks:flux-system/apps@home": ("flux-ks:flux-system/flux-system@home", "", 7),
        # spec.path written with a leading slash: still relative to the source root.
        "flux-ks:flux-system/charts@home": (
            "flux-ks:flux-system/flux-system@home",
            f"{GIT} /{T}/cluster7/flux/charts -> {T}/cluster7/flux/charts/",
            2,
        ),
        "flux-hr:flux-system/cloudflared@home": (
            "flux-ks:flux-system/apps@home",
            "chart oci://ghcr.io/bjw-s-labs/helm/app-template 4.1.0 from OCIRepository "
            "flux-system/app-template",
            NOT_ALLOWED,
        ),
        "flux-hr:flux-system/unifi-controller@home": (
            "flux-ks:flux-system/apps@home",
            "",
            NOT_ALLOWED,
        ),
        "flux-hr:database/postgresql@home": ("flux-ks:flux-system/apps@home", "", NOT_ALLOWED),
        "flux-hr:flux-system/ingress-nginx@home": (
            "flux-ks:flux-system/apps@home",
            "chart ingress-nginx 4.13.3 from HelmRepository flux-system/ingress-nginx "
            "(https://kubernetes.github.io/ingress-nginx) via HelmChart chart-ns/ingress-nginx",
            NOT_ALLOWED,
        ),
    },
    "cluster8": {
        "flux-ks:flux-system/flux-system": ("", "", 3),
        "flux-ks:flux-system/apps": ("flux-ks:flux-system/flux-system", "", 9),
        "flux-hr:podinfo/podinfo": ("flux-ks:flux-system/apps", "", NOT_ALLOWED),
        "flux-hr:network/tailscale-operator": ("flux-ks:flux-system/apps", "", NOT_ALLOWED),
    },
    "cluster9": {
        # gotk-components.yaml (31 objects), gotk-sync.yaml (2), apps-sync.yaml (1)
        "flux-ks:flux-system/flux-system@dev": ("", "", 34),
        "flux-ks:flux-system/apps-stack@dev": ("flux-ks:flux-system/flux-system@dev", "", 4),
        # A chart in this repository: rendered with helm (the test pod is skipped).
        "flux-hr:default/nginx@dev": (
            "flux-ks:flux-system/apps-stack@dev",
            f"chart ./{T}/cluster9/local-charts/nginx from {GIT} (this repository)",
            3,
        ),
        "flux-hr:default/podinfo@dev": (
            "flux-ks:flux-system/apps-stack@dev",
            "chart oci://ghcr.io/stefanprodan/charts/podinfo 6.7.1 from OCIRepository "
            "default/podinfo",
            NOT_ALLOWED,
        ),
    },
    "cluster10": {
        "flux-ks:flux-system/flux-system@dev": ("", "", 3),
        "flux-ks:flux-system/apps@dev": ("flux-ks:flux-system/flux-system@dev", "", 4),
        "flux-ks:snapshot-controller/snapshot-controller@dev": (
            "flux-ks:flux-system/apps@dev",
            "",
            "skipped: source GitRepository snapshot-controller/external-snapshotter is another "
            "repository",
        ),
        "flux-hr:network-system/dex-k8s-authenticator@dev": (
            "flux-ks:flux-system/apps@dev",
            "",
            "skipped: chart source GitRepository flux-system/dex-k8s-authenticator-chart-git is "
            "another repository",
        ),
    },
    "cluster11": {
        "flux-ks:flux-system/flux-system": ("", "", 4),
        # An ArtifactGenerator combining two other repositories: not this repository.
        "flux-ks:flux-system/apps": (
            "flux-ks:flux-system/flux-system",
            "",
            "skipped: source ExternalArtifact flux-system/apps (ArtifactGenerator "
            "flux-system/my-app) is not a copy of one directory of this repository",
        ),
        "flux-hr:default/renovate": ("", "", NOT_ALLOWED),
    },
    "cluster12": {
        "flux-ks:flux-system/flux-system": ("", "", 3),
        "flux-ks:flux-system/apps": ("flux-ks:flux-system/flux-system", "", 1),
        # CRD from crds/, ServiceAccount, ConfigMap, Service.
        "flux-hr:default/flag-fixture": ("flux-ks:flux-system/apps", "", 4),
    },
    "image_error": {
        "flux-ks:flux-system/flux-system": ("", "", 3),
        "flux-ks:flux-system/apps": ("flux-ks:flux-system/flux-system", "", 2),
    },
    "repo": {},  # a ConfigMap and a Secret, and no Flux object
}


def cluster_tree(name: str) -> InMemoryTree:
    root = TESTDATA / name
    files = {
        f"{T}/{name}/{p.relative_to(root).as_posix()}": p.read_bytes()
        for p in root.rglob("*")
        if p.is_file()
    }
    return InMemoryTree(files, name)


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxedRunner]:
    with Workspace(str(tmp_path_factory.mktemp("work"))) as workspace:
        yield SandboxedRunner(load_settings(), workspace)


def render_cluster(
    name: str, runner: SandboxedRunner
) -> tuple[dict[str, RenderTarget], dict[str, TargetRender]]:
    view = TreeView(cluster_tree(name), 1 << 22)
    discovery = discover_targets(view, RenderConfig())
    apps = {t.target_id: t for t in discovery.targets if t.app is not None}
    renders = render_targets(
        [t for t in apps.values() if not t.skip_reason],
        view,
        runner,
        RenderConfig(),
        discovery.by_id(),
    )
    return apps, renders


def outcome(target: RenderTarget, render: TargetRender | None) -> int | str:
    if target.skip_reason:
        return f"skipped: {target.skip_reason}"
    assert render is not None
    if render.skipped:
        return f"skipped: {render.skipped}"
    errors = [f.message for f in render.findings if f.severity.label == "error"]
    return f"failed: {errors}" if errors else len(render.resources)


@pytest.mark.parametrize("name", sorted(CASES))
def test_discovery_and_render_per_cluster(name: str, runner: SandboxedRunner) -> None:
    apps, renders = render_cluster(name, runner)

    expected = CASES[name]
    assert sorted(apps) == sorted(expected)
    for target_id, (parent, source, result) in expected.items():
        target = apps[target_id]
        assert target.parent == parent, target_id
        if source:
            assert target.app is not None
            assert target.app.source == source, target_id
        got = outcome(target, renders.get(target_id))
        if isinstance(result, str):
            assert isinstance(got, str)
            assert got.startswith(result), (target_id, got)
        else:
            assert got == result, (target_id, got)


def _resource(render: TargetRender, kind: str, name: str) -> dict[str, Any]:
    (found,) = [r for r in render.resources if (r.key.kind, r.key.name) == (kind, name)]
    return dict(found.body)


def test_post_build_substitution_of_cluster(runner: SandboxedRunner) -> None:
    """apps@prod substitutes from its inline vars and the ConfigMap its parent applies; what
    only the Secret could set stays as written, reported, never guessed."""
    _apps, renders = render_cluster("cluster", runner)
    render = renders["flux-ks:flux-system/apps@prod"]

    names = sorted(r.key.name for r in render.resources if r.key.kind == "Certificate")
    assert names == [
        "${SECRET_DOMAIN3/./-}-staging",
        "${SECRET_DOMAIN4/./-}-staging",
        "example-com-staging",
        "other-com-staging",
    ]
    other = _resource(render, "Certificate", "other-com-staging")
    assert other["spec"]["dnsNames"] == ["other.com", "*.other.com", "example-value"]
    release = _resource(render, "HelmRelease", "podinfo")
    assert release["spec"]["chart"]["spec"]["version"] == "6.3.2"  # the prod overlay's patch
    values = release["spec"]["values"]["ingress"]
    assert values["additionalLabels"] == {"cluster_label": "example-value"}
    assert values["hosts"][0]["host"] == "podinfo.production"
    assert release["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] == "apps"
    (unresolved,) = [f for f in render.findings if f.rule_id == "flux-variable-unresolved"]
    assert "${SECRET_DOMAIN3}, ${SECRET_DOMAIN4}" in unresolved.message
    assert "Secret flux-system/cluster-secrets" in unresolved.message


def test_target_namespace_and_local_chart(runner: SandboxedRunner) -> None:
    _apps, renders = render_cluster("cluster2", runner)
    release = _resource(
        renders["flux-ks:flux-system/cluster-apps-ingress-nginx"], "HelmRelease", "ingress-nginx"
    )
    assert release["metadata"]["namespace"] == "networking"

    _apps, renders = render_cluster("cluster12", runner)
    chart = renders["flux-hr:default/flag-fixture"]
    mode = _resource(chart, "ConfigMap", "flag-fixture-mode")
    assert mode["metadata"]["namespace"] == "default"
    assert mode["data"] == {"lifecycle": "install", "chart": "flag-fixture"}
    assert mode["metadata"]["labels"]["helm.toolkit.fluxcd.io/name"] == "flag-fixture"
    assert {r.origin.path for r in chart.resources} == {
        f"{T}/cluster12/local-charts/flag-fixture/crds/flagtests.example.com.yaml",
        f"{T}/cluster12/local-charts/flag-fixture/templates/configmap.yaml",
        f"{T}/cluster12/local-charts/flag-fixture/templates/service.yaml",
        f"{T}/cluster12/local-charts/flag-fixture/templates/serviceaccount.yaml",
    }
