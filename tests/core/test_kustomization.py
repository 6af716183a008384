import pytest

from bot.core.render.kustomization import scan_kustomization
from bot.core.tree_view import TreeView
from tests.core.fakes import FakeTree, Link

BASE = {
    "app/base/kustomization.yaml": "resources: [deploy.yaml]\n",
    "app/base/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n",
    "app/base/notes.md": "unrelated but in the base dir",
    "app/patches/p.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n",
    "app/env/cm.env": "A=1\n",
}


def scan(files, path):
    return scan_kustomization(path, TreeView(FakeTree(files), 1 << 20))


def test_inputs_follow_bases_patches_and_generators():
    files = dict(BASE)
    files["app/prod/kustomization.yaml"] = (
        "resources:\n  - ../base\npatches:\n  - path: ../patches/p.yaml\n"
        "configMapGenerator:\n  - name: c\n    envs: [../env/cm.env]\n"
    )
    result = scan(files, "app/prod/kustomization.yaml")
    assert result.findings == ()
    assert result.input_files == {
        "app/prod/kustomization.yaml",
        "app/base/kustomization.yaml",
        "app/base/deploy.yaml",
        "app/base/notes.md",
        "app/patches/p.yaml",
        "app/env/cm.env",
    }
    assert result.referenced_dirs == {"app/base"}


@pytest.mark.parametrize(
    ("resources", "rule", "line"),
    [
        ("  - github.com/org/repo//deploy?ref=v1\n", "remote-base-not-allowed", 3),
        ("  - https://example.com/manifests.yaml\n", "remote-base-not-allowed", 3),
        ("  - git@github.com:org/repo.git\n", "remote-base-not-allowed", 3),
        ("  - ../../../../etc\n", "path-escapes-repo", 3),
        ("  - /etc/passwd\n", "path-escapes-repo", 3),
        ("  - escape.yaml\n", "path-escapes-repo", 3),
    ],
    ids=["github-ref", "https", "ssh", "dotdot", "absolute", "symlink-out"],
)
def test_refused_references_name_the_line(resources, rule, line):
    files = {
        "k/kustomization.yaml": "# comment\nresources:\n" + resources,
        "k/escape.yaml": Link("../../etc/passwd"),
    }
    result = scan(files, "k/kustomization.yaml")
    assert [(f.rule_id, f.location.path, f.location.line) for f in result.findings] == [
        (rule, "k/kustomization.yaml", line)
    ]


@pytest.mark.parametrize(
    "generator",
    [
        "generators:\n  - gen.yaml\n",
        "transformers:\n  - gen.yaml\n",
    ],
    ids=["generator-file", "transformer-file"],
)
def test_exec_and_krm_plugins_are_refused(generator):
    files = {
        "k/kustomization.yaml": generator,
        "k/gen.yaml": "apiVersion: example.com/v1\nkind: Exec\nmetadata:\n  name: x\n"
        "  annotations:\n    config.kubernetes.io/function: |\n      exec: {path: ./run.sh}\n",
    }
    result = scan(files, "k/kustomization.yaml")
    assert [f.rule_id for f in result.findings] == ["plugin-not-allowed"]
    assert "KRM function" in result.findings[0].message


def test_builtin_transformer_config_is_fine():
    files = {
        "k/kustomization.yaml": "transformers:\n  - prefix.yaml\n",
        "k/prefix.yaml": "apiVersion: builtin\nkind: PrefixSuffixTransformer\nmetadata:\n"
        "  name: p\nprefix: x-\n",
    }
    assert scan(files, "k/kustomization.yaml").findings == ()


def test_component_is_recognised():
    files = {
        "c/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
    }
    assert scan(files, "c/kustomization.yaml").is_component


def test_malformed_kustomization_is_a_finding():
    result = scan({"k/kustomization.yaml": "resources: [a\n"}, "k/kustomization.yaml")
    assert [f.rule_id for f in result.findings] == ["yaml-malformed"]
