"""GitTree against real repositories built with git."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from bot.engines.git_tree import GitTree, resolve_revision
from bot.model.errors import RepositoryError
from bot.ports import EntryMode

pytestmark = pytest.mark.integration

ODD = 'apps/my app/ünïcode "quoted"\tfile.yaml'
BINARY = bytes(range(256)) * 3 + b"\0\r\n\xff"


def git(repo: Path, *args: str) -> str:
    argv = ["git", "-C", str(repo), "-c", "user.name=Test", "-c", "user.email=t@example.com"]
    argv += ["-c", "commit.gpgsign=false", *args]
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()


def make_repo(root: Path) -> Path:
    """A repository with every kind of entry the trees must handle, committed on `main`."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("hello\n")
    (root / "bin").mkdir()
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
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def test_entries_cover_every_kind_of_file(repo: Path) -> None:
    with GitTree.open(repo, "main") as tree:
        entries = tree.entries()
        assert set(entries) == {
            "README.md",
            "bin/run.sh",
            ODD,
            "data/blob.bin",
            "docs/readme-link",
            "escape",
            "absolute",
        }
        assert entries["README.md"].mode is EntryMode.FILE
        assert entries["bin/run.sh"].mode is EntryMode.EXECUTABLE
        assert entries["escape"].mode is EntryMode.SYMLINK
        assert entries["data/blob.bin"].size == len(BINARY)
        assert entries["data/blob.bin"].blob_id == blob_sha(BINARY)
        assert tree.tree_id == tree.commit == git(repo, "rev-parse", "HEAD")


def test_read_returns_exact_bytes_and_link_targets(repo: Path) -> None:
    with GitTree.open(repo, "HEAD") as tree:
        assert tree.read("data/blob.bin") == BINARY
        assert tree.read(ODD) == b"kind: ConfigMap\n"
        assert tree.read("escape") == b"../../etc/passwd"
        assert tree.read("absolute") == b"/etc/passwd"
        # Many reads through the one cat-file process stay in step.
        for _ in range(50):
            assert tree.read("README.md") == b"hello\n"


def test_reads_the_commit_not_the_working_tree(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    (repo / "README.md").write_text("changed\n")
    (repo / "new.txt").write_text("new\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "second")
    (repo / "README.md").write_text("uncommitted\n")
    with GitTree.open(repo, first) as old, GitTree.open(repo, "main") as new:
        assert old.read("README.md") == b"hello\n"
        assert "new.txt" not in old.entries()
        assert new.read("README.md") == b"changed\n"


def test_unknown_path_raises_key_error(repo: Path) -> None:
    with GitTree.open(repo, "main") as tree:
        for path in ("missing.txt", "../README.md", "docs", "/etc/passwd"):
            with pytest.raises(KeyError):
                tree.read(path)


def test_submodules_are_not_entries(repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{sha},vendor/sub")
    git(repo, "commit", "-q", "-m", "submodule")
    with GitTree.open(repo, "main") as tree:
        assert "vendor/sub" not in tree.entries()
        assert "README.md" in tree.entries()


def test_unknown_ref_names_ref_and_repo(repo: Path) -> None:
    with pytest.raises(RepositoryError) as caught:
        GitTree.open(repo, "feature/nope")
    assert "feature/nope" in caught.value.message
    assert str(repo) in caught.value.message
    assert "git branch -a" in caught.value.hint


def test_option_like_ref_is_refused(repo: Path) -> None:
    with pytest.raises(RepositoryError, match="--output"):
        GitTree.open(repo, "--output=/tmp/x")


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="cannot read git repository"):
        GitTree.open(tmp_path, "main")


def test_resolve_revision(repo: Path) -> None:
    revision = resolve_revision(repo, "main")
    assert revision.ref == "main"
    assert revision.commit == git(repo, "rev-parse", "main")


def test_close_stops_cat_file_and_forbids_reads(repo: Path) -> None:
    tree = GitTree.open(repo, "main")
    tree.read("README.md")
    process = tree._proc
    assert process is not None
    tree.close()
    assert process.returncode is not None
    tree.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        tree.read("README.md")


def test_garbage_collection_stops_cat_file(repo: Path) -> None:
    tree = GitTree.open(repo, "main")
    tree.read("README.md")
    process = tree._proc
    assert process is not None
    del tree
    assert process.returncode is not None
