"""Flux rendering with fake tools: what kustomize and helm are handed (the overlay, the
arguments, the values), what is done with their output, and how skips reach the coverage."""

from dataclasses import dataclass, field

import yaml

from bot.core.render.coverage import plan_targets, summarize_coverage
from bot.core.render.discovery import discover_targets
from bot.core.render.revision import render_targets
from bot.core.tree_view import TreeView
from bot.model.change import FileChange, FileStatus
from bot.model.render import CoverageStatus, TargetRender
from bot.model.repo_config import RenderConfig
from bot.ports import ChartArchive, ChartFetch, ChartFetchStatus, Command, CommandResult, RepoTree
from tests.core.fakes import FakeRunner, FakeTree, ok

APPS = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  path: ./apps
  targetNamespace: web
  sourceRef: {kind: GitRepository, name: flux-system}
  commonMetadata:
    labels: {team: web}
  postBuild:
    substitute: {env: prod}
"""
RELEASE = """apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
spec:
  chart:
    spec:
      chart: podinfo
      version: 6.x
      sourceRef: {kind: HelmRepository, name: podinfo, namespace: flux-system}
  values:
    env: ${env}
  postRenderers:
    - kustomize:
        images:
          - {name: ghcr.io/stefanprodan/podinfo, newTag: "6.0.0"}
"""
REPOSITORY = """apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  url: https://charts.example.com
"""
REPO = {
    "clusters/prod/apps.yaml": APPS,
    "clusters/prod/repo.yaml": REPOSITORY,
    "apps/release.yaml": RELEASE,
}
KS = "flux-ks:flux-system/apps@prod"
HR = "flux-hr:web/podinfo@prod"
DEPLOYMENT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\nspec:\n  replicas: 1\n"
)


def kustomize_output(tree: RepoTree) -> str:
    """What kustomize would build from the generated apps/kustomization.yaml (the release with
    the namespace set), with the substitution still to do."""
    generated = yaml.safe_load(tree.read("apps/kustomization.yaml"))
    assert generated == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["./release.yaml"],
        "namespace": "web",
    }
    body = yaml.safe_load(RELEASE)
    body["metadata"]["namespace"] = "web"
    return yaml.safe_dump(body)


def respond(command: Command, tree: FakeTree) -> CommandResult:
    if command.tool == "kustomize" and command.args[0] == "./apps":
        return ok(kustomize_output(tree))
    if command.tool == "helm":
        return ok(DEPLOYMENT)
    return ok(DEPLOYMENT.replace("replicas: 1", "replicas: 1\n  # post-rendered"))


@dataclass
class FakeCharts:
    status: ChartFetchStatus
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def fetch(self, repo_url: str, chart: str, version: str) -> ChartFetch:
        self.calls.append((repo_url, chart, version))
        if self.status is ChartFetchStatus.FETCHED:
            return ChartFetch(
                self.status, ChartArchive("ab" * 32, "podinfo-6.1.0.tgz", "6.1.0", b"tgz")
            )
        return ChartFetch(self.status, message="not today")


def render(charts: FakeCharts | None) -> tuple[dict[str, TargetRender], FakeRunner]:
    view = TreeView(FakeTree(REPO), 1 << 20)
    targets = discover_targets(view, RenderConfig()).by_id()
    runner = FakeRunner(respond)
    renders = render_targets(
        [targets[KS], targets[HR]], view, runner, RenderConfig(), targets, charts=charts
    )
    return renders, runner


def test_kustomization_overlay_build_and_post_build() -> None:
    renders, runner = render(None)

    kustomize = runner.calls[0]
    assert kustomize.args == (
        "./apps",
        "--load-restrictor=LoadRestrictionsRootOnly",
        "--enable-alpha-plugins=false",
        "--enable-helm=false",
    )
    assert kustomize.inputs is not None and "apps/kustomization.yaml" in kustomize.inputs
    (release,) = renders[KS].resources
    assert release.body["spec"]["values"] == {"env": "prod"}  # substituted
    assert release.body["metadata"]["labels"] == {
        "team": "web",
        "kustomize.toolkit.fluxcd.io/name": "apps",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
    }


def test_remote_chart_fetched_into_the_overlay() -> None:
    charts = FakeCharts(ChartFetchStatus.FETCHED)
    values_seen: list[dict[str, str]] = []

    def capture(command: Command, tree: FakeTree) -> CommandResult:
        if command.tool == "helm":
            values_seen.append(
                yaml.safe_load(tree.read(command.args[command.args.index("--values") + 1][2:]))
            )
            assert tree.read(command.args[2][2:]) == b"tgz"
        return respond(command, tree)

    view = TreeView(FakeTree(REPO), 1 << 20)
    targets = discover_targets(view, RenderConfig()).by_id()
    runner = FakeRunner(capture)
    renders = render_targets([targets[HR]], view, runner, RenderConfig(), targets, charts=charts)

    assert charts.calls == [("https://charts.example.com", "podinfo", "6.x")]
    helm = next(c for c in runner.calls if c.tool == "helm")
    assert helm.args[:3] == (
        "template",
        "podinfo",
        f"./.gitops-bot/charts/{'ab' * 32}/podinfo-6.1.0.tgz",
    )
    assert helm.args[3:][:2] == ("--namespace", "web")
    assert "--include-crds" in helm.args and "--skip-tests" in helm.args
    assert values_seen == [{"env": "prod"}]  # the release after its parent's substitution
    post = [
        c
        for c in runner.calls
        if c.tool == "kustomize" and c.args[0].startswith("./.gitops-bot/flux/")
    ]
    assert len(post) == 1
    (deployment,) = renders[HR].resources
    assert deployment.key.namespace == "web"  # helm installs it in the release namespace
    assert deployment.body["metadata"]["labels"] == {
        "helm.toolkit.fluxcd.io/name": "podinfo",
        "helm.toolkit.fluxcd.io/namespace": "web",
    }


def test_charts_not_allowed_or_not_supported_are_skipped() -> None:
    for status, reason in (
        (ChartFetchStatus.NOT_ALLOWED, "remote chart not allowed (https://charts.example.com)"),
        (ChartFetchStatus.UNSUPPORTED, "not today"),
    ):
        renders, runner = render(FakeCharts(status))
        assert (renders[HR].skipped, renders[HR].resources) == (reason, ())
        assert [c.tool for c in runner.calls] == ["kustomize"]  # the parent only
    renders, _runner = render(None)
    assert renders[HR].skipped == "remote chart not allowed (https://charts.example.com)"


def test_a_failed_fetch_is_an_error_on_the_chart() -> None:
    renders, _runner = render(FakeCharts(ChartFetchStatus.FAILED))
    (finding,) = renders[HR].findings
    assert (finding.rule_id, finding.severity.label) == ("flux-chart-fetch-failed", "error")
    assert finding.location is not None and finding.location.path == "apps/release.yaml"


def test_skips_in_the_coverage() -> None:
    view = TreeView(FakeTree(REPO), 1 << 20)
    targets = discover_targets(view, RenderConfig()).targets
    plan = plan_targets(targets, targets, [FileChange("apps/release.yaml", FileStatus.MODIFIED)])
    skipped = TargetRender(HR, skipped="remote chart not allowed (https://charts.example.com)")

    for fail, severity in ((True, "error"), (False, "warning")):
        entries, findings, diffable = summarize_coverage(plan, {HR: skipped}, {HR: skipped}, fail)
        entry = next(e for e in entries if e.target_id == HR)
        assert (entry.status, entry.app, entry.cluster) == (
            CoverageStatus.SKIPPED,
            "HelmRelease web/podinfo",
            "prod",
        )
        (finding,) = findings
        assert (finding.rule_id, finding.severity.label) == ("render-skipped", severity)
        assert (
            finding.message
            == "HelmRelease web/podinfo (cluster prod) was not rendered: remote chart not allowed (https://charts.example.com)"
        )
        assert HR not in diffable

    # An app the change removes is not rendered at head: no finding.
    removed = plan_targets(targets, [t for t in targets if t.target_id != HR], [])
    _entries, findings, _diffable = summarize_coverage(removed, {HR: skipped}, {}, True)
    assert findings == ()


def test_children_of_a_transparent_parent_render_without_it() -> None:
    """A parent whose kustomizations only list resources, with no namespace, prefix, patch or
    substitution, applies its children as written: they render without rendering it."""
    transparent = {
        "clusters/prod/apps.yaml": APPS.replace("  targetNamespace: web\n", "").split(
            "  commonMetadata:"
        )[0],
        "clusters/prod/repo.yaml": REPOSITORY,
        "apps/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [release.yaml]\n",
        "apps/release.yaml": RELEASE.replace(
            "  name: podinfo\nspec:", "  name: podinfo\n  namespace: web\nspec:"
        ),
    }
    view = TreeView(FakeTree(transparent), 1 << 20)
    targets = discover_targets(view, RenderConfig()).by_id()
    runner = FakeRunner(respond)
    renders = render_targets(
        [targets[HR]],
        view,
        runner,
        RenderConfig(),
        targets,
        charts=FakeCharts(ChartFetchStatus.FETCHED),
    )

    assert [c.tool for c in runner.calls] == ["helm", "kustomize"]  # the chart and its post-render
    assert renders[HR].findings == ()

    # With the patch of an overlay in between, the parent has to be built first.
    patched = dict(transparent)
    patched["apps/kustomization.yaml"] += "patches: [{path: patch.yaml}]\n"
    patched["apps/patch.yaml"] = (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: podinfo, namespace: web}\n"
    )
    view = TreeView(FakeTree(patched), 1 << 20)
    targets = discover_targets(view, RenderConfig()).by_id()
    runner = FakeRunner(
        lambda command, tree: (
            ok(yaml.safe_dump(yaml.safe_load(patched["apps/release.yaml"])))
            if command.args[0] == "./apps"
            else respond(command, tree)
        )
    )
    render_targets(
        [targets[HR]],
        view,
        runner,
        RenderConfig(),
        targets,
        charts=FakeCharts(ChartFetchStatus.FETCHED),
    )
    assert runner.calls[0].args[0] == "./apps"
