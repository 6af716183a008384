"""review() on real commit pairs of fluxcd/flux2-kustomize-helm-example (git bundle fixture).

Its Flux Kustomizations and HelmReleases are apps: each cluster's root Kustomizations
(clusters/<name>/*.yaml; the bootstrap gotk-sync.yaml is a stub upstream, so nothing declares
them) render their `spec.path` (since 2b8cffe through an ArtifactGenerator's ExternalArtifact),
once per cluster. The HelmReleases' charts are remote (a HelmRepository, OCI) and nothing is
allow-listed here, so each is skipped, and a change that touches one fails the check
(render.fail_on_skipped); tests/integration/test_flux_example_charts.py serves the real podinfo
chart. What stays generic: the stubbed clusters/*/flux-system kustomizations and the
clusters/* folders (the root Kustomization objects themselves, which nothing applies).

Observed and asserted as correct: `clusters/*/flux-system` renders to zero resources without a
finding. Its gotk-components.yaml/gotk-sync.yaml are comment-only stubs upstream, so kustomize
builds an empty stream and its `patches` (with a target selector) match nothing, which kustomize
does not treat as an error.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engines.runner import SandboxedRunner
from bot.engines.workspace import Workspace
from bot.model.diff import ChangeKind, FieldChange
from bot.model.finding import Severity
from bot.model.render import CoverageStatus
from bot.model.report import ExitCode, Report
from bot.model.resource import Location, ResourceKey
from bot.settings import load_settings
from tests.integration.conftest import review_commits

pytestmark = pytest.mark.integration

BUNDLE = (
    Path(__file__).resolve().parents[2].parent
    / "shared/fixtures/repos/flux2-kustomize-helm-example.bundle"
)
CLUSTERS = ("production", "staging")


def per_cluster(*names: str) -> list[str]:
    return [f"{name}@{cluster}" for name in names for cluster in CLUSTERS]


# Targets discovered in every commit since 2b8cffe ("Update structure for Flux 2.7"), with the
# resources each renders; the HelmReleases (remote charts) are skipped.
RENDERED_TARGETS = {
    **dict.fromkeys(per_cluster("flux-ks:flux-system/apps"), 3),  # Namespace, repo, release
    **dict.fromkeys(per_cluster("flux-ks:flux-system/infra-configs"), 3),
    **dict.fromkeys(per_cluster("flux-ks:flux-system/infra-controllers"), 6),
    "kustomize:clusters/production/flux-system": 0,  # stubbed gotk-*.yaml: nothing to render
    "kustomize:clusters/staging/flux-system": 0,
    "plain:clusters/production": 4,  # Kustomizations apps/infra-*, ArtifactGenerator
    "plain:clusters/staging": 4,
}
SKIPPED_APPS = {
    **dict.fromkeys(
        per_cluster("flux-hr:cert-manager/cert-manager"),
        "remote chart not allowed (oci://quay.io/jetstack/charts/cert-manager)",
    ),
    **dict.fromkeys(
        per_cluster("flux-hr:envoy-gateway-system/envoy-gateway"),
        "remote chart not allowed (oci://docker.io/envoyproxy/gateway-helm)",
    ),
    **dict.fromkeys(
        per_cluster("flux-hr:podinfo/podinfo"),
        "remote chart not allowed (https://stefanprodan.github.io/podinfo)",
    ),
}
CURRENT_TARGETS = [*RENDERED_TARGETS, *SKIPPED_APPS]

HELM_RELEASE = "helm.toolkit.fluxcd.io"
SOURCE = "source.toolkit.fluxcd.io"
FLUX_KUSTOMIZE = "kustomize.toolkit.fluxcd.io"


def skipped_releases(report: Report) -> set[str]:
    """The render-skipped errors, as "<release> (cluster <name>)"."""
    return {
        f.message.split(" was not rendered")[0].removeprefix("HelmRelease ")
        for f in report.findings
        if f.rule_id == "render-skipped" and f.severity is Severity.ERROR
    }


def not_about_flux_schemas(findings):
    """Findings other than `no-schema`: this repository ships none of its CRDs (Flux's
    gotk-components.yaml is a stub), so its custom kinds are rightly reported as unvalidated;
    test_built_in_kinds_are_valid_and_custom_kinds_listed pins exactly which."""
    return [f for f in findings if f.rule_id != "no-schema"]


@pytest.fixture(scope="session")
def flux_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not BUNDLE.is_file():
        pytest.fail(
            f"fixture bundle missing: {BUNDLE} (expected in ../shared/fixtures/repos/ next to "
            "the project root; see /work/shared/fixtures/README.md)",
            pytrace=False,
        )
    repo = tmp_path_factory.mktemp("flux") / "flux2-kustomize-helm-example"
    subprocess.run(
        ["git", "clone", "--quiet", str(BUNDLE), str(repo)],
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo.parent)},
    )
    return repo


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[SandboxedRunner]:
    with Workspace(str(tmp_path)) as workspace:
        yield SandboxedRunner(load_settings(), workspace)


def _diff_summary(
    report: Report,
) -> set[tuple[str, ResourceKey, ChangeKind, tuple[FieldChange, ...]]]:
    return {(d.target, d.key, d.change, d.fields) for d in report.diffs}


def _status(report: Report) -> dict[str, CoverageStatus]:
    return {c.target_id: c.status for c in report.coverage}


# --- (a) pairs whose rendered desired state is identical ---

IDENTICAL_PAIRS = [
    pytest.param(
        # a81337f "Migrate validation to the Flux Schema ecosystem catalog": only
        # .fluxschema.yml, .github/workflows/*, README.md and scripts/validate.sh change.
        "20f2d85d7e0340e4a7f2235ea33a508225172b7a",
        "a81337f46d7347be051ba258b347e43c98b7b2d8",
        {
            ".fluxschema.yml",
            ".github/workflows/e2e.yaml",
            ".github/workflows/test.yaml",
            "README.md",
            "scripts/validate.sh",
        },
        id="ci-and-validation-script-only",
    ),
    pytest.param(
        # Merge of PR #122 (7902045 "Add bootstrap alternative with Flux Operator"): README only.
        "7b9196e31c4e5bf93505dd8c148baa6a49f6e264",
        "96b331c8f63315590a68c18290182a66c49d2d1e",
        {"README.md"},
        id="readme-only-merge",
    ),
]


@pytest.mark.parametrize(("base", "head", "changed"), IDENTICAL_PAIRS)
def test_docs_and_ci_changes_leave_the_desired_state_alone(
    flux_repo: Path, runner: SandboxedRunner, base: str, head: str, changed: set[str]
) -> None:
    report = review_commits(flux_repo, base, head, runner)

    assert {f.path for f in report.changed_files} == changed
    assert report.diffs == ()
    assert not_about_flux_schemas(report.findings) == []
    assert report.plan().line() == "No changes to the desired state."
    # Before 7c6e245 ("Migrate ingress to Envoy Gateway") the controllers were ingress-nginx.
    release = (
        "envoy-gateway-system/envoy-gateway"
        if base == IDENTICAL_PAIRS[0].values[0]
        else ("ingress-nginx/ingress-nginx")
    )
    expected = [t.replace("envoy-gateway-system/envoy-gateway", release) for t in CURRENT_TARGETS]
    assert _status(report) == dict.fromkeys(expected, CoverageStatus.UNCHANGED)
    assert report.exit_code() is ExitCode.CLEAN


def test_every_current_target_renders(flux_repo: Path, runner: SandboxedRunner) -> None:
    """render_all on the newest pair: every Kustomization renders in both clusters, none fails;
    every HelmRelease is skipped (remote chart, nothing allow-listed) and fails the check."""
    base, head = IDENTICAL_PAIRS[0].values[:2]
    report = review_commits(flux_repo, str(base), str(head), runner, render_all=True)

    assert report.diffs == ()
    assert {c.target_id: (c.status, c.reason) for c in report.coverage} == {
        **dict.fromkeys(RENDERED_TARGETS, (CoverageStatus.RENDERED, "")),
        **{t: (CoverageStatus.SKIPPED, reason) for t, reason in SKIPPED_APPS.items()},
    }
    assert {
        c.target_id: (c.base_resources, c.head_resources)
        for c in report.coverage
        if c.status is CoverageStatus.RENDERED
    } == {t: (n, n) for t, n in RENDERED_TARGETS.items()}
    assert {c.cluster for c in report.coverage if c.app} == set(CLUSTERS)
    assert skipped_releases(report) == {
        f"{name} (cluster {cluster})"
        for name in (
            "cert-manager/cert-manager",
            "envoy-gateway-system/envoy-gateway",
            "podinfo/podinfo",
        )
        for cluster in CLUSTERS
    }
    assert {f.rule_id for f in not_about_flux_schemas(report.findings)} == {"render-skipped"}
    assert report.exit_code() is ExitCode.FINDINGS


def test_built_in_kinds_are_valid_and_custom_kinds_listed(
    flux_repo: Path, runner: SandboxedRunner
) -> None:
    """Every resource of a Kubernetes kind passes strict 1.37 validation; each custom kind
    without a CRD in the repository is listed as not validated, none silently passed."""
    base, head = IDENTICAL_PAIRS[0].values[:2]
    report = review_commits(flux_repo, str(base), str(head), runner, render_all=True)
    assert report.validation is not None
    assert report.validation.invalid == 0
    unvalidated = {(f.resource.api_group, f.resource.kind) for f in report.findings if f.resource}
    assert unvalidated == {
        (HELM_RELEASE, "HelmRelease"),
        (SOURCE, "HelmRepository"),
        (SOURCE, "OCIRepository"),
        (FLUX_KUSTOMIZE, "Kustomization"),
        ("source.extensions.fluxcd.io", "ArtifactGenerator"),
        ("gateway.networking.k8s.io", "Gateway"),
        ("gateway.networking.k8s.io", "GatewayClass"),
        ("cert-manager.io", "ClusterIssuer"),
    }
    # 16 resources per cluster (apps 3, configs 3, controllers 6, clusters/<name> 4), 13 of
    # them of custom kinds; each cluster's copy is validated on its own.
    assert (report.validation.resources, report.validation.without_schema) == (32, 26)


# --- (b) pairs whose change alters the rendered output ---

CERT_MANAGER = ResourceKey(HELM_RELEASE, "HelmRelease", "cert-manager", "cert-manager")
PODINFO = ResourceKey(HELM_RELEASE, "HelmRelease", "podinfo", "podinfo")
GATEWAY = ResourceKey("gateway.networking.k8s.io", "Gateway", "envoy-gateway-system", "envoy")
CONTROLLERS = per_cluster("flux-ks:flux-system/infra-controllers")


def test_one_value_change_in_a_helm_release(flux_repo: Path, runner: SandboxedRunner) -> None:
    # 3800e32 "Update infrastructure/controllers/cert-manager.yaml": crds.keep true -> false in
    # the cert-manager HelmRelease values; the smallest real change to rendered output. Both
    # clusters apply infrastructure/controllers, so both show it.
    base, head = (
        "ff741f5c3810e34e9fdbed2cf23160462993c599",
        "3800e328fbf19f3e45579b36a508ae8e04b33d48",
    )
    report = review_commits(flux_repo, base, head, runner)

    assert _diff_summary(report) == {
        (
            target,
            CERT_MANAGER,
            ChangeKind.MODIFIED,
            (FieldChange("spec.values.crds.keep", ChangeKind.MODIFIED),),
        )
        for target in CONTROLLERS
    }
    for diff in report.diffs:
        assert diff.origin == Location("infrastructure/controllers/cert-manager.yaml", 18)
        assert "-      keep: true\n+      keep: false" in diff.unified_diff
    assert report.plan().line() == "+0 ~2 -0 resources in 2 apps"
    status = _status(report)
    for target in CONTROLLERS:
        assert status.pop(target) is CoverageStatus.RENDERED
    # The release itself (a chart from https://charts.jetstack.io) cannot be rendered here.
    for target in per_cluster("flux-hr:cert-manager/cert-manager"):
        assert status.pop(target) is CoverageStatus.SKIPPED
    assert set(status.values()) == {CoverageStatus.UNCHANGED}
    assert skipped_releases(report) == {
        f"cert-manager/cert-manager (cluster {c})" for c in CLUSTERS
    }
    assert {f.rule_id for f in not_about_flux_schemas(report.findings)} == {"render-skipped"}
    assert report.exit_code() is ExitCode.FINDINGS


def test_envoy_gateway_upgrade(flux_repo: Path, runner: SandboxedRunner) -> None:
    # 0adbf94 "Use Envoy Gateway 1.8.0-rc.0": edits the podinfo base (both overlays), a
    # Gateway port, cert-manager and envoy-gateway releases, and drops gateway-api.yaml from
    # the controllers kustomization: modified and removed resources across three apps of each
    # cluster, and two apps (the envoy-gateway-crds release, the gateway-api Kustomization)
    # that exist only at the base.
    base, head = (
        "7c6e245ac4e2498361cb6f9ad0f8b616c617bdc4",
        "0adbf944046875ac3979314ca412a7eea752b468",
    )
    report = review_commits(flux_repo, base, head, runner)

    changes = {(d.target, d.key, d.change) for d in report.diffs}
    ns = "envoy-gateway-system"
    modified, removed = ChangeKind.MODIFIED, ChangeKind.REMOVED
    per_target = {(f"flux-ks:flux-system/apps@{c}", PODINFO, modified) for c in CLUSTERS} | {
        (f"flux-ks:flux-system/infra-configs@{c}", GATEWAY, modified) for c in CLUSTERS
    }
    for target in CONTROLLERS:
        per_target |= {
            (target, CERT_MANAGER, modified),
            (target, ResourceKey(HELM_RELEASE, "HelmRelease", ns, "envoy-gateway"), modified),
            (target, ResourceKey(HELM_RELEASE, "HelmRelease", ns, "envoy-gateway-crds"), removed),
            (target, ResourceKey(SOURCE, "OCIRepository", ns, "envoy-gateway-crds"), removed),
            (target, ResourceKey(SOURCE, "OCIRepository", ns, "gateway-helm"), modified),
            (target, ResourceKey(SOURCE, "GitRepository", ns, "gateway-api"), removed),
            (target, ResourceKey(FLUX_KUSTOMIZE, "Kustomization", ns, "gateway-api"), removed),
        }
    assert changes == per_target
    by_key = {(d.target, d.key): d for d in report.diffs}
    gateway = by_key[("flux-ks:flux-system/infra-configs@staging", GATEWAY)]
    assert gateway.fields == (FieldChange("spec.listeners[0].port", ChangeKind.MODIFIED),)
    assert gateway.origin == Location("infrastructure/configs/gateway.yaml", 9)
    podinfo = by_key[("flux-ks:flux-system/apps@staging", PODINFO)]
    assert set(podinfo.fields) == {
        FieldChange("spec.install.remediation", ChangeKind.REMOVED),
        FieldChange("spec.install.strategy", ChangeKind.ADDED),
        FieldChange("spec.upgrade", ChangeKind.ADDED),
    }
    removed_crds = by_key[
        (CONTROLLERS[0], ResourceKey(SOURCE, "OCIRepository", ns, "envoy-gateway-crds"))
    ]
    assert removed_crds.origin == Location("infrastructure/controllers/envoy-gateway.yaml", 9)
    assert report.plan().line() == "+0 ~10 -8 resources in 6 apps"
    coverage = {
        c.target_id: (c.status, c.base_resources, c.head_resources) for c in report.coverage
    }
    rendered, unchanged, skipped = (
        CoverageStatus.RENDERED,
        CoverageStatus.UNCHANGED,
        CoverageStatus.SKIPPED,
    )
    assert coverage == {
        **dict.fromkeys(per_cluster("flux-ks:flux-system/apps"), (rendered, 3, 3)),
        **dict.fromkeys(per_cluster("flux-ks:flux-system/infra-configs"), (rendered, 3, 3)),
        **dict.fromkeys(CONTROLLERS, (rendered, 10, 6)),
        **dict.fromkeys(
            per_cluster(
                "flux-hr:podinfo/podinfo",
                "flux-hr:cert-manager/cert-manager",
                f"flux-hr:{ns}/envoy-gateway",
                f"flux-hr:{ns}/envoy-gateway-crds",
                f"flux-ks:{ns}/gateway-api",  # synced from kubernetes-sigs/gateway-api
            ),
            (skipped, 0, 0),
        ),
        "kustomize:clusters/production/flux-system": (unchanged, 0, 0),
        "kustomize:clusters/staging/flux-system": (unchanged, 0, 0),
        "plain:clusters/production": (unchanged, 0, 0),
        "plain:clusters/staging": (unchanged, 0, 0),
    }
    # Removed apps need no render; the releases that stay do, and cannot be.
    assert skipped_releases(report) == {
        f"{name} (cluster {c})"
        for name in ("podinfo/podinfo", "cert-manager/cert-manager", f"{ns}/envoy-gateway")
        for c in CLUSTERS
    }
    assert {f.rule_id for f in not_about_flux_schemas(report.findings)} == {"render-skipped"}


def test_rewritten_kustomization_with_identical_output(
    flux_repo: Path, runner: SandboxedRunner
) -> None:
    # 1d4cec0 "Use Kustomize patches instead of patchesStrategicMerge": both overlays' inputs
    # change, so both are rendered, but what they build is byte-for-byte the same.
    base, head = (
        "e0a99531bcb6f7816785e5a60d2eae000085e2c5",
        "1d4cec0930d5dfe3c8bb8f2d380e8267d0a1698e",
    )
    report = review_commits(flux_repo, base, head, runner)

    assert report.diffs == ()
    assert report.plan().line() == "No changes to the desired state."
    status = _status(report)
    for target in per_cluster("flux-ks:flux-system/apps"):
        assert status.pop(target) is CoverageStatus.RENDERED
    for target in per_cluster("flux-hr:podinfo/podinfo"):
        assert status.pop(target) is CoverageStatus.SKIPPED
    assert set(status.values()) == {CoverageStatus.UNCHANGED}
    assert skipped_releases(report) == {f"podinfo/podinfo (cluster {c})" for c in CLUSTERS}


AFFECTED_ONLY_PAIRS = [
    pytest.param(
        "ff741f5c3810e34e9fdbed2cf23160462993c599",
        "3800e328fbf19f3e45579b36a508ae8e04b33d48",
        id="3800e32-cert-manager-value",
    ),
    pytest.param(
        "7c6e245ac4e2498361cb6f9ad0f8b616c617bdc4",
        "0adbf944046875ac3979314ca412a7eea752b468",
        id="0adbf94-envoy-gateway",
    ),
    pytest.param(
        # 2b8cffe "Update structure for Flux 2.7": adds clusters/*/artifacts.yaml (new
        # resources in the plain folders) and rewrites the infrastructure releases.
        "a484a05e9270cb8e4b56a1e4a8f60e66c7923fc6",
        "2b8cffe3f7a4a27e031c81b4ff361d7e9dee46c6",
        id="2b8cffe-flux-2.7-layout",
    ),
    pytest.param(
        # 8cee664 "Refactor the infrastructure layer": kustomize:infrastructure disappears,
        # infrastructure/{configs,controllers} and clusters/*/flux-system appear.
        "f74b89c4e23672e6bfaa9c0f204e57179d335173",
        "8cee66461b9454a1bd8e5e566dd8272d92195307",
        id="8cee664-infrastructure-refactor",
    ),
    pytest.param(
        # 7578a38 "Add Helm repositories": a new infrastructure/kustomization.yaml starts
        # including infrastructure/nginx and infrastructure/redis, which stop being targets of
        # their own although none of their files change (see the test below).
        "20fc35a18812f97846f4b8ecd5d3a1d33ee86a06",
        "7578a380a840f66bf05a705d77504bab45dcdbd1",
        id="7578a38-dirs-absorbed-by-new-kustomization",
    ),
]


@pytest.mark.parametrize(("base", "head"), AFFECTED_ONLY_PAIRS)
def test_affected_only_rendering_never_misses_a_change(
    flux_repo: Path, runner: SandboxedRunner, base: str, head: str
) -> None:
    affected = review_commits(flux_repo, base, head, runner)
    everything = review_commits(flux_repo, base, head, runner, render_all=True)

    assert affected.diffs, "pick pairs that change the desired state"
    assert _diff_summary(affected) == _diff_summary(everything)
    # Whatever affected-only rendering calls "unchanged" must really have no diff.
    unchanged = {c.target_id for c in affected.coverage if c.status is CoverageStatus.UNCHANGED}
    assert not unchanged & {d.target for d in everything.diffs}
    assert all(c.status is not CoverageStatus.UNCHANGED for c in everything.coverage)


def test_target_absorbed_by_a_new_kustomization_is_not_unchanged(
    flux_repo: Path, runner: SandboxedRunner
) -> None:
    """A target that exists only at base (or only at head) is affected, never "unchanged".

    At 20fc35a, infrastructure/nginx and infrastructure/redis are kustomize targets. 7578a38
    adds infrastructure/kustomization.yaml listing them, so at head they are rendered as part
    of kustomize:infrastructure and their own targets no longer exist, although none of their
    input files changed.
    """
    report = review_commits(
        flux_repo,
        "20fc35a18812f97846f4b8ecd5d3a1d33ee86a06",
        "7578a380a840f66bf05a705d77504bab45dcdbd1",
        runner,
    )
    status = _status(report)
    assert status["kustomize:infrastructure"] is CoverageStatus.RENDERED
    assert status["kustomize:infrastructure/nginx"] is not CoverageStatus.UNCHANGED
    assert status["kustomize:infrastructure/redis"] is not CoverageStatus.UNCHANGED


# --- a real render failure ---

STAGING_FIX = (
    "1c1a12c5a0096160e07031640427139731252bad",
    "8a2bd1d09104679148828d3aa991baac33ae8f8f",
)


def test_base_that_does_not_render_is_a_warning_with_file_and_line(
    flux_repo: Path, runner: SandboxedRunner
) -> None:
    # 8a2bd1d "Fix staging overlay" adds `namespace: podinfo` to the staging patch. Before it,
    # kustomize v5 cannot match the patch (HelmRelease podinfo.[noNs]) and the build fails.
    report = review_commits(flux_repo, *STAGING_FIX, runner)

    (entry,) = [c for c in report.coverage if c.target_id == "flux-ks:flux-system/apps@staging"]
    assert entry.status is CoverageStatus.FAILED
    assert entry.reason == "base revision does not render; no diff"
    assert (entry.base_resources, entry.head_resources) == (0, 2)
    # The podinfo release (a remote chart) is skipped and fails the check; the base's failure
    # itself is only a warning.
    assert skipped_releases(report) == {"podinfo/podinfo (cluster staging)"}
    (finding,) = [
        f for f in not_about_flux_schemas(report.findings) if f.rule_id != "render-skipped"
    ]
    assert finding.rule_id == "render-failed"
    assert finding.severity is Severity.WARNING
    assert finding.location == Location("apps/staging/kustomization.yaml", 1)
    assert finding.message.startswith("at the base revision: kustomize failed:")
    assert "no matches for Id HelmRelease.v2beta1.helm.toolkit.fluxcd.io/podinfo" in finding.message
    assert report.diffs == ()
    assert [f.rule_id for f in report.failing_findings()] == ["render-skipped"]


def test_plan_line_does_not_claim_no_changes_when_a_target_was_not_diffed(
    flux_repo: Path, runner: SandboxedRunner
) -> None:
    """A target that could not be diffed is never summed up as "no changes".

    For 8a2bd1d the staging overlay goes from "does not build" to 2 resources.
    """
    report = review_commits(flux_repo, *STAGING_FIX, runner)

    assert report.coverage_count(CoverageStatus.FAILED) == 1
    assert report.plan().line() == (
        "No changes in the targets that rendered; 1 target could not be diffed."
    )
