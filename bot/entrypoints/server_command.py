"""`gitops-bot serve` (the webhook receiver) and `gitops-bot worker` (runs the review jobs).

Both read GITOPS_BOT_* settings (docs/deploy.md). Production runs the web side under gunicorn
(`bot.server.wsgi:app`); `serve` is Flask's development server, for trying the App out.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from bot.engines.git_mirror import GitMirror
from bot.engines.github_auth import GitHubAppAuth
from bot.engines.github_forge import GitHubForge
from bot.engines.gitlab_approvals import SqliteApprovalBindings
from bot.engines.gitlab_forge import GitLabForge
from bot.engines.queue_factory import open_queue
from bot.model.errors import UsageError
from bot.model.job import Forge, PullRequestRef
from bot.ports import ForgeClient, JobQueue
from bot.server.assembly import review_with_tools
from bot.server.forges import ForgeRouter, ForgeSetup
from bot.server.metrics import serve_metrics
from bot.server.reconcile import KnownRepositories, reconcile, remembered_repositories
from bot.server.worker import Worker
from bot.server.worker_metrics import MeteredForge, WorkerMetrics
from bot.server.wsgi import build_app
from bot.settings import ServerSettings, load_server_settings, load_settings

log = logging.getLogger("gitops_bot.worker")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve",
        help="receive GitHub webhooks (development server)",
        description="Receive GitHub App webhooks: verify, queue durably, answer 202. Flask's "
        "development server; in production run gunicorn 'bot.server.wsgi:app' instead.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to bind (default: 8080)")

    worker = commands.add_parser(
        "worker",
        help="run queued review jobs",
        description="Claim review jobs from the queue, review, and publish the comment and "
        "checks; re-review open pull requests whose head has no result every "
        "GITOPS_BOT_RECONCILE_SECONDS.",
    )
    worker.add_argument("--once", action="store_true", help="handle the jobs queued now, then exit")
    worker.add_argument(
        "--concurrency",
        type=int,
        default=1,
        metavar="N",
        help="jobs handled in parallel (default: 1)",
    )
    worker.add_argument(
        "--metrics-port",
        type=int,
        default=0,
        metavar="PORT",
        help="serve the worker's Prometheus metrics on PORT (default: off)",
    )
    worker.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="address for --metrics-port (default: 127.0.0.1)",
    )


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


def _settings() -> ServerSettings:
    try:
        return load_server_settings()
    except (ValueError, OSError) as error:
        raise UsageError(
            f"server settings: {type(error).__name__}", hint="check the GITOPS_BOT_* variables"
        ) from error


def run_serve(args: argparse.Namespace) -> int:
    _logging()
    settings = _settings()
    app = build_app(settings, open_queue(settings.queue_url))
    app.run(host=args.host, port=args.port, threaded=True)
    return 0


def _github(settings: ServerSettings, metrics: WorkerMetrics) -> ForgeSetup | None:
    github = settings.github
    if github is None:
        return None
    if not github.app_id or not github.private_key:
        raise UsageError(
            "the worker needs the GitHub App's id and private key",
            hint="set GITOPS_BOT_GITHUB_APP_ID and GITOPS_BOT_GITHUB_PRIVATE_KEY(_FILE)",
        )
    auth = GitHubAppAuth(github.app_id, github.private_key, github.api_url)
    forge = GitHubForge(auth, github.api_url)
    metrics.watch_forge("github", forge.stats)
    web = clone_base(github.api_url)
    mirror = GitMirror(
        settings.data_dir,
        token_for=lambda ref: auth.token(ref.installation),
        clone_url_for=lambda ref: f"{web}/{ref.repo}.git",
    )
    return ForgeSetup(MeteredForge(forge, metrics, "github"), mirror)


def _gitlab(settings: ServerSettings, metrics: WorkerMetrics) -> ForgeSetup | None:
    gitlab = settings.gitlab
    if gitlab is None:
        return None
    if not gitlab.token:
        raise UsageError(
            "the worker needs a GitLab token to read merge requests and write notes",
            hint="set GITOPS_BOT_GITLAB_TOKEN (a project, group or bot user token, api scope)",
        )
    token = gitlab.token
    forge = GitLabForge(
        gitlab.url, token, bindings=SqliteApprovalBindings.in_data_dir(settings.data_dir)
    )
    mirror = GitMirror(
        settings.data_dir, token_for=lambda ref: token, clone_url_for=forge.clone_url
    )
    return ForgeSetup(MeteredForge(forge, metrics, "gitlab"), mirror)


def clone_base(api_url: str) -> str:
    """https://api.github.com -> https://github.com; GHES https://HOST/api/v3 -> https://HOST."""
    url = api_url.rstrip("/")
    if url == "https://api.github.com":
        return "https://github.com"
    return url.removesuffix("/api/v3")


def _until_signalled(stop: threading.Event) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: finishing the current jobs", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _reconcile_loop(
    stop: threading.Event,
    queue: JobQueue,
    forge_for: Callable[[PullRequestRef], ForgeClient],
    known: KnownRepositories,
    interval: float,
) -> None:
    while not stop.wait(interval):
        try:
            count = reconcile(queue, forge_for, known())
        except Exception as error:  # the queue may be down; the next pass tries again
            log.warning("reconcile pass failed: %s", type(error).__name__)
            continue
        if count:
            log.info("reconciler queued %d reviews", count)


def run_worker(args: argparse.Namespace) -> int:
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    _logging()
    settings = _settings()
    metrics = WorkerMetrics()
    queue = open_queue(settings.queue_url)
    setups = {
        forge: setup
        for forge, setup in (
            (Forge.GITHUB, _github(settings, metrics)),
            (Forge.GITLAB, _gitlab(settings, metrics)),
        )
        if setup is not None
    }
    if not setups:
        raise UsageError(
            "no forge is configured",
            hint="set the GITOPS_BOT_GITHUB_* or GITOPS_BOT_GITLAB_* variables (docs/deploy.md)",
        )
    forges = ForgeRouter(setups)
    forge_for, mirror = forges.forge_for, forges
    review_change = review_with_tools(load_settings())
    known = remembered_repositories(queue)

    workers = [
        Worker(
            queue, forge_for, mirror, review_change, settings, metrics=metrics, repositories=known
        )
        for _ in range(args.concurrency)
    ]
    if args.metrics_port:
        serve_metrics(metrics.registry, args.metrics_host, args.metrics_port)
    if args.once:
        threads = [threading.Thread(target=_drain, args=(w,)) for w in workers]
    else:
        stop = threading.Event()
        _until_signalled(stop)
        threads = [threading.Thread(target=w.run_forever, args=(stop,)) for w in workers]
        threads.append(
            threading.Thread(
                target=_reconcile_loop,
                args=(stop, queue, forge_for, known, settings.reconcile_seconds),
                daemon=True,
            )
        )
    for thread in threads:
        thread.start()
    for thread in threads:
        if not thread.daemon:
            thread.join()
    return 0


def _drain(worker: Worker) -> None:
    while worker.run_once():
        pass
