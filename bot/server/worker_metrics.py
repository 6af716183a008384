"""The worker's own metrics: jobs, review durations, forge operations (a wrapper around the
ForgeClient, per method) and the forge's HTTP-level counters and rate limit (read from the
adapter's `stats()` at scrape time, e.g. GitHubForge.stats())."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from bot.model.approval import ForgeFacts
from bot.model.job import PullRequestRef
from bot.ports import CheckReport, CommentMode, ForgeClient, PullRequestInfo
from bot.server.metrics import Labels, Registry, sample_lines

T = TypeVar("T")


class WorkerMetrics:
    def __init__(self, registry: Registry | None = None) -> None:
        self.registry = registry or Registry()
        r = self.registry
        self.jobs = r.counter(
            "gitops_bot_jobs_handled_total",
            "Jobs this worker finished, by action and outcome.",
            ("action", "outcome"),
        )
        self.review_seconds = r.histogram(
            "gitops_bot_review_duration_seconds",
            "Wall time of review() (render, validate, policy, diff, signatures, approval).",
        )
        self.forge_calls = r.counter(
            "gitops_bot_forge_operations_total",
            "ForgeClient operations by method and outcome (one may be several HTTP requests).",
            ("forge", "method", "outcome"),
        )

    def watch_forge(self, forge_name: str, stats: Callable[[], Mapping[str, int]]) -> None:
        """Export an adapter's own counters (api_calls, api_writes, api_retries,
        rate_limit_remaining) at scrape time."""

        def collect() -> list[str]:
            try:
                values = stats()
            except Exception:  # a scrape must never fail on the forge
                return []
            label: Labels = (("forge", forge_name),)
            lines: list[str] = []
            for key, name, kind, help_text in _FORGE_STATS:
                if key in values:
                    lines += sample_lines(name, kind, help_text, {label: float(values[key])})
            return lines

        self.registry.collector(collect)


_FORGE_STATS = (
    ("api_calls", "gitops_bot_forge_api_requests_total", "counter", "HTTP requests to the forge."),
    ("api_writes", "gitops_bot_forge_api_writes_total", "counter", "Writes (POST/PATCH/…)."),
    ("api_retries", "gitops_bot_forge_api_retries_total", "counter", "Requests retried."),
    (
        "rate_limit_remaining",
        "gitops_bot_forge_rate_limit_remaining",
        "gauge",
        "Requests left in the rate-limit window, as the forge last said (-1: not seen yet).",
    ),
)


class MeteredForge:
    """Delegates every ForgeClient call, counting it (ok/error) in WorkerMetrics."""

    def __init__(self, forge: ForgeClient, metrics: WorkerMetrics, forge_name: str) -> None:
        self._forge = forge
        self._metrics = metrics
        self._name = forge_name

    def _call(self, method: str, call: Callable[[], T]) -> T:
        outcome = "error"
        try:
            result = call()
            outcome = "ok"
            return result
        finally:
            self._metrics.forge_calls.inc(forge=self._name, method=method, outcome=outcome)

    def pull_request(self, ref: PullRequestRef) -> PullRequestInfo:
        return self._call("pull_request", lambda: self._forge.pull_request(ref))

    def open_pull_requests(self, repo: str, installation: str) -> list[PullRequestInfo]:
        return self._call(
            "open_pull_requests", lambda: self._forge.open_pull_requests(repo, installation)
        )

    def approval_facts(self, pr: PullRequestInfo, teams: Sequence[str]) -> ForgeFacts:
        return self._call("approval_facts", lambda: self._forge.approval_facts(pr, teams))

    def permission(self, ref: PullRequestRef, user: str) -> str:
        return self._call("permission", lambda: self._forge.permission(ref, user))

    def upsert_comment(self, ref: PullRequestRef, marker: str, body: str, mode: CommentMode) -> str:
        return self._call(
            "upsert_comment", lambda: self._forge.upsert_comment(ref, marker, body, mode)
        )

    def publish_check(self, ref: PullRequestRef, check: CheckReport) -> None:
        self._call("publish_check", lambda: self._forge.publish_check(ref, check))


def timed(metrics: WorkerMetrics | None, call: Callable[[], T]) -> T:
    started = time.monotonic()
    try:
        return call()
    finally:
        if metrics is not None:
            metrics.review_seconds.observe(time.monotonic() - started)
