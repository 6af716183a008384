"""What the review benchmarks share: one review timed like the CLI's, on a generated repository
with branches `main` and `pr`, and the coverage ids per status."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path

from bot.core.pipeline import review
from bot.engines.git_tree import GitTree
from bot.model.change import ChangeRequest, Revision
from bot.model.render import CoverageStatus
from bot.model.report import Report
from bot.server.assembly import build_ports
from bot.settings import load_settings

_GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "LC_ALL": "C",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}
_GIT_CONFIG = (
    "init.defaultBranch=main",
    "commit.gpgsign=false",
    "user.name=bench",
    "user.email=b@x",
)


def git(repo: Path, *args: str) -> None:
    """git with a fixed identity and no user or system config: the same history everywhere."""
    argv = ["git", *(arg for c in _GIT_CONFIG for arg in ("-c", c)), *args]
    subprocess.run(argv, cwd=repo, env=_GIT_ENV, check=True, capture_output=True)


def commit_main_then_branch_pr(repo: Path, files: Mapping[str, str], message: str) -> None:
    """`files` committed on `main`, then branch `pr` checked out for the change to commit."""
    for path, body in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(body)
    git(repo, "init", "--quiet")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", message)
    git(repo, "checkout", "--quiet", "-b", "pr")


def run_review(repo: Path, render_all: bool) -> tuple[float, Report]:
    """One review from scratch (fresh trees, workspace, runner, engines), as the CLI runs it."""
    start = time.perf_counter()
    with ExitStack() as stack:
        base = stack.enter_context(GitTree.open(repo, "main"))
        head = stack.enter_context(GitTree.open(repo, "pr"))
        change = ChangeRequest(Revision("main", base.commit), Revision("pr", head.commit))
        ports = build_ports(load_settings(), stack)
        report = review(change, base, head, ports, render_all=render_all)
    return time.perf_counter() - start, report


def targets_with(report: Report, status: CoverageStatus) -> set[str]:
    return {c.target_id for c in report.coverage if c.status is status}
