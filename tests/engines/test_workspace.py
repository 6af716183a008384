"""Workspace: private temp dirs and safe materialisation of RepoTrees."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

import pytest

from bot.engines.local_tree import LocalTree, git_blob_id
from bot.engines.workspace import Workspace, link_stays_inside
from bot.ports import EntryMode, TreeEntry


class FakeTree:
    """An in-memory RepoTree, so the tree can hold paths no filesystem would produce."""

    def __init__(self, files: Mapping[str, tuple[EntryMode, bytes]], tree_id: str = "t1") -> None:
        self._files = dict(files)
        self._tree_id = tree_id

    @property
    def tree_id(self) -> str:
        return self._tree_id

    def entries(self) -> Mapping[str, TreeEntry]:
        return {
            path: TreeEntry(git_blob_id(data), mode, len(data))
            for path, (mode, data) in self._files.items()
        }

    def read(self, path: str) -> bytes:
        return self._files[path][1]


FILE, EXE, LINK = EntryMode.FILE, EntryMode.EXECUTABLE, EntryMode.SYMLINK


def test_root_is_private(workspace: Workspace, tmp_path: Path) -> None:
    assert workspace.root.parent == tmp_path.resolve()
    assert workspace.root.name.startswith("gitops-bot-")
    assert stat.S_IMODE(workspace.root.stat().st_mode) == 0o700


def test_files_and_executable_bit_are_written(workspace: Workspace) -> None:
    tree = FakeTree(
        {
            "a/b/c.yaml": (FILE, b"x: 1\n"),
            "run.sh": (EXE, b"#!/bin/sh\n"),
            "sp ace/ü.bin": (FILE, b"\0\xff"),
        }
    )
    root = workspace.materialize(tree)
    assert root == workspace.root / "1" / "repo"
    assert (root / "a/b/c.yaml").read_bytes() == b"x: 1\n"
    assert (root / "sp ace/ü.bin").read_bytes() == b"\0\xff"
    assert os.access(root / "run.sh", os.X_OK)
    assert not os.access(root / "a/b/c.yaml", os.X_OK)


def test_materialisation_is_cached_per_tree_id(workspace: Workspace) -> None:
    first = workspace.materialize(FakeTree({"a": (FILE, b"1")}, "one"))
    assert workspace.materialize(FakeTree({"a": (FILE, b"1")}, "one")) == first
    second = workspace.materialize(FakeTree({"a": (FILE, b"2")}, "two"))
    assert second != first
    assert (second / "a").read_bytes() == b"2"


def test_only_symlinks_staying_inside_are_created(workspace: Workspace) -> None:
    tree = FakeTree(
        {
            "README.md": (FILE, b"hi\n"),
            "docs/readme": (LINK, b"../README.md"),
            "docs/self": (LINK, b"."),
            "escape": (LINK, b"../../etc/passwd"),
            "absolute": (LINK, b"/etc/passwd"),
            "docs/sneaky": (LINK, b"../docs/../../x"),
        }
    )
    root = workspace.materialize(tree)
    assert os.readlink(root / "docs/readme") == "../README.md"
    assert (root / "docs/readme").read_bytes() == b"hi\n"
    assert (root / "docs/self").is_symlink()
    for path in ("escape", "absolute", "docs/sneaky"):
        assert not os.path.lexists(root / path)
    assert workspace.skipped(tree) == ("absolute", "docs/sneaky", "escape")


def test_symlink_chains_that_escape_are_removed(workspace: Workspace) -> None:
    # Each target looks inside on its own; together "sub/e" resolves above the root.
    tree = FakeTree({"sub/d": (LINK, b".."), "sub/e": (LINK, b"d/../.."), "f": (FILE, b"")})
    root = workspace.materialize(tree)
    assert (root / "sub/d").is_symlink()
    assert not os.path.lexists(root / "sub/e")
    assert workspace.skipped(tree) == ("sub/e",)


def test_unsafe_paths_are_never_written(workspace: Workspace, tmp_path: Path) -> None:
    tree = FakeTree(
        {
            "../outside.txt": (FILE, b"no"),
            "/abs.txt": (FILE, b"no"),
            "a/../../up.txt": (FILE, b"no"),
            ".git/config": (FILE, b"[core]\n\tfsmonitor = evil\n"),
            "ok.txt": (FILE, b"yes"),
        }
    )
    root = workspace.materialize(tree)
    assert not (tmp_path / "outside.txt").exists()
    assert not (workspace.root / "1" / "outside.txt").exists()
    assert not (root / ".git").exists()
    assert sorted(p.name for p in root.iterdir()) == ["ok.txt"]
    assert len(workspace.skipped(tree)) == 4


def test_link_stays_inside() -> None:
    assert link_stays_inside("a/b", "../c")
    assert link_stays_inside("a", "b/../c")
    assert not link_stays_inside("a/b", "../../c")
    assert not link_stays_inside("a", "/etc")
    assert not link_stays_inside("a", "")
    assert link_stays_inside("a", "..foo")


def test_new_dir_and_close_remove_everything(tmp_path: Path) -> None:
    workspace = Workspace(str(tmp_path))
    home = workspace.new_dir("home-")
    (home / "locked").mkdir()
    (home / "locked" / "file").write_text("x")
    (home / "locked").chmod(0o500)  # tools may leave read-only directories behind
    workspace.materialize(FakeTree({"a": (FILE, b"1")}))
    workspace.close()
    assert not workspace.root.exists()
    workspace.close()
    with pytest.raises(ValueError, match="closed"):
        workspace.materialize(FakeTree({"a": (FILE, b"1")}))


def test_materialises_a_real_local_tree(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "base").mkdir(parents=True)
    (source / "base" / "kustomization.yaml").write_text("resources: []\n")
    (source / "link").symlink_to("base")
    (source / "passwd").symlink_to("../../../../../../etc/passwd")
    with Workspace(str(tmp_path)) as workspace:
        root = workspace.materialize(LocalTree.open(source))
        assert (root / "link" / "kustomization.yaml").read_text() == "resources: []\n"
        assert not os.path.lexists(root / "passwd")


def test_only_the_given_inputs_are_materialised(workspace: Workspace) -> None:
    tree = FakeTree(
        {
            "app/kustomization.yaml": (FILE, b"resources: [cm.yaml]\n"),
            "app/cm.yaml": (FILE, b"kind: ConfigMap\n"),
            "other/secret.yaml": (FILE, b"kind: Secret\n"),
            "app/link.yaml": (LINK, b"cm.yaml"),
        }
    )
    inputs = frozenset({"app/kustomization.yaml", "app/cm.yaml", "app/link.yaml", "absent.yaml"})
    root = workspace.materialize(tree, inputs)
    written = sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())
    assert written == ["app/cm.yaml", "app/kustomization.yaml", "app/link.yaml"]
    assert workspace.materialize(tree, inputs) == root
    assert workspace.materialize(tree) != root  # the whole tree is a different materialisation
