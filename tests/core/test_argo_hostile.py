"""Hostile and malformed Argo CD manifests: every one becomes findings, never an exception."""

import random

import pytest
import yaml

from bot.core.render.discovery import discover_targets
from bot.core.render.revision import render_targets
from bot.core.tree_view import TreeView
from bot.model.finding import Severity
from bot.model.repo_config import RenderConfig
from tests.core.fakes import FakeRunner, FakeTree, ok

URL = "https://github.com/acme/gitops.git"
CONFIG = RenderConfig(repo_urls=(URL,))
HEAD = "apiVersion: argoproj.io/v1alpha1\n"
APP = HEAD + "kind: Application\nmetadata: {name: x, namespace: argocd}\n"
SET = HEAD + "kind: ApplicationSet\nmetadata: {name: s, namespace: argocd}\n"
TREE = {
    "web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    "web/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n",
    "k/kustomization.yaml": "resources: [cm.yaml]\n",
    "k/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n",
}


def run(files):
    view = TreeView(FakeTree({**TREE, **files}), 1 << 20)
    found = discover_targets(view, CONFIG).by_id()
    renders = render_targets(
        list(found.values()), view, FakeRunner(lambda c, t: ok("")), CONFIG, found
    )
    return found, renders


HOSTILE = [
    APP + "spec: []\n",
    APP + "spec: {source: just-a-string}\n",
    APP + "spec: {sources: {a: b}}\n",
    APP + f"spec: {{source: {{repoURL: {URL}, path: [a]}}}}\n",
    APP + f"spec: {{source: {{repoURL: {URL}, path: web, helm: [1]}}}}\n",
    APP + f"spec: {{source: {{repoURL: {URL}, path: web, helm: {{valueFiles: x}}}}}}\n",
    APP
    + f"spec: {{source: {{repoURL: {URL}, path: web, helm: {{parameters: [1, {{name: 2}}]}}}}}}\n",
    APP + f"spec: {{source: {{repoURL: {URL}, path: web, helm: {{valuesObject: [1]}}}}}}\n",
    APP
    + f"spec: {{source: {{repoURL: {URL}, path: k, kustomize: {{images: [1], replicas: [x]}}}}}}\n",
    APP + f"spec: {{source: {{repoURL: {URL}, path: k, kustomize: {{commonLabels: [a]}}}}}}\n",
    APP + f"spec: {{source: {{repoURL: {URL}, path: k, directory: {{recurse: maybe}}}}}}\n",
    APP + f"spec: {{source: {{repoURL: {URL}, path: /}}, destination: [1]}}\n",
    APP + "spec: {source: {repoURL: 5}}\n",
    HEAD + "kind: Application\nmetadata: [x]\nspec: {}\n",
    SET + "spec: {generators: {list: {}}, template: {}}\n",
    SET + "spec: {generators: [{list: [1]}], template: {metadata: {name: a}}}\n",
    SET + "spec: {generators: [{list: {elements: true}}], template: {metadata: [1]}}\n",
    SET + "spec: {generators: [{git: {repoURL: " + URL + ", files: x}}], template: {spec: 1}}\n",
    SET + "spec: {generators: [{list: {elements: [{a: b}]}, selector: {matchLabels: [1]}}], "
    "template: {metadata: {name: a}}}\n",
    SET + "spec: {goTemplate: true, generators: [{list: {elements: [{a: b}]}}], "
    "template: {metadata: {name: '{{ .a.b.c }}'}, spec: {source: {repoURL: " + URL + "}}}}\n",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_malformed_manifests_become_findings(text):
    found, renders = run({"apps/x.yaml": text})
    argo = [t for i, t in found.items() if i.startswith("argo")]
    problems = [f for t in argo for f in t.blocked_by] + [
        f for i, r in renders.items() if i.startswith("argo") for f in r.findings
    ]
    skipped = [t for t in argo if t.skip_reason]
    assert problems or skipped or not argo, "a malformed manifest must be reported"
    for finding in problems:
        assert finding.location is not None and finding.location.path
        assert finding.hint
    assert all(f.severity in Severity for f in problems)


BASE_DOCS = [
    yaml.safe_load(
        APP
        + f"spec:\n  source:\n    repoURL: {URL}\n    path: web\n    helm:\n"
        + "      valueFiles: [values.yaml]\n      parameters: [{name: a, value: b}]\n"
        + "  destination: {namespace: d}\n"
    ),
    yaml.safe_load(
        SET
        + "spec:\n  goTemplate: true\n  generators:\n    - list: {elements: [{env: a}]}\n"
        + f"    - git: {{repoURL: {URL}, directories: [{{path: '*'}}]}}\n"
        + "  template:\n    metadata: {name: 'x-{{ .env }}'}\n"
        + f"    spec: {{source: {{repoURL: {URL}, path: k, kustomize: {{namePrefix: p-}}}}}}\n"
    ),
]
JUNK = [None, 1, 1.5, True, "x", "{{ .x }}", "../../etc", [], {}, [1, "a"], "$v/../../x"]


def _mutate(node, rng):
    if isinstance(node, dict) and node:
        key = rng.choice(list(node))
        if rng.random() < 0.3:
            node[key] = rng.choice(JUNK)
        else:
            _mutate(node[key], rng)
    elif isinstance(node, list) and node:
        i = rng.randrange(len(node))
        if rng.random() < 0.3:
            node[i] = rng.choice(JUNK)
        else:
            _mutate(node[i], rng)


@pytest.mark.parametrize("seed", range(40))
def test_randomly_corrupted_manifests_never_raise(seed):
    rng = random.Random(seed)
    docs = yaml.safe_load(yaml.safe_dump(BASE_DOCS))
    for doc in docs:
        for _ in range(rng.randint(1, 4)):
            _mutate(doc, rng)
    run({"apps/x.yaml": yaml.safe_dump_all(docs)})
