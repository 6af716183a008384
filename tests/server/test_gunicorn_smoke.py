"""The web app under real gunicorn on 127.0.0.1: signed deliveries over real HTTP."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.engines.queue_sqlite import SqliteJobQueue
from bot.model.job import JobState
from tests.server.helpers import EXAMPLES, SECRET, headers

ROOT = Path(__file__).parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(port: int, method: str, path: str, body: bytes = b"", sent=None, chunked=False):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        if chunked:
            connection.putrequest(method, path)
            for name, value in (sent or {}).items():
                connection.putheader(name, value)
            connection.putheader("Transfer-Encoding", "chunked")
            connection.endheaders()
            for start in range(0, len(body), 65536):
                piece = body[start : start + 65536]
                try:
                    connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    break  # the server answered 413 and closed early
            else:
                connection.send(b"0\r\n\r\n")
        else:
            connection.request(method, path, body=body, headers=sent or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture
def serve(tmp_path: Path):
    started: list[subprocess.Popen[bytes]] = []

    def start(app: str, **env: str) -> int:
        port = _free_port()
        environment = {
            **os.environ,
            "GITOPS_BOT_GITHUB_WEBHOOK_SECRET": f"old-secret,{SECRET}",
            "GITOPS_BOT_DATA_DIR": str(tmp_path / "data"),
            "GITOPS_BOT_QUEUE": f"sqlite:///{tmp_path}/queue.sqlite3",
            "SMOKE_JOURNAL": str(tmp_path / "journal.jsonl"),
            **env,
        }
        log = (tmp_path / "gunicorn.log").open("wb")
        process = subprocess.Popen(
            [str(GUNICORN), "-b", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4", app],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        for _ in range(300):
            try:
                if _request(port, "GET", "/healthz")[0] == 200:
                    return port
            except OSError:
                pass
            if process.poll() is not None:
                break
            time.sleep(0.05)
        pytest.fail(f"gunicorn did not start:\n{(tmp_path / 'gunicorn.log').read_text()}")

    yield start
    for process in started:
        process.terminate()  # by PID: only the server this test started
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _post(port: int, event: str, payload) -> tuple[int, dict]:
    body = json.dumps(payload).encode()
    sent = {**headers(event, body), "Content-Type": "application/json"}
    status, answer = _request(port, "POST", "/github/webhook", body, sent)
    return status, json.loads(answer)


def test_signed_deliveries_over_real_http(serve, tmp_path):
    port = serve("tests.server.smoke_app:create()")
    assert _post(port, "ping", EXAMPLES["ping"][0]) == (200, {"ignored": "pong"})
    assert _post(port, "pull_request", EXAMPLES["pull_request"][12]) == (
        202,
        {"accepted": 1, "duplicate": 0},
    )
    [line] = (tmp_path / "journal.jsonl").read_text().splitlines()
    assert json.loads(line)["key"] == "github:Codertocat/Hello-World#2"
    status, _ = _request(port, "GET", "/metrics")
    assert status == 200


def test_the_wsgi_module_with_the_sqlite_queue(serve, tmp_path):
    port = serve("bot.server.wsgi:app")
    assert _post(port, "pull_request", EXAMPLES["pull_request"][12])[0] == 202
    assert _post(port, "issue_comment", EXAMPLES["issue_comment"][0])[0] == 200
    queue = SqliteJobQueue(str(tmp_path / "queue.sqlite3"))
    try:
        assert queue.counts()[JobState.PENDING] == 1  # durable before the 202
    finally:
        queue.close()
    body = b'{"zen": "' + b"x" * (26 * 1024 * 1024) + b'"}'
    sent = {**headers("ping", body), "Content-Type": "application/json"}
    status, _ = _request(port, "POST", "/github/webhook", body, sent, chunked=True)
    assert status == 413  # no Content-Length: capped while reading
    assert _request(port, "GET", "/healthz")[0] == 200
