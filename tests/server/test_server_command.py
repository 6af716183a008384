"""`gitops-bot serve` / `worker`: argument and settings errors are clear, exit 2, no traceback."""

from __future__ import annotations

import pytest

from bot.entrypoints.cli import build_parser, main


@pytest.fixture
def server_env(monkeypatch, tmp_path):
    for name in ("SECRET", "APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_FILE"):
        monkeypatch.delenv(f"GITOPS_BOT_GITHUB_{name}", raising=False)
        monkeypatch.delenv(f"GITOPS_BOT_GITHUB_WEBHOOK_{name}", raising=False)
    monkeypatch.setenv("GITOPS_BOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GITOPS_BOT_QUEUE", f"sqlite:///{tmp_path}/queue.sqlite3")
    return monkeypatch


def test_serve_refuses_github_without_a_webhook_secret(server_env, capsys):
    server_env.setenv("GITOPS_BOT_GITHUB_APP_ID", "1234")
    assert main(["serve", "--port", "0"]) == 2
    assert "GITOPS_BOT_GITHUB_WEBHOOK_SECRET" in capsys.readouterr().err


def test_worker_needs_the_app_credentials(server_env, capsys):
    server_env.setenv("GITOPS_BOT_GITHUB_WEBHOOK_SECRET", "s")
    assert main(["worker", "--once"]) == 2
    err = capsys.readouterr().err
    assert "GITOPS_BOT_GITHUB_APP_ID" in err
    assert "Traceback" not in err


def test_worker_concurrency_must_be_positive(server_env, capsys):
    assert main(["worker", "--concurrency", "0"]) == 2
    assert "--concurrency must be at least 1" in capsys.readouterr().err


def test_bad_numbers_in_settings_are_usage_errors(server_env, capsys):
    server_env.setenv("GITOPS_BOT_LEASE_SECONDS", "five minutes")
    assert main(["worker", "--once"]) == 2
    assert "GITOPS_BOT_" in capsys.readouterr().err


def test_help_texts(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    commands = next(a for a in build_parser()._actions if a.dest == "command")
    assert commands.choices["serve"].format_usage().strip() == (
        "usage: gitops-bot serve [-h] [--host HOST] [--port PORT]"
    )
    assert "--metrics-port PORT" in commands.choices["worker"].format_usage()
