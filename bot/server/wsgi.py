"""The WSGI app for gunicorn, configured from GITOPS_BOT_* variables:

    gunicorn --workers 1 --threads 8 -b 0.0.0.0:8080 'bot.server.wsgi:app'
    gunicorn 'bot.server.wsgi:create()'          # the same, as an app factory

`app` is built on first access (PEP 562), so importing this module reads no environment.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import Flask

from bot.engines.queue_factory import open_queue
from bot.ports import JobQueue
from bot.server.gitlab_web import gitlab_blueprint
from bot.server.web import create_app, delivery_counter
from bot.settings import ServerSettings, load_server_settings

_lock = threading.Lock()
_app: Flask | None = None


def build_app(
    settings: ServerSettings, queue: JobQueue, *, clock: Callable[[], float] = time.time
) -> Flask:
    """The GitHub app, plus the GitLab webhook when GitLab is configured."""
    app = create_app(settings, queue, clock=clock)
    if settings.gitlab is not None:
        app.register_blueprint(
            gitlab_blueprint(settings, queue, clock=clock, count=delivery_counter(app, "gitlab"))
        )
    return app


def create() -> Flask:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = load_server_settings()
    return build_app(settings, open_queue(settings.queue_url))


def __getattr__(name: str) -> Flask:
    global _app  # noqa: PLW0603 - one app per process, built lazily
    if name != "app":
        raise AttributeError(name)
    with _lock:
        if _app is None:
            _app = create()
        return _app
