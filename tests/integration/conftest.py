"""Shared helpers for the end-to-end tests: real git repositories, the real CLI, real tools.

Everything is built under pytest's tmp_path, so tests are independent under `pytest -n 2`.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.core.pipeline import Ports, review
from bot.engines.builtin_policies import load_builtin_policies
from bot.engines.git_tree import GitTree
from bot.engines.regorus_worker import RegorusEngine
from bot.engines.runner import SandboxedRunner
from bot.engines.schema_catalog import JsonSchemaCatalog
from bot.engines.workspace import Workspace
from bot.entrypoints.cli import main
from bot.model.change import ChangeRequest, Revision
from bot.model.report import REPORT_SCHEMA, Report
from bot.ports import Command, CommandResult, CommandRunner, RepoTree
from bot.settings import load_settings

GIT_IDENTITY = (
    "-c",
    "user.name=t",
    "-c",
    "user.email=t@t",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "tag.gpgsign=false",
    "-c",
    "init.defaultBranch=main",
    "-c",
    "core.hooksPath=/dev/null",
)


def _git_env() -> dict[str, str]:
    # A GIT_DIR/GIT_INDEX_FILE from a surrounding hook must not redirect the test's git.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    return env


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *GIT_IDENTITY, "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env=_git_env(),
        check=False,
    )
    assert proc.returncode == 0, f"git {' '.join(args)} failed: {proc.stderr}"
    return proc.stdout.strip()


@dataclass(frozen=True)
class Symlink:
    """A file entry that is a symbolic link to `target` (committed as git mode 120000)."""

    target: str


FileContent = str | bytes | Symlink | None  # None: delete the file in this commit
Files = Mapping[str, FileContent]


@dataclass(frozen=True)
class PullRequest:
    repo: Path
    base: str  # full SHA
    head: str  # full SHA


def _write(root: Path, files: Files) -> None:
    for rel, content in files.items():
        path = root / rel
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.exists():
            path.unlink()
        if isinstance(content, Symlink):
            path.symlink_to(content.target)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def build_pr(repo: Path, base: Files, head: Files) -> PullRequest:
    """Commit `base`, then apply `head` on top of it and commit again; return both SHAs."""
    repo.mkdir(parents=True)
    git(repo, "init", "--quiet")
    _write(repo, base)
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", "base")
    base_sha = git(repo, "rev-parse", "HEAD")
    _write(repo, head)
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", "head")
    return PullRequest(repo, base_sha, git(repo, "rev-parse", "HEAD"))


@pytest.fixture
def make_pr(tmp_path: Path) -> Callable[[Files, Files], PullRequest]:
    def make(base: Files, head: Files) -> PullRequest:
        return build_pr(tmp_path / "repo", base, head)

    return make


@dataclass(frozen=True)
class CliRun:
    exit_code: int
    report: dict[str, Any]
    text: str  # the raw JSON, for "this must appear nowhere" checks

    def findings(self, rule_id: str | None = None) -> list[dict[str, Any]]:
        return [f for f in self.report["findings"] if rule_id is None or f["rule_id"] == rule_id]

    def coverage(self) -> dict[str, str]:
        return {c["target"]: c["status"] for c in self.report["coverage"]}

    def diffs(self, target: str | None = None) -> list[dict[str, Any]]:
        return [d for d in self.report["diffs"] if target is None or d["target"] == target]


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., CliRun]:
    """`gitops-bot review --format json --output FILE` on a PullRequest, in process."""

    def run(pr: PullRequest, *extra: str) -> CliRun:
        out = tmp_path / "report.json"
        out.unlink(missing_ok=True)
        argv = ["review", "--repo", str(pr.repo), "--base", pr.base, "--head", pr.head]
        exit_code = main([*argv, "--format", "json", "--output", str(out), *extra])
        text = out.read_text(encoding="utf-8")
        report = json.loads(text)
        assert report["schema"] == REPORT_SCHEMA
        assert report["exit_code"] == exit_code or "--fail-on" in extra
        return CliRun(exit_code, report, text)

    return run


@dataclass
class RecordingRunner:
    """Wraps a real CommandRunner and records every Command it is asked to run."""

    inner: CommandRunner
    calls: list[Command] = field(default_factory=list)

    def run(self, command: Command, tree: RepoTree) -> CommandResult:
        self.calls.append(command)
        return self.inner.run(command, tree)

    def targets(self) -> list[str]:
        """The repo path each call rendered (kustomize's/helm's path argument)."""
        paths: list[str] = []
        for c in self.calls:
            args = c.args[2:3] if c.tool == "helm" else c.args[:1]
            paths.extend(a.removeprefix("./") for a in args)
        return paths


@pytest.fixture
def recording_runner(workspace: Workspace) -> RecordingRunner:
    return RecordingRunner(SandboxedRunner(load_settings(), workspace))


def review_commits(
    repo: Path,
    base: str,
    head: str,
    runner: CommandRunner,
    *,
    render_all: bool = False,
) -> Report:
    """review() of two commits of a real repository, through GitTree and a real runner."""
    with GitTree.open(repo, base) as base_tree, GitTree.open(repo, head) as head_tree:
        change = ChangeRequest(Revision(base, base_tree.commit), Revision(head, head_tree.commit))
        return review(
            change,
            base_tree,
            head_tree,
            Ports(runner, JsonSchemaCatalog(), RegorusEngine(), load_builtin_policies()),
            render_all=render_all,
        )
