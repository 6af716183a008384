"""The web process: accept a delivery fast and durably, never lose one, never 5xx on input.

POST /github/webhook  202 {"accepted", "duplicate"} · 200 {"ignored"} · 400 malformed ·
                      401 bad signature · 404 GitHub not configured · 413 too large ·
                      415 not JSON · 503 queue unavailable (the reconciler covers the delivery)
GET  /healthz         200 while the process serves
GET  /readyz          200 with the job counts when the queue answers, else 503
GET  /metrics         Prometheus text: deliveries, jobs per state
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from bot.core.webhooks.github import route_github
from bot.core.webhooks.routing import Ignored
from bot.model.errors import UsageError
from bot.ports import JobQueue
from bot.server.delivery import (
    Rejected,
    check_content_type,
    check_headers,
    check_length,
    parse_payload,
    read_body,
    signature_valid,
)
from bot.server.metrics import CONTENT_TYPE, Labels, Registry, gauge_lines
from bot.settings import ServerSettings

log = logging.getLogger("gitops_bot.server.web")

SECRET_ENV = "GITOPS_BOT_GITHUB_WEBHOOK_SECRET"  # noqa: S105 - a variable name, not a secret
KNOWN_EVENTS = frozenset(
    {
        "pull_request",
        "pull_request_review",
        "check_run",
        "check_suite",
        "issue_comment",
        "merge_group",
        "installation",
        "installation_repositories",
        "ping",
    }
)


class _WebMetrics:
    def __init__(self, registry: Registry, queue: JobQueue) -> None:
        self.registry = registry
        self.deliveries = registry.counter(
            "gitops_bot_webhook_deliveries_total",
            "Webhook deliveries by event and outcome (this web process).",
            ("forge", "event", "outcome"),
        )
        self._queue = queue
        registry.collector(self._jobs)

    def delivery(self, event: str | None, outcome: str) -> None:
        label = event if event in KNOWN_EVENTS else "other" if event else "none"
        self.deliveries.inc(forge="github", event=label, outcome=outcome)

    def counter(self, forge: str) -> Callable[[str, str], None]:
        """For another forge's blueprint; it passes event labels it has already bounded."""
        return lambda event, outcome: self.deliveries.inc(forge=forge, event=event, outcome=outcome)

    def _jobs(self) -> Iterable[str]:
        try:
            counts = self._queue.counts()
        except Exception:  # an unreachable store is what queue_up reports
            return gauge_lines("gitops_bot_queue_up", "1 when the job queue answers.", {(): 0})
        jobs: dict[Labels, float] = {
            (("state", state.value),): float(n) for state, n in counts.items()
        }
        return [
            *gauge_lines("gitops_bot_queue_up", "1 when the job queue answers.", {(): 1}),
            *gauge_lines("gitops_bot_jobs", "Jobs in the queue per state (all processes).", jobs),
        ]


_METRICS = "gitops_bot.web_metrics"


def delivery_counter(app: Flask, forge: str) -> Callable[[str, str], None]:
    """Count (event label, outcome) of `forge`'s deliveries in the app's /metrics."""
    metrics: _WebMetrics = app.extensions[_METRICS]
    return metrics.counter(forge)


def _json(code: int, **body: Any) -> tuple[Response, int]:
    return jsonify(body), code


def create_app(
    settings: ServerSettings,
    queue: JobQueue,
    *,
    clock: Callable[[], float] = time.time,
    registry: Registry | None = None,
) -> Flask:
    github = settings.github
    if github is not None and not github.webhook_secrets:
        raise UsageError(
            "GitHub is configured but has no webhook secret",
            hint=f"set {SECRET_ENV} (several, comma-separated, while rotating)",
        )
    app = Flask("gitops_bot")
    # Werkzeug enforces this too while the stream is read (chunked bodies included).
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    metrics = _WebMetrics(registry or Registry(), queue)
    app.extensions[_METRICS] = metrics

    @app.post("/github/webhook")
    def github_webhook() -> tuple[Response, int]:
        if github is None:
            return _json(404, error="GitHub is not configured on this server")
        event = request.headers.get("X-GitHub-Event")
        try:
            check_length(request.content_length, settings.max_body_bytes)
            check_content_type(request.mimetype)
            body = read_body(request.stream, settings.max_body_bytes)
            if not signature_valid(
                github.webhook_secrets, body, request.headers.get("X-Hub-Signature-256")
            ):
                raise Rejected(401, "missing or invalid X-Hub-Signature-256", "bad_signature")
            event, delivery = check_headers(event, request.headers.get("X-GitHub-Delivery"))
            payload, document = parse_payload(body, request.mimetype)
        except Rejected as rejected:
            metrics.delivery(event, rejected.outcome)
            return _json(rejected.status, error=rejected.message)
        routed = route_github(event, delivery, payload, clock(), document)
        if isinstance(routed, Ignored):
            metrics.delivery(event, "ignored")
            log.info("delivery %s (%s) ignored: %s", delivery, event, routed.reason)
            return _json(200, ignored=routed.reason)
        accepted = duplicate = 0
        try:
            for job in routed:
                if queue.enqueue(job):
                    accepted += 1
                else:
                    duplicate += 1
        except Exception as error:  # any store failure is a 503, never a 500
            metrics.delivery(event, "queue_error")
            # The type only: a driver's message may quote the connection string.
            log.error("delivery %s (%s) not queued: %s", delivery, event, type(error).__name__)
            return _json(503, error="the job queue is unavailable; the delivery was not stored")
        metrics.delivery(event, "accepted" if accepted else "duplicate")
        log.info(
            "delivery %s (%s): %d accepted, %d duplicate", delivery, event, accepted, duplicate
        )
        return _json(202, accepted=accepted, duplicate=duplicate)

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        return _json(200, status="ok")

    @app.get("/readyz")
    def readyz() -> tuple[Response, int]:
        try:
            counts = queue.counts()
        except Exception as error:  # not ready, whatever the store says
            log.warning("queue not ready: %s", type(error).__name__)
            return _json(503, ready=False, error="the job queue is unavailable")
        return _json(200, ready=True, jobs={state.value: n for state, n in counts.items()})

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(metrics.registry.render(), mimetype=None, content_type=CONTENT_TYPE)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        status = error.code or 400
        if status == 413:
            metrics.delivery(request.headers.get("X-GitHub-Event"), "too_large")
            return _json(413, error=f"body larger than {settings.max_body_bytes} bytes")
        return _json(status, error=error.name)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response, int]:
        log.exception("unexpected %s on %s", type(error).__name__, request.path)
        return _json(500, error="internal error")

    return app
