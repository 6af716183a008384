"""POST /gitlab/webhook through the Flask test client: every fixture payload gets 2xx, tokens and
signatures are enforced, hostile bodies get a documented 4xx, approvals are bound on arrival."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from bot.engines.gitlab_approvals import MemoryApprovalBindings, SqliteApprovalBindings
from bot.model.errors import UsageError
from bot.model.job import JobAction
from bot.server.gitlab_auth import sign
from bot.server.gitlab_web import gitlab_blueprint
from bot.server.web import create_app
from bot.settings import GitLabSettings, ServerSettings
from tests.core.test_gitlab_routing import HEADERS  # go-gitlab's payloads and their event header
from tests.server.fakes import FakeQueue

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "gitlab"
TOKEN = "gitlab-webhook-token-1"
SIGNING = "whsec_" + base64.b64encode(b"k" * 32).decode()
NOW = 1_700_000_000.0
MR_HOOK = json.loads((FIXTURES / "docs-examples" / "webhook-merge-request-hook.json").read_text())
HEAD = MR_HOOK["object_attributes"]["last_commit"]["id"]


def settings(**gitlab: str) -> ServerSettings:
    values = {"webhook_token": TOKEN, **gitlab}
    config = GitLabSettings(url="https://gitlab.example.com", token="glpat-x", **values)
    return ServerSettings(
        queue_url="memory:", data_dir="/nonexistent", gitlab=config, max_body_bytes=256 * 1024
    )


def app_for(
    config: ServerSettings, queue: FakeQueue, bindings: Any = None, counts: list[Any] | None = None
) -> Flask:
    app = create_app(config, queue, clock=lambda: NOW)
    count = (lambda event, outcome: counts.append((event, outcome))) if counts is not None else None
    app.register_blueprint(
        gitlab_blueprint(config, queue, bindings=bindings, clock=lambda: NOW, count=count)
    )
    return app


@pytest.fixture
def queue() -> FakeQueue:
    return FakeQueue()


@pytest.fixture
def bindings() -> MemoryApprovalBindings:
    return MemoryApprovalBindings()


@pytest.fixture
def client(queue: FakeQueue, bindings: MemoryApprovalBindings) -> Any:
    return app_for(settings(), queue, bindings).test_client()


def post(
    client: Any, event: str, payload: Any, *, token: str | None = TOKEN, **headers: str
) -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    sent = {
        "X-Gitlab-Event": event,
        **({"X-Gitlab-Token": token} if token is not None else {}),
        **headers,
    }
    content_type = sent.pop("Content-Type", "application/json")
    return client.post("/gitlab/webhook", data=body, content_type=content_type, headers=sent)


def _event(name: str) -> str:
    if name.startswith("docs-examples/"):
        index = json.loads((FIXTURES / "docs-examples" / "INDEX.json").read_text())
        return str(index[name.removeprefix("docs-examples/")]["headers"]["X-Gitlab-Event"])
    return HEADERS[name.removeprefix("webhooks/")]


PAYLOADS = sorted(
    [f"webhooks/{p.name}" for p in (FIXTURES / "webhooks").glob("*.json")]
    + [f"docs-examples/{p.name}" for p in (FIXTURES / "docs-examples").glob("webhook-*.json")]
)
RELEVANT = {
    "webhooks/merge_request.json",
    "webhooks/push.json",
    "webhooks/service_merge_request.json",
    "docs-examples/webhook-merge-request-hook.json",
    "docs-examples/webhook-push-hook.json",
}


@pytest.mark.parametrize("name", PAYLOADS, ids=PAYLOADS)
def test_every_fixture_payload_is_answered_2xx(client: Any, queue: FakeQueue, name: str) -> None:
    key = "k-" + name.replace("/", ".")  # "/" is not allowed in a delivery id
    response = post(
        client, _event(name), (FIXTURES / name).read_bytes(), **{"Idempotency-Key": key}
    )
    if name in RELEVANT:
        assert (response.status_code, response.json) == (202, {"accepted": 1, "duplicate": 0})
        assert [r.job.delivery_id for r in queue.records.values()] == [f"gitlab:{key}"]
    else:
        assert response.status_code == 200 and "ignored" in response.json
        assert queue.records == {}


def test_a_redelivery_with_the_same_idempotency_key_is_a_duplicate(
    client: Any, queue: FakeQueue
) -> None:
    first = post(client, "Merge Request Hook", MR_HOOK, **{"Idempotency-Key": "k-1"})
    again = post(client, "Merge Request Hook", MR_HOOK, **{"Idempotency-Key": "k-1"})
    other = post(client, "Merge Request Hook", MR_HOOK, **{"Idempotency-Key": "k-2"})
    assert [r.json for r in (first, again, other)] == [
        {"accepted": 1, "duplicate": 0},
        {"accepted": 0, "duplicate": 1},
        {"accepted": 1, "duplicate": 0},
    ]


def _approval(user: str = "sjones", action: str = "approval") -> dict[str, Any]:
    payload = copy.deepcopy(MR_HOOK)
    payload["object_attributes"]["action"] = action
    payload["user"]["username"] = user
    return payload


def test_an_approval_is_bound_to_the_head_on_arrival(
    client: Any, queue: FakeQueue, bindings: MemoryApprovalBindings
) -> None:
    assert (
        post(client, "Merge Request Hook", _approval(), **{"Idempotency-Key": "a-1"}).status_code
        == 202
    )
    assert bindings.heads("flightjs/flight-management", 16) == {"sjones": HEAD}
    (record,) = queue.records.values()
    assert (record.job.action, record.job.head_sha, record.job.requested_by) == (
        JobAction.APPROVAL,
        HEAD,
        "",
    )
    post(client, "Merge Request Hook", _approval(action="unapproval"), **{"Idempotency-Key": "a-2"})
    assert bindings.heads("flightjs/flight-management", 16) == {}


def test_bindings_default_to_sqlite_in_the_data_dir(tmp_path: Path, queue: FakeQueue) -> None:
    config = ServerSettings(
        queue_url="memory:",
        data_dir=str(tmp_path),
        gitlab=settings().gitlab,
        max_body_bytes=1024 * 1024,
    )
    client = app_for(config, queue).test_client()
    post(client, "Merge Request Hook", _approval())
    store = SqliteApprovalBindings.in_data_dir(tmp_path)
    assert store.heads("FlightJS/Flight-Management", 16) == {"sjones": HEAD}  # paths ignore case


def test_signed_deliveries_dedupe_on_the_signed_webhook_id(queue: FakeQueue) -> None:
    client = app_for(
        settings(webhook_token="", signing_token=SIGNING), queue, MemoryApprovalBindings()
    ).test_client()
    body = json.dumps(MR_HOOK).encode()
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(NOW)),
        "webhook-signature": sign(SIGNING, "msg_1", int(NOW), body),
    }
    first = post(
        client, "Merge Request Hook", body, token=None, **headers, **{"Idempotency-Key": "one"}
    )
    # A replay inside the window with another (unsigned) Idempotency-Key is still a duplicate.
    replay = post(
        client, "Merge Request Hook", body, token=None, **headers, **{"Idempotency-Key": "two"}
    )
    assert (first.status_code, replay.json) == (202, {"accepted": 0, "duplicate": 1})
    stale = {**headers, "webhook-timestamp": str(int(NOW) - 301)}
    assert post(client, "Merge Request Hook", body, token=None, **stale).status_code == 401


AUTH: dict[str, tuple[dict[str, Any], int, str]] = {
    "wrong token": ({"token": "nope"}, 401, "X-Gitlab-Token does not match"),
    "missing token": ({"token": None}, 401, "missing X-Gitlab-Token"),
    "empty token": ({"token": ""}, 401, "X-Gitlab-Token does not match"),
    "a GitHub signature instead": (
        {"token": None, "X-Hub-Signature-256": "sha256=00"},
        401,
        "missing X-Gitlab-Token",
    ),
}


@pytest.mark.parametrize("case", sorted(AUTH), ids=sorted(AUTH))
def test_wrong_or_missing_tokens_are_refused(client: Any, queue: FakeQueue, case: str) -> None:
    options, status, error = AUTH[case]
    response = post(client, "Merge Request Hook", MR_HOOK, **options)
    assert (response.status_code, response.json) == (status, {"error": error})
    assert TOKEN not in response.get_data(as_text=True) and queue.records == {}


DEEP = b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
HOSTILE: dict[str, tuple[bytes, dict[str, str], int]] = {
    "empty body": (b"", {}, 400),
    "not JSON": (b"{", {}, 400),
    "a JSON list": (b"[]", {}, 400),
    "a JSON string": (b'"x"', {}, 400),
    "invalid UTF-8": (b'{"a": "\xff"}', {}, 400),
    "UTF-16": ("{}".encode("utf-16"), {}, 400),
    "nested too deeply": (DEEP, {}, 400),
    "huge number": (b'{"a": 1' + b"0" * 5000 + b"}", {}, 400),
    "form encoded": (b"payload=%7B%7D", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
    "text/plain": (b"{}", {"Content-Type": "text/plain"}, 415),
    "too large": (b'{"a":"' + b"x" * 300_000 + b'"}', {}, 413),
    "no event header": (b"{}", {"X-Gitlab-Event": ""}, 400),
    "a malformed event header": (b"{}", {"X-Gitlab-Event": "Merge\u00a0Request<Hook>"}, 400),
    "an unknown event": (b"{}", {"X-Gitlab-Event": "Emoji Hook"}, 200),
    "an MR hook without fields": (b'{"object_kind": "merge_request"}', {}, 200),
    "an MR hook with null attributes": (
        b'{"object_kind": "merge_request", "object_attributes": null}',
        {},
        200,
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE), ids=sorted(HOSTILE))
def test_hostile_bodies_get_a_documented_answer(client: Any, queue: FakeQueue, case: str) -> None:
    body, headers, status = HOSTILE[case]
    response = post(client, "Merge Request Hook", body, **headers)  # headers may override the event
    assert response.status_code == status
    assert queue.records == {}
    assert post(client, "Merge Request Hook", MR_HOOK).status_code == 202  # still serving


WRONG: list[Any] = [None, True, 0, -1, 2**80, "", "x" * 100_000, "../..", [], {}, [[{}]]]
REQUIRED = [
    ("object_kind",),
    ("object_attributes",),
    ("object_attributes", "action"),
    ("object_attributes", "iid"),
    ("object_attributes", "last_commit"),
    ("object_attributes", "last_commit", "id"),
    ("project",),
    ("project", "path_with_namespace"),
]


@pytest.mark.parametrize(
    ("path", "value"),
    [(p, v) for p in REQUIRED for v in WRONG],
    ids=[f"{'.'.join(p)}-{i}" for p in REQUIRED for i in range(len(WRONG))],
)
def test_wrong_values_where_routing_needs_them_are_ignored(
    client: Any, queue: FakeQueue, path: tuple[str, ...], value: Any
) -> None:
    payload = copy.deepcopy(MR_HOOK)
    # The project may also come from object_attributes.target: break both.
    for where in [
        path,
        *([("object_attributes", "target", *path[1:])] if path[0] == "project" else []),
    ]:
        node = payload
        for key in where[:-1]:
            node = node[key]
        node[where[-1]] = value
    response = post(client, "Merge Request Hook", payload)
    assert response.status_code == 200 and "ignored" in response.json
    assert queue.records == {}


def test_a_broken_queue_is_a_503_without_secrets(
    queue: FakeQueue, bindings: MemoryApprovalBindings
) -> None:
    counts: list[Any] = []
    client = app_for(settings(), queue, bindings, counts).test_client()
    queue.broken = True
    response = post(client, "Merge Request Hook", MR_HOOK)
    assert response.status_code == 503
    assert "hunter2" not in response.get_data(as_text=True)
    assert counts == [("merge_request", "queue_error")]


def test_gitlab_not_configured_is_a_404(queue: FakeQueue) -> None:
    config = ServerSettings(queue_url="memory:", data_dir="/nonexistent")
    client = app_for(config, queue).test_client()
    assert post(client, "Merge Request Hook", MR_HOOK).status_code == 404


def test_gitlab_without_any_webhook_secret_is_refused_at_start(queue: FakeQueue) -> None:
    with pytest.raises(UsageError, match="neither a webhook token nor a signing token"):
        app_for(settings(webhook_token=""), queue)


def test_deliveries_are_counted_per_event_and_outcome(
    queue: FakeQueue, bindings: MemoryApprovalBindings
) -> None:
    counts: list[Any] = []
    client = app_for(settings(), queue, bindings, counts).test_client()
    post(client, "Merge Request Hook", MR_HOOK, **{"Idempotency-Key": "c-1"})
    post(client, "Merge Request Hook", MR_HOOK, **{"Idempotency-Key": "c-1"})
    post(client, "Pipeline Hook", {"object_kind": "pipeline"})
    post(client, "Weird Hook", {}, token="bad")
    assert counts == [
        ("merge_request", "accepted"),
        ("merge_request", "duplicate"),
        ("other", "ignored"),
        ("other", "bad_signature"),
    ]
