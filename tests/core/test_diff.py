import pytest

from bot.core.diff.fields import field_changes
from bot.core.diff.states import diff_resources, diff_target
from bot.model.diff import ChangeKind, FieldChange
from bot.model.render import TargetRender
from bot.model.repo_config import DiffConfig
from bot.model.resource import Location, Resource, ResourceKey

M, A, R = ChangeKind.MODIFIED, ChangeKind.ADDED, ChangeKind.REMOVED


@pytest.mark.parametrize(
    ("base", "head", "expected"),
    [
        ({"spec": {"replicas": 1}}, {"spec": {"replicas": 2}}, [("spec.replicas", M)]),
        (
            {"spec": {"containers": [{"image": "a:1"}]}},
            {"spec": {"containers": [{"image": "a:2"}]}},
            [("spec.containers[0].image", M)],
        ),
        ({"a": [1]}, {"a": [1, 2]}, [("a[1]", A)]),
        ({"a": [1, 2]}, {"a": [1]}, [("a[1]", R)]),
        (
            {"metadata": {"labels": {"x": "1"}}},
            {"metadata": {"labels": {"app.kubernetes.io/name": "1"}}},
            [("metadata.labels.x", R), ('metadata.labels["app.kubernetes.io/name"]', A)],
        ),
        ({"a": {"b": 1}}, {"a": "flat"}, [("a", M)]),
        ({"a": 1}, {"a": 1}, []),
    ],
    ids=[
        "scalar",
        "list-item-field",
        "list-grew",
        "list-shrank",
        "dotted-key",
        "type-change",
        "equal",
    ],
)
def test_field_changes(base, head, expected):
    assert field_changes(base, head) == tuple(FieldChange(p, c) for p, c in expected)


def res(name, body, target="t"):
    full = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, **body.pop("metadata", {})},
        **body,
    }
    return Resource(ResourceKey.of(full), full, Location("cm.yaml"), target)


def test_noise_labels_do_not_make_a_change():
    base = res("a", {"metadata": {"labels": {"helm.sh/chart": "x-1.0.0"}}, "data": {"k": "v"}})
    head = res("a", {"metadata": {"labels": {"helm.sh/chart": "x-1.1.0"}}, "data": {"k": "v"}})
    assert diff_resources(base, head, DiffConfig()) is None


def test_key_order_does_not_make_a_change():
    base = res("a", {"data": {"x": "1", "y": "2"}})
    head = res("a", {"data": {"y": "2", "x": "1"}})
    assert diff_resources(base, head, DiffConfig()) is None


def test_targets_pair_added_removed_modified():
    base = TargetRender("t", (res("keep", {"data": {"k": "1"}}), res("gone", {})))
    head = TargetRender("t", (res("keep", {"data": {"k": "2"}}), res("new", {})))
    diffs = diff_target(base, head, DiffConfig())
    assert [(d.key.name, d.change) for d in diffs] == [("gone", R), ("keep", M), ("new", A)]
    keep = diffs[1]
    assert keep.unified_diff.splitlines()[:2] == [
        "--- base/ConfigMap keep",
        "+++ head/ConfigMap keep",
    ]
    assert "-  k: '1'" in keep.unified_diff and "+  k: '2'" in keep.unified_diff
