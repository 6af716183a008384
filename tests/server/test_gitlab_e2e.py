"""End to end over real HTTP: GitLab's MR hook → the Flask app on 127.0.0.1 → the SQLite queue →
the worker → GitLabForge → the fake GitLab on 127.0.0.1 → one note and two commit statuses.
Redelivered with the same Idempotency-Key, nothing more is written; an approval event binds the
approval to the head it was given on and completes the approval status."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from bot.core.pipeline import Ports, review
from bot.core.report.format.check_run import APPROVAL_CHECK, REVIEW_CHECK
from bot.core.report.format.common import COMMENT_MARKER
from bot.core.webhooks.gitlab import branch_lane
from bot.engines.gitlab_approvals import SqliteApprovalBindings
from bot.engines.gitlab_forge import GitLabForge
from bot.engines.queue_sqlite import SqliteJobQueue
from bot.model.job import Forge, Job, JobAction, PullRequestRef
from bot.server.gitlab_push import refresh_branch
from bot.server.gitlab_web import gitlab_blueprint
from bot.server.web import create_app
from bot.server.worker import Worker
from bot.settings import GitLabSettings, ServerSettings
from tests.contract.gitlab_fake import FakeGitLab
from tests.core.fakes import FakeCatalog, FakePolicyEngine, FakeRunner, FakeTree, ok
from tests.server.fakes import FakeMirror

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "gitlab"
HOOK = json.loads((FIXTURES / "docs-examples" / "webhook-merge-request-hook.json").read_text())
PROJECT = HOOK["project"]["path_with_namespace"]
IID = HOOK["object_attributes"]["iid"]
HEAD = HOOK["object_attributes"]["last_commit"]["id"]
BRANCH = HOOK["object_attributes"]["source_branch"]
WEBHOOK_TOKEN = "e2e-webhook-token"
CONFIG = """\
approval:
  rules:
    - name: one-developer
      requires: {count: 1, permissions: [write]}
"""
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  k: '{value}'\n"
BASE = {".gitops-bot.yaml": CONFIG, "apps/cm.yaml": CM.format(value="1")}
CATALOG = FakeCatalog({"1.37": {("", "v1", "ConfigMap"): {"type": "object"}}})


def review_change(change: Any, base: Any, head: Any, log: Any, facts: Any, trusted: Any) -> Any:
    """The real review() on fake tools (no helm/kustomize needed for plain YAML)."""
    ports = Ports(FakeRunner(lambda c, t: ok("")), CATALOG, FakePolicyEngine(), forge_facts=facts)
    return review(change, base, head, ports, trusted_tree=trusted)


@dataclass
class Env:
    url: str
    gitlab: FakeGitLab
    queue: SqliteJobQueue
    worker: Worker
    forge: GitLabForge

    def deliver(
        self, payload: dict[str, Any], key: str, event: str = "Merge Request Hook"
    ) -> requests.Response:
        return requests.post(
            f"{self.url}/gitlab/webhook",
            data=json.dumps(payload).encode(),
            headers={
                "Content-Type": "application/json",
                "X-Gitlab-Event": event,
                "X-Gitlab-Token": WEBHOOK_TOKEN,
                "Idempotency-Key": key,
                "X-Gitlab-Event-UUID": key,
            },
            timeout=10,
        )

    def drain(self) -> int:
        count = 0
        while self.worker.run_once():
            count += 1
        return count


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    gitlab = FakeGitLab(max_per_page=2)
    gitlab.add_user("agarcia", "Alex Garcia")
    gitlab.add_merge_request(PROJECT, IID, author="agarcia", head_sha=HEAD, source_branch=BRANCH)
    gitlab.set_access(PROJECT, "sjones", 30)
    with gitlab.serving():
        settings = ServerSettings(
            queue_url=f"sqlite:///{tmp_path}/queue.sqlite3",
            data_dir=str(tmp_path),
            gitlab=GitLabSettings(
                url=gitlab.base_url, token=gitlab.token, webhook_token=WEBHOOK_TOKEN
            ),
        )
        queue = SqliteJobQueue(str(tmp_path / "queue.sqlite3"))
        app = create_app(settings, queue)
        app.register_blueprint(gitlab_blueprint(settings, queue))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        forge = GitLabForge(
            gitlab.base_url, gitlab.token, bindings=SqliteApprovalBindings.in_data_dir(tmp_path)
        )
        mirror = FakeMirror(
            {
                HEAD: (
                    FakeTree(BASE, "base"),
                    FakeTree({**BASE, "apps/cm.yaml": CM.format(value="2")}, "head"),
                )
            }
        )
        worker = Worker(queue, lambda ref: forge, mirror, review_change, settings, name="e2e")
        try:
            yield Env(f"http://127.0.0.1:{server.port}", gitlab, queue, worker, forge)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
    gitlab.assert_clean()


def _ours(env: Env) -> list[dict[str, Any]]:
    return [n for n in env.gitlab.notes(PROJECT, IID) if COMMENT_MARKER in n["body"]]


def test_an_mr_event_becomes_one_note_and_two_statuses_and_a_redelivery_changes_nothing(
    env: Env,
) -> None:
    first = env.deliver(HOOK, "6a2f0a51-2d2a-4a0e-9d55-0d7b6f7c1e01")
    assert (first.status_code, first.json()) == (202, {"accepted": 1, "duplicate": 0})
    assert env.drain() == 1

    (note,) = _ours(env)
    assert "+0 ~1 -0 resource in 1 app" in note["body"]
    statuses = env.gitlab.statuses(PROJECT, HEAD)
    assert sorted((s["name"], s["status"]) for s in statuses) == [
        (APPROVAL_CHECK, "running"),  # waiting for an approval
        (REVIEW_CHECK, "success"),
    ]
    note_url = f"{env.gitlab.base_url}/{PROJECT}/-/merge_requests/{IID}#note_{note['id']}"
    assert {s["target_url"] for s in statuses} == {note_url}

    again = env.deliver(HOOK, "6a2f0a51-2d2a-4a0e-9d55-0d7b6f7c1e01")
    assert (again.status_code, again.json()) == (202, {"accepted": 0, "duplicate": 1})
    assert env.drain() == 0
    assert len(_ours(env)) == 1 and len(env.gitlab.statuses(PROJECT, HEAD)) == 2


def test_an_approval_event_binds_the_approval_and_completes_the_gate(env: Env) -> None:
    env.deliver(HOOK, "open-1")
    env.drain()
    env.gitlab.approve(PROJECT, IID, "sjones")
    approval = copy.deepcopy(HOOK)
    approval["object_attributes"]["action"] = "approval"
    approval["user"]["username"] = "sjones"
    assert env.deliver(approval, "approval-1").status_code == 202
    assert env.drain() == 1
    gate = [s for s in env.gitlab.statuses(PROJECT, HEAD) if s["name"] == APPROVAL_CHECK]
    assert [s["status"] for s in gate] == ["success"]
    assert len(_ours(env)) == 1  # the same note, updated with the approval tree


def test_a_push_refreshes_the_open_mr_of_its_branch(env: Env) -> None:
    push = json.loads((FIXTURES / "webhooks" / "push.json").read_text())
    push.update(
        ref=f"refs/heads/{BRANCH}",
        after=HEAD,
        project={**push["project"], "path_with_namespace": PROJECT},
    )
    assert env.deliver(push, "push-1", event="Push Hook").status_code == 202
    claim = env.queue.claim("test", 60)
    assert claim is not None
    assert claim.job.pull_request == PullRequestRef(Forge.GITLAB, PROJECT, branch_lane(BRANCH))
    queued = refresh_branch(claim.job, env.forge, env.queue)
    env.queue.ack(claim)
    assert [(j.pull_request.number, j.action, j.head_sha) for j in queued] == [
        (IID, JobAction.REVIEW, HEAD)
    ]
    assert env.drain() == 1 and len(_ours(env)) == 1
    # The branch moved on, or nothing matches: nothing is queued.
    stale = Job(
        "push-2",
        claim.job.pull_request,
        JobAction.REVIEW,
        "push",
        "f" * 40,
        body=json.dumps({**push, "after": "f" * 40}).encode(),
    )
    assert refresh_branch(stale, env.forge, env.queue) == []
