import pytest

from bot.core.changes import changed_files
from bot.core.paths import has_ancestor_in, join_inside
from bot.model.change import FileChange, FileStatus
from tests.core.fakes import FakeTree


@pytest.mark.parametrize(
    ("base", "relative", "expected"),
    [
        ("apps/x", "deploy.yaml", "apps/x/deploy.yaml"),
        ("apps/x/overlays/prod", "../../base", "apps/x/base"),
        ("apps", "..", ""),
        ("apps", "../..", None),
        ("", "../etc/passwd", None),
        ("apps", "/etc/passwd", None),
        ("a/b", "./c/../d", "a/b/d"),
        ("", "x", "x"),
    ],
    ids=[
        "file",
        "up-to-base",
        "up-to-root",
        "escape",
        "escape-from-root",
        "absolute",
        "dots",
        "root",
    ],
)
def test_join_inside_never_leaves_the_repo(base, relative, expected):
    assert join_inside(base, relative) == expected


@pytest.mark.parametrize(
    ("path", "dirs", "expected"),
    [
        ("a/b/c.yaml", {"a"}, True),
        ("a/b/c.yaml", {"a/b"}, True),
        ("a/b/c.yaml", {"a/b/c.yaml"}, False),
        ("ab/c.yaml", {"a"}, False),
        ("c.yaml", {""}, True),
    ],
    ids=["grandparent", "parent", "self-is-not-ancestor", "prefix-is-not-ancestor", "root"],
)
def test_has_ancestor_in(path, dirs, expected):
    assert has_ancestor_in(path, dirs) is expected


def test_changed_files_compares_blob_ids():
    base = FakeTree({"same.yaml": "a", "edited.yaml": "1", "gone.yaml": "x"})
    head = FakeTree({"same.yaml": "a", "edited.yaml": "2", "new.yaml": "y"})
    assert changed_files(base.entries(), head.entries()) == (
        FileChange("edited.yaml", FileStatus.MODIFIED),
        FileChange("gone.yaml", FileStatus.REMOVED),
        FileChange("new.yaml", FileStatus.ADDED),
    )
