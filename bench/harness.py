"""What the review benchmarks share: one review timed like the CLI's, on a generated repository
with branches `main` and `pr`, and the coverage ids per status."""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path

from bot.core.pipeline import review
from bot.engines.git_tree import GitTree
from bot.model.change import ChangeRequest, Revision
from bot.model.render import CoverageStatus
from bot.model.report import Report
from bot.server.assembly import build_ports
from bot.settings import load_settings


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
