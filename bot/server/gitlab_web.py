"""POST /gitlab/webhook: verify, route, record approval bindings, queue; answer fast.

202 {"accepted", "duplicate"} · 200 {"ignored"} (valid but irrelevant: GitLab disables a hook
after four failures in a row) · 400 malformed · 401 bad or missing token/signature · 404 GitLab
not configured · 413 too large · 415 not JSON · 503 queue or binding store unavailable (GitLab
retries, with the same Idempotency-Key).

Register it in create_app: `app.register_blueprint(gitlab_blueprint(settings, queue, clock=clock))`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from bot.core.webhooks.gitlab import approval_binding, route_gitlab
from bot.core.webhooks.routing import Ignored
from bot.engines.gitlab_approvals import ApprovalBindings, SqliteApprovalBindings
from bot.model.errors import UsageError
from bot.ports import JobQueue
from bot.server.delivery import Rejected, check_length, parse_payload, read_body
from bot.server.gitlab_auth import SIGNATURE_HEADER, delivery_id, verify_gitlab_request
from bot.settings import ServerSettings

log = logging.getLogger("gitops_bot.server.gitlab")

_EVENT = re.compile(r"[A-Za-z ]{1,64}")
EVENT_LABELS = {
    "Merge Request Hook": "merge_request",
    "Note Hook": "note",
    "Confidential Note Hook": "note",
    "Push Hook": "push",
    "System Hook": "system",
}
# (event label, outcome) → the deliveries metric; web.py passes its counter in.
CountDelivery = Callable[[str, str], None]


def _json(code: int, **body: Any) -> tuple[Response, int]:
    return jsonify(body), code


class _LazyBindings:
    """The store opens on the first approval event: a server without GitLab approvals (or a
    test without a data dir) never touches the file."""

    def __init__(self, data_dir: str) -> None:
        self._data_dir = data_dir
        self._store: ApprovalBindings | None = None
        self._lock = threading.Lock()

    def get(self) -> ApprovalBindings:
        with self._lock:
            if self._store is None:
                self._store = SqliteApprovalBindings.in_data_dir(self._data_dir)
            return self._store


def gitlab_blueprint(
    settings: ServerSettings,
    queue: JobQueue,
    *,
    bindings: ApprovalBindings | None = None,
    clock: Callable[[], float] = time.time,
    count: CountDelivery | None = None,
) -> Blueprint:
    gitlab = settings.gitlab
    if gitlab is not None and not (gitlab.webhook_token or gitlab.signing_token):
        raise UsageError(
            "GitLab is configured but has neither a webhook token nor a signing token",
            hint="set GITOPS_BOT_GITLAB_WEBHOOK_TOKEN and/or GITOPS_BOT_GITLAB_SIGNING_TOKEN",
        )
    lazy = _LazyBindings(settings.data_dir)
    store: Callable[[], ApprovalBindings] = (lambda: bindings) if bindings else lazy.get
    blueprint = Blueprint("gitlab", __name__)

    def counted(event: str | None, outcome: str) -> None:
        if count is not None:
            count(EVENT_LABELS.get(event or "", "other" if event else "none"), outcome)

    @blueprint.post("/gitlab/webhook")
    def gitlab_webhook() -> tuple[Response, int]:
        if gitlab is None:
            return _json(404, error="GitLab is not configured on this server")
        event = request.headers.get("X-Gitlab-Event")
        try:
            check_length(request.content_length, settings.max_body_bytes)
            if request.mimetype != "application/json":
                raise Rejected(415, "content type must be application/json", "bad_media_type")
            body = read_body(request.stream, settings.max_body_bytes)
            error = verify_gitlab_request(dict(request.headers), body, gitlab, clock())
            if error is not None:
                raise Rejected(401, error, "bad_signature")
            if not event or not _EVENT.fullmatch(event):
                raise Rejected(400, "missing or malformed X-Gitlab-Event header", "bad_request")
            payload, document = parse_payload(body, "application/json")
        except Rejected as rejected:
            counted(event, rejected.outcome)
            log.info("gitlab delivery rejected (%d): %s", rejected.status, rejected.message)
            return _json(rejected.status, error=rejected.message)
        signed = bool(gitlab.signing_token and request.headers.get(SIGNATURE_HEADER))
        delivery = delivery_id(dict(request.headers), body, signed)
        received = clock()
        routed = route_gitlab(event, delivery, payload, received, document)
        if isinstance(routed, Ignored):
            counted(event, "ignored")
            log.info("delivery %s (%s) ignored: %s", delivery, event, routed.reason)
            return _json(200, ignored=routed.reason)
        accepted = duplicate = 0
        try:
            binding = approval_binding(payload)
            if binding is not None:
                # Before queueing: coalescing may supersede this job, never the binding.
                store().apply(binding, received)
            for job in routed:
                if queue.enqueue(job):
                    accepted += 1
                else:
                    duplicate += 1
        except Exception as error:
            counted(event, "queue_error")
            log.error("delivery %s (%s) not queued: %s", delivery, event, type(error).__name__)
            return _json(503, error="the job queue is unavailable; the delivery was not stored")
        counted(event, "accepted" if accepted else "duplicate")
        log.info(
            "delivery %s (%s): %d accepted, %d duplicate", delivery, event, accepted, duplicate
        )
        return _json(202, accepted=accepted, duplicate=duplicate)

    return blueprint
