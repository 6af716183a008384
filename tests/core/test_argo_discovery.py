"""Argo CD discovery: which Applications become targets, with which inputs, parent, cluster
and skip reason, and what every bad input becomes."""

import pytest

from bot.core.render.argo import discover
from bot.core.render.discovery import discover_targets
from bot.core.tree_view import TreeView
from bot.model.finding import Severity
from bot.model.render import TargetKind
from bot.model.repo_config import RenderConfig
from tests.core.fakes import FakeTree

URL = "https://github.com/acme/gitops.git"
CONFIG = RenderConfig(
    repo_urls=(URL,),
    cluster_paths={"prod": ("clusters/prod",), "staging": ("clusters/staging", "apps/cache")},
)


def application(name: str, source: str, namespace: str = "", dest: str = "default") -> str:
    ns = f"\n  namespace: {namespace}" if namespace else ""
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        f"metadata:\n  name: {name}{ns}\nspec:\n  project: default\n"
        f"{source}  destination:\n    namespace: {dest}\n"
    )


def source(path: str, extra: str = "", url: str = URL) -> str:
    return f"  source:\n    repoURL: {url}\n    path: {path}\n{extra}"


DEPLOY = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {}\n"
REPO = {
    "clusters/prod/root.yaml": application(
        "root", source("clusters/prod/apps"), "argocd", dest="argocd"
    ),
    "clusters/prod/apps/web.yaml": application(
        "web",
        source("apps/web", "    directory:\n      recurse: true\n      exclude: '*.json'\n"),
        dest="web",
    ),
    "clusters/prod/apps/chart.yaml": application(
        "chart",
        source(
            "charts/web", "    helm:\n      valueFiles: [values-prod.yaml, $ARGOCD_APP_NAME.yaml]\n"
        ),
    ),
    "clusters/prod/apps/redis.yaml": application(
        "redis", "  source:\n    repoURL: https://charts.bitnami.com/bitnami\n    chart: redis\n"
    ),
    "clusters/staging/cache.yaml": application(
        "cache", source("apps/cache/overlays/staging"), "argocd"
    ),
    "clusters/prod/notes.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n"
    "  annotations: {link: argoproj.io}\n",
    "apps/web/deploy.yaml": DEPLOY.format("web"),
    "apps/web/sub/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n",
    "apps/web/notes.json": "{}",
    "apps/cache/base/kustomization.yaml": "resources: [deploy.yaml]\n",
    "apps/cache/base/deploy.yaml": DEPLOY.format("cache"),
    "apps/cache/overlays/staging/kustomization.yaml": "resources: [../../base]\n"
    "patches: [{path: patch-app.yaml}]\n",
    "apps/cache/overlays/staging/patch-app.yaml": application("cache", source("x")),
    "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    "charts/web/values-prod.yaml": "replicas: 2\n",
    "charts/web/chart.yaml": "replicas: 3\n",
    "charts/web/templates/app.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
    "metadata:\n  name: {{ .Values.name }}\n",
}


def targets(files=REPO, config=CONFIG):
    found = discover(TreeView(FakeTree(files), 1 << 20), config)
    return {t.target_id: t for t in found.targets}, found


def test_application_targets_and_their_inputs():
    found, _ = targets()
    assert sorted(found) == [
        "argo:argocd/cache",
        "argo:argocd/chart",
        "argo:argocd/redis",
        "argo:argocd/root",
        "argo:argocd/web",
    ]
    assert all(t.kind is TargetKind.ARGO_APPLICATION for t in found.values())
    assert found["argo:argocd/web"].input_files == {
        "clusters/prod/root.yaml",  # the parent declares (and renders) this Application
        "clusters/prod/apps/web.yaml",
        "apps/web/deploy.yaml",
        "apps/web/sub/svc.yaml",
    }
    assert found["argo:argocd/chart"].input_files == {
        "clusters/prod/root.yaml",
        "clusters/prod/apps/chart.yaml",
        "charts/web/Chart.yaml",
        "charts/web/values-prod.yaml",
        "charts/web/chart.yaml",
        "charts/web/templates/app.yaml",
    }
    assert found["argo:argocd/root"].input_files == {
        "clusters/prod/root.yaml",
        "clusters/prod/apps/web.yaml",
        "clusters/prod/apps/chart.yaml",
        "clusters/prod/apps/redis.yaml",
    }
    assert found["argo:argocd/cache"].input_files == {
        "clusters/staging/cache.yaml",
        "apps/cache/base/kustomization.yaml",
        "apps/cache/base/deploy.yaml",
        "apps/cache/overlays/staging/kustomization.yaml",
        "apps/cache/overlays/staging/patch-app.yaml",  # in the kustomization's directory
    }


@pytest.mark.parametrize(
    ("target_id", "parent", "cluster", "namespace", "source"),
    [
        ("argo:argocd/root", "", "prod", "argocd", "clusters/prod/apps (directory)"),
        # No metadata.namespace: the parent's destination namespace, as Argo CD applies it.
        ("argo:argocd/web", "argo:argocd/root", "prod", "argocd", "apps/web (directory)"),
        ("argo:argocd/chart", "argo:argocd/root", "prod", "argocd", "charts/web (helm)"),
        ("argo:argocd/cache", "", "staging", "argocd", "apps/cache/overlays/staging (kustomize)"),
    ],
)
def test_parent_cluster_and_app_reference(target_id, parent, cluster, namespace, source):
    target = targets()[0][target_id]
    assert (target.parent, target.cluster) == (parent, cluster)
    assert (target.app.kind, target.app.namespace, target.app.source) == (
        "Application",
        namespace,
        source,
    )


def test_remote_source_is_skipped_with_the_reason():
    redis = targets()[0]["argo:argocd/redis"]
    assert redis.skip_reason == "source is not this repository: https://charts.bitnami.com/bitnami"
    assert redis.blocked_by == ()
    assert redis.input_files == {"clusters/prod/root.yaml", "clusters/prod/apps/redis.yaml"}


def test_without_repo_urls_every_app_is_skipped_and_says_how_to_fix_it():
    found, _ = targets(config=RenderConfig())
    assert {t.skip_reason for t in found.values()} == {
        f"source is not this repository: {u} (render.repo_urls in .gitops-bot.yaml lists this "
        "repository's URLs)"
        for u in (URL, "https://charts.bitnami.com/bitnami")
    }


def test_only_rendered_content_covers_generic_targets():
    """The root Application's file is applied by hand: it stays a plain target (its diff is
    shown); the child Applications are the root's content, and the apps' sources are theirs."""
    _, found = targets()
    assert "clusters/prod/root.yaml" not in found.covers
    assert {"clusters/prod/apps/web.yaml", "apps/web/deploy.yaml"} <= found.covers
    generic = discover_targets(TreeView(FakeTree(REPO), 1 << 20), CONFIG).by_id()
    assert generic["plain:clusters/prod"].input_files == {
        "clusters/prod/root.yaml",
        "clusters/prod/notes.yaml",
    }
    assert "plain:clusters/prod/apps" not in generic
    assert "kustomize:apps/cache/overlays/staging" not in generic
    assert "helm:charts/web" not in generic


def test_children_do_not_depend_on_their_siblings():
    found, _ = targets()
    assert "clusters/prod/apps/chart.yaml" not in found["argo:argocd/web"].input_files
    assert "clusters/prod/apps/web.yaml" not in found["argo:argocd/chart"].input_files


def test_self_managed_root_renders_its_own_file():
    files = {
        "argocd/root.yaml": application("root", source("argocd"), "argocd", dest="argocd"),
        "argocd/web.yaml": application("web", source("apps/web")),
        "apps/web/deploy.yaml": DEPLOY.format("web"),
    }
    found, result = targets(files)
    assert found["argo:argocd/root"].parent == ""
    assert found["argo:argocd/web"].parent == "argo:argocd/root"
    assert {"argocd/root.yaml", "argocd/web.yaml"} <= result.covers


def test_application_set_targets():
    files = {
        "appsets/set.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\n"
        "metadata: {name: envs, namespace: argocd}\nspec:\n  generators:\n"
        "    - list: {elements: [{env: a}, {env: b}]}\n    - clusters: {}\n"
        "  template:\n    metadata: {name: 'web-{{env}}'}\n    spec:\n"
        f"      source: {{repoURL: {URL}, path: 'apps/{{{{env}}}}'}}\n"
        "      destination: {namespace: '{{env}}'}\n",
        "apps/a/cm.yaml": "kind: ConfigMap\n",
        "apps/b/cm.yaml": "kind: ConfigMap\n",
    }
    found, _ = targets(files)
    assert sorted(found) == [
        "argo-appset:argocd/envs#generators[1]",
        "argo:argocd/web-a",
        "argo:argocd/web-b",
    ]
    assert found["argo:argocd/web-a"].input_files == {"appsets/set.yaml", "apps/a/cm.yaml"}
    assert found["argo:argocd/web-a"].app.declared_in.path == "appsets/set.yaml"
    skipped = found["argo-appset:argocd/envs#generators[1]"]
    assert skipped.skip_reason.startswith("the clusters generator needs a cluster")
    assert skipped.app.display() == "ApplicationSet argocd/envs"


def blocked(files, target_id):
    target = targets(files)[0][target_id]
    assert target.blocked_by, f"{target_id} should be blocked"
    return [
        (f.rule_id, f.severity, f.location.path, f.location.line, f.message)
        for f in target.blocked_by
    ]


HELM = "apps/web.yaml"


def helm_app(extra: str, path: str = "web") -> dict[str, str]:
    return {
        HELM: application("web", source(path, "    helm:\n" + extra)),
        "web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        "web/values.yaml": "{}\n",
        "other/values.yaml": "{}\n",
    }


@pytest.mark.parametrize(
    ("extra", "rule", "line", "text"),
    [
        (
            "      valueFiles: [../../etc/passwd]\n",
            "path-escapes-repo",
            11,
            "(../../etc/passwd) points outside the repository; it was not read",
        ),
        (
            "      valueFiles:\n        - values.yaml\n        - ../../../etc/shadow\n",
            "path-escapes-repo",
            13,
            "valueFiles[1] (../../../etc/shadow) points outside",
        ),
        (
            "      valueFiles: [https://example.com/values.yaml]\n",
            "remote-values-not-allowed",
            11,
            "never fetches remote value files",
        ),
        (
            "      valueFiles: [missing.yaml]\n",
            "argocd-value-file-missing",
            11,
            "names web/missing.yaml, which does not exist",
        ),
        (
            "      valueFiles: [$values/other/values.yaml]\n",
            "argocd-application-invalid",
            11,
            "no source of this Application has `ref: values`",
        ),
        (
            "      fileParameters: [{name: cert, path: ../../../etc/ssl/key.pem}]\n",
            "path-escapes-repo",
            11,
            "points outside the repository",
        ),
    ],
)
def test_bad_helm_inputs_block_the_app_with_file_and_line(extra, rule, line, text):
    ((found_rule, severity, path, found_line, message),) = blocked(helm_app(extra), "argo:web")
    assert (found_rule, severity, path, found_line) == (rule, Severity.ERROR, HELM, line)
    assert text in message


def test_value_files_inside_the_repo_are_tracked_even_when_missing_and_ignored():
    files = helm_app(
        "      ignoreMissingValueFiles: true\n      valueFiles: [/other/values.yaml, gone.yaml]\n"
    )
    target = targets(files)[0]["argo:web"]
    assert target.blocked_by == ()
    assert {"other/values.yaml", "web/gone.yaml"} <= target.input_files


def test_escaping_source_path_and_missing_path():
    files = {
        "a.yaml": application("up", source("../outside")),
        "b.yaml": application("gone", source("not/there")),
    }
    assert blocked(files, "argo:up")[0][:2] == ("path-escapes-repo", Severity.ERROR)
    assert blocked(files, "argo:gone")[0][0] == "argocd-path-invalid"


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        (
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: x}\n",
            "has no spec",
            1,
        ),
        (
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: x}\n"
            "spec:\n  destination: {namespace: a}\n",
            "neither spec.source nor spec.sources",
            4,
        ),
        (
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: x}\n"
            f"spec:\n  source:\n    repoURL: {URL}\n    path: web\n    targetRevision: 1.0\n",
            "spec.source.targetRevision must be a string",
            8,
        ),
        (
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: x}\n"
            f"spec:\n  source:\n    repoURL: {URL}\n    path: web\n    helm: {{}}\n"
            "    kustomize: {}\n",
            "more than one source type (helm, kustomize)",
            5,
        ),
    ],
)
def test_invalid_applications_are_findings_at_their_line(text, message, line):
    files = {"x.yaml": text, "web/Chart.yaml": "name: web\n"}
    ((rule, severity, path, found_line, found),) = blocked(files, "argo:x")
    assert (severity, path, found_line) == (Severity.ERROR, "x.yaml", line)
    assert rule == "argocd-application-invalid"
    assert message in found


def test_duplicate_application_is_reported():
    files = {
        "a.yaml": application("web", source("apps")),
        "b.yaml": application("web", source("apps")),
        "apps/cm.yaml": "kind: ConfigMap\n",
    }
    ((rule, _, path, _, message),) = blocked(files, "argo:web")
    assert (rule, path) == ("argocd-duplicate-application", "b.yaml")
    assert "also at a.yaml:1" in message


def test_multi_source_ref_to_another_repository_skips_the_source():
    files = {
        "a.yaml": application(
            "web",
            f"  sources:\n    - repoURL: {URL}\n      path: web\n      helm:\n"
            "        valueFiles: [$values/envs/prod.yaml]\n"
            "    - repoURL: https://github.com/acme/values\n      ref: values\n",
        ),
        "web/Chart.yaml": "name: web\n",
    }
    target = targets(files)[0]["argo:web"]
    assert target.skip_reason == "source is not this repository: https://github.com/acme/values"


def test_multi_source_ref_in_this_repository_is_an_input():
    files = {
        "a.yaml": application(
            "web",
            f"  sources:\n    - repoURL: {URL}\n      path: web\n      helm:\n"
            "        valueFiles: [$values/envs/prod.yaml]\n"
            f"    - repoURL: {URL}\n      ref: values\n",
        ),
        "web/Chart.yaml": "name: web\n",
        "envs/prod.yaml": "replicas: 3\n",
    }
    target = targets(files)[0]["argo:web"]
    assert target.blocked_by == () and target.skip_reason == ""
    assert target.input_files == {"a.yaml", "web/Chart.yaml", "envs/prod.yaml"}
    assert target.app.source == "web (helm)"


def test_jsonnet_in_a_directory_source_is_refused():
    files = {
        "a.yaml": application("web", source("apps/web")),
        "apps/web/main.jsonnet": "{}",
        "apps/web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    }
    ((rule, severity, path, line, message),) = blocked(files, "argo:web")
    assert (rule, severity, path, line) == ("argocd-unsupported", Severity.ERROR, "a.yaml", 9)
    assert "apps/web/main.jsonnet is Jsonnet" in message
