"""ApplicationSets expanded offline: list and git generators, templates, skipped generators."""

import pytest

from bot.core.render.argo.appset import expand_application_set
from bot.core.safe_yaml import load_yaml_documents
from bot.core.tree_view import TreeView
from bot.model.finding import Severity
from bot.model.repo_config import RenderConfig
from tests.core.fakes import FakeTree

URL = "https://github.com/acme/gitops.git"
CONFIG = RenderConfig(repo_urls=(URL,))
TREE = {
    "apps/web/deploy.yaml": "kind: Deployment\n",
    "apps/cache/deploy.yaml": "kind: Deployment\n",
    "apps/cache/overlays/prod/kustomization.yaml": "resources: []\n",
    "apps/legacy/deploy.yaml": "kind: Deployment\n",
    "apps/.hidden/deploy.yaml": "kind: Deployment\n",
    "config/eu/config.yaml": "cluster: {name: eu, address: https://eu}\nreplicas: 2\n",
    "config/us/config.yaml": "- cluster: {name: us-east}\n- cluster: {name: us-west}\n",
    "config/bad/config.yaml": "just a string\n",
}


def appset(spec: str, name: str = "set") -> str:
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\n"
        f"metadata:\n  name: {name}\n  namespace: argocd\nspec:\n{spec}"
    )


def expand(text: str, tree=TREE):
    doc = load_yaml_documents(text, "appsets/set.yaml").documents[0]
    return expand_application_set(
        doc, "appsets/set.yaml", TreeView(FakeTree(tree), 1 << 20), CONFIG
    )


TEMPLATE = (
    "  template:\n"
    '    metadata: {name: "NAME"}\n'
    "    spec:\n"
    "      project: default\n"
    f'      source: {{repoURL: {URL}, path: "PATH"}}\n'
    '      destination: {namespace: "NS"}\n'
)


def template(name: str, path: str, ns: str = "default") -> str:
    return TEMPLATE.replace("NAME", name).replace("PATH", path).replace("NS", ns)


def summary(expansion):
    return [
        (
            a.body["metadata"]["name"],
            a.body["metadata"]["namespace"],
            a.body["spec"]["source"]["path"],
            a.body["spec"]["destination"]["namespace"],
            sorted(a.inputs),
        )
        for a in expansion.apps
    ]


GIT_DIRS = f"""  generators:
    - git:
        repoURL: {URL}
        revision: HEAD
        directories:
          - path: apps/*
          - path: apps/legacy
            exclude: true
"""

CASES = [
    pytest.param(
        "  generators:\n    - list:\n        elements:\n"
        "          - {env: staging}\n          - {env: prod}\n"
        + template("web-{{env}}", "apps/web", "web-{{env}}"),
        [
            ("web-staging", "argocd", "apps/web", "web-staging", []),
            ("web-prod", "argocd", "apps/web", "web-prod", []),
        ],
        id="list",
    ),
    pytest.param(
        GIT_DIRS + template("{{path.basename}}", "{{path}}", "{{path[1]}}"),
        [
            ("cache", "argocd", "apps/cache", "cache", []),
            ("web", "argocd", "apps/web", "web", []),
        ],
        id="git-directories-exclude-and-hidden",
    ),
    pytest.param(
        "  goTemplate: true\n"
        + GIT_DIRS
        + template("{{ .path.basename }}", "{{ .path.path }}", "{{ index .path.segments 1 }}"),
        [
            ("cache", "argocd", "apps/cache", "cache", []),
            ("web", "argocd", "apps/web", "web", []),
        ],
        id="git-directories-go-template",
    ),
    pytest.param(
        f"  generators:\n    - git:\n        repoURL: {URL}\n        files:\n"
        "          - path: config/e*/config.yaml\n"
        + template("{{cluster.name}}-{{path.basename}}", "apps/web", "{{path.filename}}"),
        [("eu-eu", "argocd", "apps/web", "config.yaml", ["config/eu/config.yaml"])],
        id="git-files-flattened",
    ),
    pytest.param(
        f"  goTemplate: true\n  generators:\n    - git:\n        repoURL: {URL}\n"
        "        files:\n          - path: config/u*/config.yaml\n"
        + template("{{ .cluster.name }}", "{{ .path.path }}", "{{ .path.basename }}"),
        [
            ("us-east", "argocd", "config/us", "us", ["config/us/config.yaml"]),
            ("us-west", "argocd", "config/us", "us", ["config/us/config.yaml"]),
        ],
        id="git-files-list-of-parameter-sets",
    ),
    pytest.param(
        "  generators:\n    - list:\n        elements:\n"
        "          - {env: staging, tier: low}\n          - {env: prod, tier: high}\n"
        "      selector:\n        matchLabels: {tier: high}\n"
        + template("web-{{env}}", "apps/web"),
        [("web-prod", "argocd", "apps/web", "default", [])],
        id="selector",
    ),
    pytest.param(
        "  generators:\n    - list:\n        elements: [{env: qa}]\n"
        "      template:\n        spec:\n          destination: {namespace: override}\n"
        + template("web-{{env}}", "apps/web", "web-{{env}}"),
        [("web-qa", "argocd", "apps/web", "override", [])],
        id="generator-template-overrides",
    ),
]


@pytest.mark.parametrize(("text", "apps"), CASES)
def test_generators_expand_to_applications(text, apps):
    expansion = expand(appset(text))
    assert summary(expansion) == apps
    assert expansion.skipped == ()
    assert expansion.findings == ()
    assert all(a.findings == () for a in expansion.apps)


@pytest.mark.parametrize(
    ("generator", "reason"),
    [
        ("clusters: {}", "the clusters generator needs a cluster or an external service"),
        ("matrix: {generators: []}", "the matrix generator combines other generators"),
        ("pullRequest: {github: {owner: a, repo: b}}", "the pullRequest generator needs"),
        (
            "git: {repoURL: https://github.com/other/repo, directories: [{path: '*'}]}",
            "git generator: source is not this repository: https://github.com/other/repo",
        ),
    ],
)
def test_generators_that_need_the_live_system_are_skipped(generator, reason):
    text = appset(f"  generators:\n    - {generator}\n" + template("x", "apps/web"))
    expansion = expand(text)
    assert expansion.apps == ()
    ((index, text),) = expansion.skipped
    assert index == 0
    assert text.startswith(reason)


def test_skipped_and_expanded_generators_side_by_side():
    text = appset(
        "  generators:\n    - clusters: {}\n    - list: {elements: [{env: a}]}\n"
        + template("web-{{env}}", "apps/web")
    )
    expansion = expand(text)
    assert [a.body["metadata"]["name"] for a in expansion.apps] == ["web-a"]
    assert [i for i, _ in expansion.skipped] == [0]


def test_unresolved_fasttemplate_parameter_is_a_warning_at_its_line():
    text = appset(
        "  generators:\n    - list: {elements: [{env: a}]}\n" + template("web-{{envv}}", "apps/web")
    )
    (app,) = expand(text).apps
    (finding,) = app.findings
    assert finding.rule_id == "argocd-template-unresolved"
    assert finding.severity is Severity.WARNING
    assert "{{envv}}" in finding.message
    assert (finding.location.path, finding.location.line) == ("appsets/set.yaml", 10)


def test_go_template_control_structure_is_an_error_at_its_line():
    text = appset(
        "  goTemplate: true\n  generators:\n    - list: {elements: [{env: a}]}\n"
        + template("web", "apps/web", "{{ if .env }}x{{ end }}")
    )
    (app,) = expand(text).apps
    (finding,) = app.findings
    assert finding.rule_id == "argocd-template-unsupported"
    assert finding.severity is Severity.ERROR
    assert finding.location.line == 15


@pytest.mark.parametrize(
    ("spec", "message", "line"),
    [
        ("  generators: []\n" + template("x", "y"), "has no generators", 7),
        ("  generators:\n    - list: {elements: [{env: a}]}\n", "has no spec.template", 6),
        (
            "  templatePatch: 'spec: {}'\n  generators:\n    - list: {elements: [{a: b}]}\n"
            + template("x", "apps/web"),
            "templatePatch is not rendered offline",
            7,
        ),
        (
            "  generators:\n    - list:\n        elements: [{env: a, replicas: 2}]\n"
            + template("x", "apps/web"),
            "list.elements[0].replicas is not a string",
            8,
        ),
    ],
)
def test_broken_application_sets_are_findings(spec, message, line):
    expansion = expand(appset(spec))
    assert expansion.findings, "expected a finding"
    finding = expansion.findings[-1]
    assert finding.rule_id == "argocd-applicationset-invalid"
    assert message in finding.message
    assert (finding.location.path, finding.location.line) == ("appsets/set.yaml", line)


def test_git_files_generator_reports_a_file_that_is_not_parameters():
    text = appset(
        f"  generators:\n    - git:\n        repoURL: {URL}\n        files:\n"
        "          - path: config/*/config.yaml\n" + template("{{cluster.name}}", "apps/web")
    )
    expansion = expand(text)
    assert sorted(a.body["metadata"]["name"] for a in expansion.apps) == [
        "eu",
        "us-east",
        "us-west",
    ]
    (finding,) = expansion.findings
    assert finding.location.path == "config/bad/config.yaml"
    assert "must hold a mapping" in finding.message
