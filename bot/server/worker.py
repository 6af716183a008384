"""The worker loop: claim → handle → ack. A failure is retried with backoff; after the last
attempt both checks are completed as failures saying how to retry, so none is left pending."""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading

from bot.core.report.format.check_run import failed_checks
from bot.model.job import ClaimedJob, JobAction
from bot.ports import JobQueue, RepoMirror
from bot.server.handler import (
    ForgeFor,
    JobHandler,
    Outcome,
    ReviewCache,
    ReviewChange,
)
from bot.server.reconcile import KnownRepositories
from bot.server.scrub import scrub
from bot.server.worker_metrics import WorkerMetrics
from bot.settings import ServerSettings

log = logging.getLogger("gitops_bot.server.worker")

DEFAULT_MAX_ATTEMPTS = 3
_NAMES = itertools.count(1)


def backoff_seconds(attempt: int) -> float:
    """30 s, 60 s, 120 s, … capped at 15 minutes."""
    return float(min(30 * 2 ** max(attempt - 1, 0), 900))


def settings_secrets(settings: ServerSettings) -> tuple[str, ...]:
    values: list[str] = []
    if settings.github is not None:
        values += [*settings.github.webhook_secrets, settings.github.private_key]
    if settings.gitlab is not None:
        gitlab = settings.gitlab
        values += [gitlab.token, gitlab.webhook_token, gitlab.signing_token]
    return tuple(v for v in values if v)


class Worker:
    def __init__(
        self,
        queue: JobQueue,
        forge_for: ForgeFor,
        mirror: RepoMirror,
        review_change: ReviewChange,
        settings: ServerSettings,
        *,
        name: str = "",
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        metrics: WorkerMetrics | None = None,
        cache: ReviewCache | None = None,
        repositories: KnownRepositories | None = None,
    ) -> None:
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{next(_NAMES)}"
        self.metrics = metrics or WorkerMetrics()
        self.repositories = repositories if repositories is not None else KnownRepositories()
        self._queue = queue
        self._forge_for = forge_for
        self._settings = settings
        self._max_attempts = max_attempts
        self._secrets = settings_secrets(settings)
        self._handler = JobHandler(
            queue, forge_for, mirror, review_change, settings, cache=cache, metrics=self.metrics
        )

    def run_once(self) -> bool:
        """Handle one job; False when there was nothing to claim."""
        claim = self._queue.claim(self.name, self._settings.lease_seconds)
        if claim is None:
            return False
        job = claim.job
        if job.pull_request.number > 0:
            self.repositories.add(job.pull_request)
        if claim.attempt > self._max_attempts:
            # Every earlier attempt died with its worker (killed, out of memory) before it
            # could report: give up visibly instead of letting the queue fail it silently.
            message = f"the worker handling it stopped {claim.attempt - 1} times"
            if not (job.head_sha and self._queue.has_result(job.pull_request, job.head_sha)):
                self._publish_failure(claim, message)  # a published result stands
            self._queue.fail(claim, message, None)
            self.metrics.jobs.inc(action=job.action.value, outcome="failed")
            log.warning("%s %s: gave up, %s", job.action.value, job.pull_request.key, message)
            return True
        try:
            outcome = self._handler.handle(claim)
        except Exception as error:  # every failure is retried or reported
            self._failed(claim, error)
            return True
        if outcome is not Outcome.LEASE_LOST:
            self._queue.ack(claim)
        self.metrics.jobs.inc(action=job.action.value, outcome=outcome.value)
        log.info("%s %s: %s", job.action.value, job.pull_request.key, outcome.value)
        return True

    def run_forever(self, stop: threading.Event, poll_seconds: float = 2.0) -> None:
        while not stop.is_set():
            try:
                worked = self.run_once()
            except Exception as error:  # the queue is down: wait, then retry
                log.error("worker %s: queue error: %s", self.name, scrub(str(error), self._secrets))
                worked = False
            if not worked:
                stop.wait(poll_seconds)

    def _failed(self, claim: ClaimedJob, error: Exception) -> None:
        message = scrub(f"{type(error).__name__}: {error}", self._secrets)
        # Forge adapters mark errors that no retry can fix (404, 403: `retryable = False`).
        last = claim.attempt >= self._max_attempts or getattr(error, "retryable", True) is False
        log.warning(
            "%s %s attempt %d/%d failed: %s",
            claim.job.action.value,
            claim.job.pull_request.key,
            claim.attempt,
            self._max_attempts,
            message,
        )
        if last:
            self._publish_failure(claim, message)
        self._queue.fail(claim, message, None if last else backoff_seconds(claim.attempt))
        self.metrics.jobs.inc(
            action=claim.job.action.value, outcome="failed" if last else "retrying"
        )

    def _publish_failure(self, claim: ClaimedJob, message: str) -> None:
        job = claim.job
        if job.action is JobAction.CANCEL:
            return
        ref = job.pull_request
        try:
            if not self._queue.is_current(job):
                return  # a newer head SHA owns the checks now
            forge = self._forge_for(ref)
            head_sha = job.head_sha or forge.pull_request(ref).head_sha
            attempts = f"after {claim.attempt} attempts: {message}"
            for check in failed_checks(head_sha, attempts, self._settings.public_url):
                forge.publish_check(ref, check)
        except Exception as error:  # the forge may be what is failing
            log.error(
                "could not publish the failure of %s: %s",
                ref.key,
                scrub(str(error), self._secrets),
            )
