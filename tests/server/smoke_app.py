"""An app factory for the gunicorn smoke test: the real create_app and settings, with a queue
that journals every accepted job to a file the test (another process) can read."""

from __future__ import annotations

import json
import os

from flask import Flask

from bot.model.job import Job
from bot.server.web import create_app
from bot.settings import load_server_settings
from tests.server.fakes import FakeQueue


class JournalQueue(FakeQueue):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def enqueue(self, job: Job) -> bool:
        new = super().enqueue(job)
        if new:
            line = {
                "delivery_id": job.delivery_id,
                "action": job.action.value,
                "key": job.pull_request.key,
            }
            with open(self.path, "a", encoding="utf-8") as journal:
                journal.write(json.dumps(line) + "\n")
                journal.flush()
                os.fsync(journal.fileno())
        return new


def create() -> Flask:
    return create_app(load_server_settings(), JournalQueue(os.environ["SMOKE_JOURNAL"]))
