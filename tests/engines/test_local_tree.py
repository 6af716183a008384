"""LocalTree on real directories, with and without git, compared with GitTree."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from bot.engines.git_tree import GitTree
from bot.engines.local_tree import LocalTree, git_blob_id
from bot.model.errors import RepositoryError
from bot.ports import EntryMode

ODD = 'apps/my app/ünïcode "quoted"\tfile.yaml'
BINARY = bytes(range(256)) * 3 + b"\0\r\n\xff"


def git(repo: Path, *args: str) -> str:
    argv = ["git", "-C", str(repo), "-c", "user.name=Test", "-c", "user.email=t@example.com"]
    argv += ["-c", "commit.gpgsign=false", *args]
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()


def populate(root: Path) -> Path:
    """Files, an executable, binary and odd names, and symlinks inside, outside and absolute."""
    (root / "bin").mkdir(parents=True)
    (root / "README.md").write_text("hello\n")
    (root / "bin" / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "bin" / "run.sh").chmod(0o755)
    (root / "apps" / "my app").mkdir(parents=True)
    (root / ODD).write_text("kind: ConfigMap\n")
    (root / "data").mkdir()
    (root / "data" / "blob.bin").write_bytes(BINARY)
    (root / "docs").mkdir()
    (root / "docs" / "readme-link").symlink_to("../README.md")
    (root / "escape").symlink_to("../../etc/passwd")
    (root / "absolute").symlink_to("/etc/passwd")
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = populate(tmp_path / "repo")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def test_blob_id_is_gits() -> None:
    data = b"some content\n"
    expected = (
        subprocess.run(
            ["git", "hash-object", "--stdin"], input=data, capture_output=True, check=True
        )
        .stdout.decode()
        .strip()
    )
    assert git_blob_id(data) == expected == hashlib.sha1(b"blob 13\0" + data).hexdigest()


@pytest.mark.integration
def test_clean_checkout_matches_git_tree_exactly(repo: Path) -> None:
    local = LocalTree.open(repo)
    with GitTree.open(repo, "main") as committed:
        assert dict(local.entries()) == dict(committed.entries())
        for path in local.entries():
            assert local.read(path) == committed.read(path)


@pytest.mark.integration
def test_symlinks_are_entries_and_never_followed(repo: Path) -> None:
    local = LocalTree.open(repo)
    assert local.entries()["escape"].mode is EntryMode.SYMLINK
    assert local.read("escape") == b"../../etc/passwd"
    assert local.read("absolute") == b"/etc/passwd"
    assert local.read("docs/readme-link") == b"../README.md"


@pytest.mark.integration
def test_working_tree_changes_are_included(repo: Path) -> None:
    (repo / "README.md").write_text("edited\n")
    (repo / "untracked.yaml").write_text("a: 1\n")
    (repo / ".gitignore").write_text("*.log\n")
    (repo / "debug.log").write_text("noise\n")
    (repo / "data" / "blob.bin").unlink()  # tracked, deleted on disk
    local = LocalTree.open(repo)
    entries = local.entries()
    assert local.read("README.md") == b"edited\n"
    assert entries["README.md"].blob_id == git_blob_id(b"edited\n")
    assert "untracked.yaml" in entries
    assert ".gitignore" in entries
    assert "debug.log" not in entries
    assert "data/blob.bin" not in entries
    with GitTree.open(repo, "main") as committed:
        assert entries["bin/run.sh"] == committed.entries()["bin/run.sh"]
        assert local.tree_id != committed.tree_id


@pytest.mark.integration
def test_subdirectory_of_a_repository_lists_relative_paths(repo: Path) -> None:
    local = LocalTree.open(repo / "apps")
    assert set(local.entries()) == {ODD.removeprefix("apps/")}


def test_plain_directory_is_walked_without_dot_git(tmp_path: Path) -> None:
    root = populate(tmp_path / "plain")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (root / "linked-dir").symlink_to("apps")
    local = LocalTree.open(root)
    assert ".git/config" not in local.entries()
    assert local.entries()["linked-dir"].mode is EntryMode.SYMLINK
    assert "linked-dir/my app" not in local.entries()
    assert local.read("data/blob.bin") == BINARY
    assert local.entries()["bin/run.sh"].mode is EntryMode.EXECUTABLE


def test_tree_id_depends_on_content_and_mode(tmp_path: Path) -> None:
    root = populate(tmp_path / "plain")
    first = LocalTree.open(root).tree_id
    assert LocalTree.open(root).tree_id == first
    (root / "README.md").chmod(0o755)
    second = LocalTree.open(root).tree_id
    assert second != first
    (root / "README.md").write_text("other\n")
    assert LocalTree.open(root).tree_id not in (first, second)


def test_paths_outside_root_are_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("secret\n")
    root = populate(tmp_path / "plain")
    local = LocalTree.open(root)
    for path in ("../secret.txt", "docs/../README.md", "/etc/passwd", "", "nope"):
        with pytest.raises(KeyError):
            local.read(path)


def test_files_reached_through_a_symlinked_directory_are_not_entries(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret\n")
    root = populate(tmp_path / "plain")
    (root / "out").symlink_to(outside)
    local = LocalTree.open(root)
    assert "out/secret.txt" not in local.entries()
    with pytest.raises(KeyError):
        local.read("out/secret.txt")


def test_file_changed_after_open_is_reported(tmp_path: Path) -> None:
    root = populate(tmp_path / "plain")
    local = LocalTree.open(root)
    (root / "README.md").write_text("changed behind our back\n")
    with pytest.raises(RepositoryError, match="changed on disk"):
        local.read("README.md")


def test_missing_root_is_a_repository_error(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="not a directory"):
        LocalTree.open(tmp_path / "absent")
