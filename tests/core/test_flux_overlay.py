"""The kustomization file kustomize-controller builds, generated as an overlay: the path's own
file with the Kustomization's settings merged in, or one Flux generates."""

from typing import Any

import pytest
import yaml

from bot.core.render.flux.layout import scan_layout
from bot.core.render.flux.overlay import flux_kustomization
from bot.core.tree_view import TreeView
from bot.model.resource import Location
from tests.core.fakes import FakeTree

WHERE = Location("clusters/prod/apps.yaml", 1)

OWN = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: own
namePrefix: own-
resources: [deploy.yaml]
patches:
  - path: patch.yaml
images:
  - name: web
    newTag: "1.0"
"""
REPO = {
    "apps/web/kustomization.yaml": OWN,
    "apps/web/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
    "apps/web/patch.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
    "apps/web/components/extra/kustomization.yaml": "kind: Component\n",
    "apps/plain/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
    "apps/plain/notes.txt": "not yaml",
    "apps/plain/.hidden.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: h\n",
    "apps/plain/sub/b.yml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
    "apps/plain/kdir/kustomization.yaml": "resources: [c.yaml]\n",
    "apps/plain/kdir/c.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    "apps/plain/kdir/deeper/d.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d\n",
    "apps/empty/README.md": "nothing to build",
}


def build(directory: str, spec: dict[str, Any]) -> tuple[str, dict[str, Any] | None, list[str]]:
    view = TreeView(FakeTree(REPO), 1 << 20)
    layout = scan_layout(
        directory, str(spec.get("targetNamespace") or ""), spec.get("components") or [], view, ()
    )
    result = flux_kustomization(spec, layout, view, WHERE)
    body = yaml.safe_load(result.content) if result.content is not None else None
    return result.path, body, [f.rule_id for f in result.findings]


def test_no_settings_leave_the_repository_file_alone() -> None:
    assert build("apps/web", {}) == ("apps/web/kustomization.yaml", None, [])


def test_settings_merge_into_the_repository_file() -> None:
    spec = {
        "targetNamespace": "prod",
        "namePrefix": "flux-",
        "patches": [
            {
                "patch": "- op: add\n  path: /x\n  value: 1",
                "target": {"kind": "Deployment", "name": "web", "ignored": "x"},
            },
            {"patch": "kind: Deployment"},
        ],
        "images": [{"name": "web", "newName": "registry/web"}, {"name": "db", "newTag": "2"}],
        "components": ["components/extra"],
    }
    path, body, findings = build("apps/web", spec)

    assert (path, findings) == ("apps/web/kustomization.yaml", [])
    assert body == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": "prod",  # targetNamespace replaces the file's namespace
        "namePrefix": "flux-",
        "resources": ["deploy.yaml"],
        "patches": [
            {"path": "patch.yaml"},  # the file's own patches first
            {
                "patch": "- op: add\n  path: /x\n  value: 1",
                "target": {"kind": "Deployment", "name": "web"},
            },
            {"patch": "kind: Deployment"},
        ],
        # An image of the same name is replaced whole (fluxcd/pkg's generator).
        "images": [{"name": "web", "newName": "registry/web"}, {"name": "db", "newTag": "2"}],
        "components": ["components/extra"],
    }


def test_generated_kustomization_lists_yaml_and_kustomization_dirs() -> None:
    path, body, findings = build("apps/plain", {"targetNamespace": "t"})

    assert (path, findings) == ("apps/plain/kustomization.yaml", [])
    assert body == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["./a.yaml", "./kdir", "./sub/b.yml"],
        "namespace": "t",
    }


def test_layout_of_a_generated_build() -> None:
    view = TreeView(FakeTree(REPO), 1 << 20)
    layout = scan_layout("apps/plain", "t", (), view, ())

    assert layout.kustomization_file is None
    assert dict(layout.resource_files) == {
        "apps/plain/a.yaml": "t",
        "apps/plain/sub/b.yml": "t",
        "apps/plain/kdir/c.yaml": "t",
    }
    # kdir's own directory is read by kustomize; deeper/ is not listed by it.
    assert layout.config_files == {"apps/plain/kdir/kustomization.yaml"}


@pytest.mark.parametrize(
    ("component", "ignore_missing", "rules", "components"),
    [
        ("https://github.com/x/y//c", False, ["flux-component-invalid"], None),
        ("/abs/component", False, ["flux-component-invalid"], None),
        ("../../../../escape", False, ["flux-component-invalid"], None),
        ("components/missing", True, [], None),
        ("components/extra", True, [], ["components/extra"]),
    ],
)
def test_components(
    component: str, ignore_missing: bool, rules: list[str], components: list[str] | None
) -> None:
    spec = {"components": [component], "ignoreMissingComponents": ignore_missing}
    _path, body, findings = build("apps/web", spec)

    assert findings == rules
    assert (body or {}).get("components") == components


def test_empty_directory_generates_nothing_to_build() -> None:
    view = TreeView(FakeTree(REPO), 1 << 20)
    layout = scan_layout("apps/empty", "", (), view, ())
    assert (layout.kustomization_file, layout.generated) == (None, ())
