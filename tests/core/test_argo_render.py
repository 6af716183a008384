"""Rendering Argo CD Applications with a fake runner: the exact tool invocations, Argo CD's
kustomize edits and Helm arguments, destination namespaces, and app-of-apps."""

import json

import pytest

from bot.core.render.argo.helm import set_value
from bot.core.render.argo.kustomize import edited_kustomization, parse_image
from bot.core.render.argo.namespaces import apply_destination_namespace
from bot.core.render.argo.spec import KustomizeOptions
from bot.core.render.discovery import discover_targets
from bot.core.render.revision import render_targets
from bot.core.tree_view import TreeView
from bot.model.finding import Severity
from bot.model.repo_config import RenderConfig
from bot.model.resource import Location, Resource, ResourceKey
from bot.ports import CommandFailure, CommandResult
from tests.core.fakes import FakeRunner, FakeTree, ok

URL = "https://github.com/acme/gitops.git"
CONFIG = RenderConfig(repo_urls=(URL,))


@pytest.mark.parametrize(
    ("arg", "entry"),
    [
        ("nginx:1.27", {"name": "nginx", "newTag": "1.27"}),
        (
            "nginx=ghcr.io/acme/nginx:1.28",
            {"name": "nginx", "newName": "ghcr.io/acme/nginx", "newTag": "1.28"},
        ),
        ("nginx@sha256:abc", {"name": "nginx", "digest": "sha256:abc"}),
        ("nginx=mirror/nginx", {"name": "nginx", "newName": "mirror/nginx"}),
        ("registry:5000/app:2", {"name": "registry:5000/app", "newTag": "2"}),
    ],
)
def test_kustomize_image_syntax(arg, entry):
    assert parse_image(arg) == entry


BASE = {
    "resources": ["../base"],
    "namePrefix": "old-",
    "images": [{"name": "nginx", "newTag": "1.0", "digest": "sha256:old"}],
    "commonLabels": {"team": "a"},
}


@pytest.mark.parametrize(
    ("options", "changes", "refused"),
    [
        (KustomizeOptions("k", name_prefix="new-"), {"namePrefix": "new-"}, []),  # replaces
        (
            KustomizeOptions("k", images=("nginx:1.2", "redis:7")),
            {"images": [{"name": "nginx", "newTag": "1.2"}, {"name": "redis", "newTag": "7"}]},
            [],
        ),
        (
            KustomizeOptions("k", images=("$ARGOCD_APP_NAME:v1",)),
            {"images": [*BASE["images"], {"name": "web", "newTag": "v1"}]},
            [],
        ),
        (
            KustomizeOptions("k", common_labels={"env": "prod"}),
            {"commonLabels": {"team": "a", "env": "prod"}},
            [],
        ),
        (KustomizeOptions("k", common_labels={"team": "b"}), {}, ["label team is already"]),
        (
            KustomizeOptions("k", common_labels={"team": "b"}, force_common_labels=True),
            {"commonLabels": {"team": "b"}},
            [],
        ),
        (
            KustomizeOptions("k", common_labels={"x": "y"}, label_without_selector=True),
            {"labels": [{"pairs": {"x": "y"}, "includeSelectors": False}]},
            [],
        ),
        (
            KustomizeOptions("k", namespace="prod", replicas=(("web", "3"),)),
            {"namespace": "prod", "replicas": [{"name": "web", "count": 3}]},
            [],
        ),
    ],
)
def test_argo_kustomize_edits(options, changes, refused):
    edited, problems = edited_kustomization(BASE, options, {"ARGOCD_APP_NAME": "web"})
    assert edited == {**BASE, **changes}
    assert [p[: len(r)] for p, r in zip(problems, refused, strict=True)] == refused


def test_kustomize_components_that_exist_are_added_missing_ones_dropped_when_allowed():
    files = {
        "base/kustomization.yaml": "resources: []\n",
        "components/tls/kustomization.yaml": "kind: Component\n",
        "apps/web.yaml": application(
            "web",
            "    path: base\n    kustomize:\n      ignoreMissingComponents: true\n"
            "      components: [../components/tls, ../components/gone]\n",
        ),
    }
    seen = {}

    def respond(command, tree):
        seen["inputs"] = command.inputs
        seen["kustomization"] = json.loads(tree.read("base/kustomization.yaml"))
        return ok("")

    renders, _ = render(files, respond, ["argo:argocd/web"])
    assert renders["argo:argocd/web"].findings == ()
    assert seen["kustomization"]["components"] == ["../components/tls"]
    assert seen["inputs"] == {
        "base/kustomization.yaml",
        "components/tls/kustomization.yaml",
        "components/gone/kustomization.yaml",  # absent: listed so that adding it re-renders
    }


@pytest.mark.parametrize(
    ("value", "escaped"),
    [("a,b", "a\\,b"), ("{a,b}", "{a,b}"), ("a\\,b", "a\\,b"), ("plain", "plain")],
)
def test_helm_set_values_escape_commas_like_argo_cd(value, escaped):
    assert set_value(value) == escaped


def resource(kind, api_version="v1", namespace="", name="x", **spec):
    body = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}
    if namespace:
        body["metadata"]["namespace"] = namespace
    if spec:
        body["spec"] = spec
    return Resource(ResourceKey.of(body), body, Location("f.yaml"), "t")


CRD = resource(
    "CustomResourceDefinition",
    "apiextensions.k8s.io/v1",
    name="widgets.acme.io",
    group="acme.io",
    scope="Cluster",
    names={"kind": "Widget"},
)


@pytest.mark.parametrize(
    ("item", "namespace"),
    [
        (resource("ConfigMap"), "dest"),
        (resource("ConfigMap", namespace="own"), "own"),
        (resource("Namespace"), ""),
        (resource("ClusterRole", "rbac.authorization.k8s.io/v1"), ""),
        (resource("Widget", "acme.io/v1"), ""),  # cluster-scoped by the CRD in the same app
        (resource("Gadget", "acme.io/v1"), "dest"),
    ],
)
def test_destination_namespace_only_fills_namespaced_objects(item, namespace):
    placed = apply_destination_namespace((CRD, item), "dest")
    assert placed[1].key.namespace == namespace
    assert placed[1].body["metadata"].get("namespace", "") == namespace
    assert placed[0] is CRD


def application(name, source, dest="prod", namespace="argocd"):
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        f"metadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n"
        f"  source:\n    repoURL: {URL}\n{source}"
        f"  destination:\n    namespace: {dest}\n"
    )


def render(files, respond, only=None):
    view = TreeView(FakeTree(files), 1 << 20)
    found = discover_targets(view, CONFIG).by_id()
    runner = FakeRunner(respond)
    wanted = [found[t] for t in (only or found)]
    return render_targets(wanted, view, runner, CONFIG, found), runner


CHART = {
    "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    "charts/web/values.yaml": "replicas: 1\n",
    "charts/web/values-prod.yaml": "replicas: 2\n",
    "charts/web/templates/cm.yaml": "kind: ConfigMap\n",
    "envs/prod.yaml": "replicas: 3\n",
}
HELM_OUTPUT = (
    "---\n# Source: web/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\n"
    "metadata:\n  name: web\n"
)


def test_helm_source_runs_helm_template_like_argo_cd():
    files = {
        **CHART,
        "apps/web.yaml": application(
            "web",
            "    path: charts/web\n    helm:\n      valueFiles: [values-prod.yaml, /envs/prod.yaml]\n"
            "      valuesObject: {greeting: hi}\n"
            "      parameters:\n        - {name: image.tag, value: 'a,b'}\n"
            "        - {name: build, value: '007', forceString: true}\n",
        ),
    }
    generated = {}

    def respond(command, tree):
        generated.update({p: tree.read(p) for p in command.inputs if p.startswith(".gitops-bot")})
        return ok(HELM_OUTPUT)

    renders, runner = render(files, respond, ["argo:argocd/web"])
    (command,) = runner.calls
    (values_path,) = generated
    assert json.loads(generated[values_path]) == {"greeting": "hi"}
    assert command.args == (
        "template", "web", "./charts/web", "--namespace", "prod", "--skip-tests",
        "--include-crds", "--values", "./charts/web/values-prod.yaml", "--values",
        "./envs/prod.yaml", "--values", f"./{values_path}", "--set", "image.tag=a\\,b",
        "--set-string", "build=007",
    )  # fmt: skip
    assert command.inputs == {*CHART, values_path}
    (cm,) = renders["argo:argocd/web"].resources
    assert (cm.key.namespace, cm.origin.path) == ("prod", "charts/web/templates/cm.yaml")


def test_kustomize_options_reach_kustomize_through_an_edited_copy():
    files = {
        "base/kustomization.yaml": "resources: [cm.yaml]\nnamePrefix: base-\n",
        "base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
        "apps/web.yaml": application(
            "web", "    path: base\n    kustomize:\n      namePrefix: prod-\n      namespace: web\n"
        ),
    }
    seen = {}

    def respond(command, tree):
        seen["args"], seen["inputs"] = command.args, command.inputs
        seen["kustomization"] = json.loads(tree.read("base/kustomization.yaml"))
        return ok("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: prod-cm\n  namespace: web\n")

    renders, _ = render(files, respond, ["argo:argocd/web"])
    assert seen["args"][0] == "./base"
    assert "--load-restrictor=LoadRestrictionsRootOnly" in seen["args"]
    assert seen["inputs"] == {"base/kustomization.yaml", "base/cm.yaml"}
    assert seen["kustomization"] == {
        "resources": ["cm.yaml"],
        "namePrefix": "prod-",
        "namespace": "web",
    }
    assert files["base/kustomization.yaml"].startswith("resources")  # the repo is untouched
    (cm,) = renders["argo:argocd/web"].resources
    assert (cm.key.namespace, cm.key.name, cm.origin.path) == ("web", "prod-cm", "base/cm.yaml")


def test_directory_source_reads_files_in_process_and_ignores_other_yaml():
    files = {
        "apps/web.yaml": application(
            "web", "    path: web\n    directory:\n      recurse: true\n      include: '*.yaml'\n"
        ),
        "web/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
        "web/nested/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n",
        "web/config.yaml": "settings: {debug: true}\n",  # not a manifest: Argo CD skips it
        "web/broken.yml": "apiVersion: v1\nkind: [\nmetadata:\n",
        "web/extra.json": '{"apiVersion": "v1", "kind": "ConfigMap"}',
    }
    renders, runner = render(files, lambda c, t: ok(""), ["argo:argocd/web"])
    assert runner.calls == []
    result = renders["argo:argocd/web"]
    assert sorted(r.key.display() for r in result.resources) == [
        "Namespace prod",
        "apps/Deployment prod/web",
    ]
    assert [(f.rule_id, f.location.path) for f in result.findings] == []


def test_parse_failure_of_a_manifest_in_a_directory_source_is_reported():
    files = {
        "apps/web.yaml": application("web", "    path: web\n"),
        "web/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n",
    }
    renders, _ = render(files, lambda c, t: ok(""), ["argo:argocd/web"])
    (finding,) = renders["argo:argocd/web"].findings
    assert (finding.rule_id, finding.location.path) == ("yaml-malformed", "web/broken.yaml")


APP_OF_APPS = {
    "root.yaml": application("root", "    path: apps\n", dest="argocd"),
    "apps/kustomization.yaml": "resources: [web.yaml]\n",
    "apps/web.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
    f"metadata:\n  name: web\nspec:\n  source:\n    repoURL: {URL}\n    path: web\n"
    "  destination:\n    namespace: web\n",
    "web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
}


def test_child_application_is_rendered_as_its_parent_renders_it():
    """The root's kustomization renames the child and moves its path: the child renders
    from the object in the root's output, found by its file and line."""
    patched = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: prod-web\n"
        f"spec:\n  source:\n    repoURL: {URL}\n    path: web\n  destination:\n"
        "    namespace: patched\n"
    )
    renders, runner = render(APP_OF_APPS, lambda c, t: ok(patched))
    assert [c.args[0] for c in runner.calls] == ["./apps"]  # the root renders once
    (app,) = renders["argo:argocd/root"].resources
    assert app.key == ResourceKey("argoproj.io", "Application", "argocd", "prod-web")
    (cm,) = renders["argo:argocd/web"].resources
    assert cm.key == ResourceKey("", "ConfigMap", "patched", "cm")


def test_child_of_a_failed_parent_fails_with_a_pointer_to_it():
    def fail(command, tree):
        return CommandResult(b"", "Error: boom", 1, CommandFailure.EXIT_STATUS)

    renders, _ = render(APP_OF_APPS, fail)
    (finding,) = renders["argo:argocd/web"].findings
    assert finding.severity is Severity.ERROR
    assert "declared through argo:argocd/root, which did not render" in finding.message
    assert (finding.location.path, finding.location.line) == ("apps/web.yaml", 1)


def test_remote_source_next_to_a_local_one_is_a_warning():
    files = {
        **CHART,
        "apps/web.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        "metadata: {name: web, namespace: argocd}\nspec:\n  sources:\n"
        f"    - repoURL: {URL}\n      path: charts/web\n"
        "    - repoURL: https://charts.example.com\n      chart: extra\n"
        "  destination: {namespace: web}\n",
    }
    renders, _ = render(files, lambda c, t: ok(HELM_OUTPUT), ["argo:argocd/web"])
    result = renders["argo:argocd/web"]
    assert len(result.resources) == 1
    (warning,) = result.findings
    assert warning.severity is Severity.WARNING
    assert (
        "spec.sources[1] of argo:argocd/web is not rendered: source is not this" in warning.message
    )
    assert warning.location.line == 8


def test_child_moved_by_its_parent_warns_that_its_inputs_are_untracked():
    moved = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\n"
        f"spec:\n  source:\n    repoURL: {URL}\n    path: other\n  destination:\n"
        "    namespace: web\n"
    )
    files = {
        **APP_OF_APPS,
        "other/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: o\n",
    }
    renders, _ = render(files, lambda c, t: ok(moved))
    result = renders["argo:argocd/web"]
    assert [r.key.name for r in result.resources] == ["o"]
    (warning,) = result.findings
    assert warning.rule_id == "argocd-inputs-untracked"
    assert "other/cm.yaml" in warning.message


def test_revision_variables_are_rendered_empty_with_a_warning():
    files = {
        **CHART,
        "apps/web.yaml": application(
            "web",
            "    path: charts/web\n    helm:\n"
            "      parameters: [{name: rev, value: $ARGOCD_APP_REVISION}]\n",
        ),
    }
    renders, runner = render(files, lambda c, t: ok(HELM_OUTPUT), ["argo:argocd/web"])
    assert runner.calls[0].args[-2:] == ("--set", "rev=")
    (warning,) = renders["argo:argocd/web"].findings
    assert (warning.rule_id, warning.severity) == ("argocd-env-unknown", Severity.WARNING)
    assert "$ARGOCD_APP_REVISION" in warning.message


def test_applications_templated_by_a_chart_are_diffed_but_not_rendered():
    files = {
        **CHART,
        "charts/web/templates/app.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        "metadata:\n  name: {{ .Values.name }}\n",
        "apps/root.yaml": application("root", "    path: charts/web\n", dest="argocd"),
    }
    output = (
        "---\n# Source: web/templates/app.yaml\napiVersion: argoproj.io/v1alpha1\n"
        "kind: Application\nmetadata:\n  name: generated\n"
    )
    renders, _ = render(files, lambda c, t: ok(output))
    assert [i for i in renders if i.startswith("argo")] == ["argo:argocd/root"]  # no template
    result = renders["argo:argocd/root"]
    assert [r.key.name for r in result.resources] == ["generated"]
    (warning,) = result.findings
    assert (warning.rule_id, warning.severity) == ("argocd-app-not-rendered", Severity.WARNING)
    assert warning.location.path == "charts/web/templates/app.yaml"
