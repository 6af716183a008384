"""One pull request through the whole server: signed webhook → Flask app → SQLite queue →
worker (GitHubForge against the contract fake, GitMirror over a real git repository, the real
review tools) → summary comment and both checks on GitHub. Then a review approves it."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.report.format.check_run import APPROVAL_CHECK, REVIEW_CHECK
from bot.core.report.format.common import COMMENT_MARKER
from bot.engines.git_mirror import GitMirror
from bot.engines.github_auth import GitHubAppAuth
from bot.engines.github_forge import GitHubForge
from bot.engines.queue_sqlite import SqliteJobQueue
from bot.model.job import Forge, JobState, PullRequestRef
from bot.server.assembly import review_with_tools
from bot.server.web import create_app
from bot.server.worker import Worker
from bot.settings import GitHubAppSettings, ServerSettings, load_settings
from tests.contract.github_fake import FakeGitHub
from tests.server.helpers import EXAMPLES, SECRET, post

pytestmark = pytest.mark.integration

REPO = "acme/gitops"
CONFIG = """\
approval:
  rules:
    - name: platform
      requires: {count: 1, teams: [acme/platform]}
"""
CM = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: prod\ndata:\n  k: '{}'\n"
)


def _git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "Bob",
        "GIT_AUTHOR_EMAIL": "bob@example.com",
        "GIT_COMMITTER_NAME": "Bob",
        "GIT_COMMITTER_EMAIL": "bob@example.com",
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    return done.stdout.decode().strip()


@pytest.fixture
def origin(tmp_path: Path) -> tuple[Path, str, str]:
    """A bare repository at origin/acme/gitops.git with a base and a head commit."""
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "init", "-q", "-b", "main")
    (work / ".gitops-bot.yaml").write_text(CONFIG)
    (work / "apps").mkdir()
    (work / "apps/cm.yaml").write_text(CM.format(1))
    _git(work, "add", ".")
    _git(work, "commit", "-q", "-m", "base")
    base = _git(work, "rev-parse", "HEAD")
    (work / "apps/cm.yaml").write_text(CM.format(2))
    _git(work, "commit", "-q", "-am", "bump")
    head = _git(work, "rev-parse", "HEAD")
    bare = tmp_path / "origin" / f"{REPO}.git"
    bare.parent.mkdir(parents=True)
    _git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    return tmp_path / "origin", base, head


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    with fake.mocked():
        yield fake
    fake.assert_no_violations()


def test_a_pull_request_from_webhook_to_checks(tmp_path, origin, github):
    root, base, head = origin
    github.add_pull_request(REPO, 7, author="bob", base_sha=base, head_sha=head, title="Bump")
    github.add_commits(REPO, 7, [(head, "bob", "bob")])
    github.add_team("acme/platform", ["alice"])
    settings = ServerSettings(
        queue_url="",
        data_dir=str(tmp_path / "data"),
        github=GitHubAppSettings(
            str(github.app_id), github.private_key, (SECRET,), github.base_url
        ),
    )
    queue = SqliteJobQueue(str(tmp_path / "queue.sqlite3"))
    auth = GitHubAppAuth(github.app_id, github.private_key, github.base_url)
    forge = GitHubForge(auth, github.base_url, write_interval_seconds=0)
    mirror = GitMirror(
        settings.data_dir,
        token_for=lambda ref: auth.token(ref.installation),
        clone_url_for=lambda ref: f"file://{root}/{ref.repo}.git",
    )
    worker = Worker(queue, lambda ref: forge, mirror, review_with_tools(load_settings()), settings)
    client = create_app(settings, queue).test_client()
    try:
        opened = copy.deepcopy(EXAMPLES["pull_request"][12])
        opened["repository"]["full_name"] = REPO
        opened["number"] = opened["pull_request"]["number"] = 7
        opened["pull_request"]["head"]["sha"] = head
        opened["installation"]["id"] = 31
        assert post(client, "pull_request", opened).json == {"accepted": 1, "duplicate": 0}

        assert worker.run_once() is True

        [comment] = github.comments(REPO, 7)
        assert comment["body"].startswith(COMMENT_MARKER)
        assert "+0 ~1 -0 resource in 1 app" in comment["body"]
        runs = {run["name"]: run for run in github.check_runs(REPO, head)}
        assert runs[REVIEW_CHECK]["status"] == "completed"
        assert runs[APPROVAL_CHECK]["status"] == "in_progress"  # waiting for @acme/platform
        ref = PullRequestRef(Forge.GITHUB, REPO, 7, "31")
        assert queue.has_result(ref, head)

        github.add_review(REPO, 7, "alice", "APPROVED", head)
        review = copy.deepcopy(EXAMPLES["pull_request_review"][2])
        review["repository"]["full_name"] = REPO
        review["pull_request"]["number"] = 7
        review["pull_request"]["head"]["sha"] = head
        review["installation"]["id"] = 31
        assert post(client, "pull_request_review", review).status_code == 202
        assert worker.run_once() is True

        runs = {run["name"]: run for run in github.check_runs(REPO, head)}
        assert (runs[APPROVAL_CHECK]["status"], runs[APPROVAL_CHECK]["conclusion"]) == (
            "completed",
            "success",
        )
        assert runs[APPROVAL_CHECK]["output"]["title"] == "Approved: platform"
        assert len(github.comments(REPO, 7)) == 1  # edited in place
        assert "approved by @alice" in github.comments(REPO, 7)[0]["body"]
        assert queue.counts()[JobState.DONE] == 2
        assert json.dumps(queue.counts(), default=str)
    finally:
        queue.close()
        forge.close()
