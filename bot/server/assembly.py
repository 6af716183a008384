"""The review tools for one run (CLI) or one job (worker): every Port of review(), built from
Settings. The Workspace joins `stack`, so its temp dirs go when the run or job ends."""

from __future__ import annotations

from contextlib import ExitStack

from bot.core.pipeline import Ports, review
from bot.engines.builtin_policies import load_builtin_policies
from bot.engines.chart_repository import HttpChartRepository
from bot.engines.git_commits import GitCommitLog
from bot.engines.opa_server import OpaServerEngine
from bot.engines.regorus_worker import RegorusEngine
from bot.engines.runner import SandboxedRunner
from bot.engines.schema_catalog import JsonSchemaCatalog
from bot.engines.signature_tools import ToolSignatureVerifier
from bot.engines.workspace import Workspace
from bot.model.approval import ForgeFacts
from bot.model.change import ChangeRequest
from bot.model.report import Report
from bot.ports import CommitLog, RepoTree
from bot.server.handler import ReviewChange
from bot.settings import Settings


def build_ports(
    settings: Settings,
    stack: ExitStack,
    repo: str | None = None,
    forge_facts: ForgeFacts | None = None,
    *,
    commit_log: CommitLog | None = None,
) -> Ports:
    """With a `repo` path (or a `commit_log`), commit signatures of the range are verified."""
    workspace = stack.enter_context(Workspace(settings.work_dir))
    log = commit_log or (GitCommitLog(repo) if repo else None)
    return Ports(
        runner=SandboxedRunner(settings, workspace),
        schemas=JsonSchemaCatalog(),
        policies=RegorusEngine(),
        builtin_policies=load_builtin_policies(),
        opa_server=lambda url: OpaServerEngine(url, token=settings.opa_token),
        commit_log=log,
        forge_facts=forge_facts,
        signature_verifier=ToolSignatureVerifier(workspace) if log is not None else None,
        charts=HttpChartRepository(settings.allowed_chart_repos, settings.chart_cache_dir),
    )


def review_with_tools(settings: Settings) -> ReviewChange:
    """The worker's review(): fresh tools (and temp dirs) per job, closed when it ends."""

    def review_change(  # noqa: PLR0917 - the ReviewChange callback is positional
        change: ChangeRequest,
        base: RepoTree,
        head: RepoTree,
        commit_log: CommitLog,
        forge_facts: ForgeFacts | None,
        trusted: RepoTree,
    ) -> Report:
        with ExitStack() as stack:
            ports = build_ports(settings, stack, forge_facts=forge_facts, commit_log=commit_log)
            return review(change, base, head, ports, trusted_tree=trusted)

    return review_change
