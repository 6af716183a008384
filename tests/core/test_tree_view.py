import pytest

from bot.core.tree_view import TreeView
from tests.core.fakes import FakeTree, Link


@pytest.mark.parametrize(
    ("files", "path", "real", "rule"),
    [
        ({"a/x.yaml": "1"}, "a/x.yaml", "a/x.yaml", None),
        ({"a/x.yaml": "1", "b": Link("a")}, "b/x.yaml", "a/x.yaml", None),
        ({"a/x.yaml": "1", "l.yaml": Link("a/x.yaml")}, "l.yaml", "a/x.yaml", None),
        ({"d/etc": Link("/etc")}, "d/etc/passwd", None, "path-escapes-repo"),
        ({"d/up": Link("../..")}, "d/up/x", None, "path-escapes-repo"),
        ({"a": Link("b"), "b": Link("a")}, "a/x", None, "path-escapes-repo"),
    ],
    ids=["plain", "symlinked-dir", "symlinked-file", "absolute-dir", "relative-escape", "loop"],
)
def test_resolve_follows_every_component_inside_the_repo(files, path, real, rule):
    resolved, finding = TreeView(FakeTree(files), 1 << 20).resolve(path)
    assert resolved == real
    assert (finding.rule_id if finding else None) == rule


def test_yaml_parsed_once_for_both_revisions_unless_changed():
    cache = {}
    base = TreeView(FakeTree({"same.yaml": "a: 1\n", "edit.yaml": "b: 1\n"}), 1 << 20, cache)
    head = TreeView(FakeTree({"same.yaml": "a: 1\n", "edit.yaml": "b: 2\n"}), 1 << 20, cache)
    assert base.load_yaml("same.yaml") is head.load_yaml("same.yaml")
    assert head.load_yaml("edit.yaml").documents[0].data == {"b": 2}
    assert base.load_yaml("edit.yaml").documents[0].data == {"b": 1}


def test_files_reached_through_symlinks_are_not_shared_between_revisions():
    cache = {}
    base = TreeView(FakeTree({"real/x.yaml": "v: 1\n", "l": Link("real")}), 1 << 20, cache)
    head = TreeView(FakeTree({"other/x.yaml": "v: 2\n", "l": Link("other")}), 1 << 20, cache)
    assert base.load_yaml("l/x.yaml").documents[0].data == {"v": 1}
    assert head.load_yaml("l/x.yaml").documents[0].data == {"v": 2}


def test_oversized_file_is_a_finding_not_a_read():
    view = TreeView(FakeTree({"big.yaml": "x" * 100}), 50)
    load = view.load_yaml("big.yaml")
    assert [f.rule_id for f in load.findings] == ["file-too-large"]
