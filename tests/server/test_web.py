"""The web process over Flask's test client: signatures, limits, content types, events."""

import hashlib
import hmac
import io
import json
from dataclasses import replace
from urllib.parse import urlencode

import pytest

from bot.model.errors import UsageError
from bot.model.job import JobAction, JobState
from bot.server.web import create_app
from bot.server.wsgi import build_app
from bot.settings import GitLabSettings
from tests.server.fakes import FakeQueue
from tests.server.helpers import (
    EXAMPLES,
    OLD_SECRET,
    SECRET,
    delivery_id,
    headers,
    post,
    server_settings,
    sign,
)

OPENED = EXAMPLES["pull_request"][12]


@pytest.fixture
def queue():
    return FakeQueue()


@pytest.fixture
def client(queue):
    return create_app(
        server_settings(max_body_bytes=256 * 1024), queue, clock=lambda: 42.0
    ).test_client()


def test_ping_is_answered_and_ignored(client, queue):
    response = post(client, "ping", EXAMPLES["ping"][0])
    assert (response.status_code, response.json) == (200, {"ignored": "pong"})
    assert queue.records == {}


def test_a_pull_request_is_queued_durably_with_its_raw_body(client, queue):
    body = json.dumps(OPENED).encode()
    sent = headers("pull_request", body)
    response = client.post(
        "/github/webhook", data=body, content_type="application/json", headers=sent
    )
    assert (response.status_code, response.json) == (202, {"accepted": 1, "duplicate": 0})
    [record] = queue.records.values()
    job = record.job
    assert (job.delivery_id, job.action, job.head_sha) == (
        sent["X-GitHub-Delivery"],
        JobAction.REVIEW,
        OPENED["pull_request"]["head"]["sha"],
    )
    assert (job.body, job.received_at) == (body, 42.0)
    again = client.post("/github/webhook", data=body, content_type="application/json", headers=sent)
    assert (again.status_code, again.json) == (202, {"accepted": 0, "duplicate": 1})


def test_check_suite_rerequested_and_closed_pull_requests(client, queue):
    assert post(client, "check_suite", EXAMPLES["check_suite"][7]).json == {
        "accepted": 1,
        "duplicate": 0,
    }
    assert post(client, "pull_request", EXAMPLES["pull_request"][3]).status_code == 202
    assert [r.job.action for r in queue.records.values()] == [JobAction.REVIEW, JobAction.CANCEL]


@pytest.mark.parametrize(
    ("signature", "status"),
    [
        (sign, 202),
        (lambda body: sign(body, "wrong"), 401),
        (lambda body: sign(body + b" "), 401),
        (lambda body: sign(body).upper(), 401),
        (lambda body: sign(body)[7:], 401),  # no sha256= prefix
        (lambda body: "sha256=", 401),
        (lambda body: "sha256=é" + sign(body)[8:], 401),  # not ASCII: compare_digest would raise
        (lambda body: None, 401),
    ],
    ids=[
        "valid",
        "wrong-secret",
        "other-body",
        "uppercase",
        "no-prefix",
        "empty",
        "non-ascii",
        "missing",
    ],
)
def test_signature(client, signature, status):
    body = json.dumps(OPENED).encode()
    sent = headers("pull_request", body, secret=None)
    value = signature(body)
    if value is not None:
        sent["X-Hub-Signature-256"] = value
    response = client.post(
        "/github/webhook", data=body, content_type="application/json", headers=sent
    )
    assert response.status_code == status
    if status == 401:
        assert response.json == {"error": "missing or invalid X-Hub-Signature-256"}


def test_a_sha1_signature_alone_is_not_enough(client):
    body = json.dumps(OPENED).encode()
    sent = headers("pull_request", body, secret=None)
    sent["X-Hub-Signature"] = "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    response = client.post(
        "/github/webhook", data=body, content_type="application/json", headers=sent
    )
    assert response.status_code == 401


def test_secret_rotation_accepts_every_configured_secret(queue):
    app = create_app(server_settings(secrets=(SECRET, OLD_SECRET)), queue)
    client = app.test_client()
    assert post(client, "pull_request", OPENED, secret=SECRET).status_code == 202
    assert post(client, "pull_request", OPENED, secret=OLD_SECRET).status_code == 202
    assert post(client, "pull_request", OPENED, secret="retired").status_code == 401


def test_github_without_a_secret_refuses_to_start(queue):
    with pytest.raises(UsageError) as raised:
        create_app(server_settings(secrets=()), queue)
    assert "GITOPS_BOT_GITHUB_WEBHOOK_SECRET" in raised.value.diagnostics()


def test_without_github_settings_the_route_is_not_found(queue):
    client = create_app(replace(server_settings(), github=None), queue).test_client()
    assert post(client, "ping", {}).status_code == 404


def test_body_cap_by_content_length(client):
    body = b'{"zen": "' + b"x" * 300_000 + b'"}'
    response = post(client, "ping", body)
    assert response.status_code == 413
    assert response.json == {"error": "body larger than 262144 bytes"}


def test_body_cap_without_content_length(client):
    body = b'{"zen": "' + b"x" * 300_000 + b'"}'
    response = client.post(
        "/github/webhook",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={**headers("ping", body), "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413


def test_a_small_chunked_body_is_read_whole(client):
    body = json.dumps(EXAMPLES["ping"][0]).encode()
    response = client.post(
        "/github/webhook",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={**headers("ping", body), "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert (response.status_code, response.json) == (200, {"ignored": "pong"})


def test_a_content_length_shorter_than_the_body_cannot_smuggle_more(client):
    body = json.dumps(OPENED).encode()
    response = client.post(
        "/github/webhook",
        data=body,
        content_type="application/json",
        headers=headers("pull_request", body),
        environ_overrides={"CONTENT_LENGTH": "10"},
    )
    assert response.status_code == 401  # only 10 bytes were read; they do not match the HMAC


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/json-seq",
        "",
    ],
)
def test_other_content_types_are_refused_unread(client, content_type):
    response = post(client, "ping", EXAMPLES["ping"][0], content_type=content_type)
    assert response.status_code == 415


def test_json_with_a_charset_is_fine(client):
    response = post(
        client, "ping", EXAMPLES["ping"][0], content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 200


def test_form_encoded_deliveries_are_accepted(client, queue):
    body = urlencode({"payload": json.dumps(OPENED)}).encode()
    response = post(client, "pull_request", body, content_type="application/x-www-form-urlencoded")
    assert (response.status_code, response.json) == (202, {"accepted": 1, "duplicate": 0})
    [record] = queue.records.values()
    assert json.loads(record.job.body) == OPENED  # the JSON document, not the form


@pytest.mark.parametrize(
    "body",
    [b"", b"payload=", b"other=1", b"payload=1&payload=2", b"payload=%ff", b"\xff=1", b"a=1&&"],
)
def test_bad_form_bodies_are_400(client, body):
    response = post(client, "pull_request", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


@pytest.mark.parametrize("missing", ["X-GitHub-Event", "X-GitHub-Delivery"])
def test_required_headers(client, missing):
    body = json.dumps(OPENED).encode()
    sent = headers("pull_request", body)
    del sent[missing]
    response = client.post(
        "/github/webhook", data=body, content_type="application/json", headers=sent
    )
    assert response.status_code == 400
    assert missing in response.json["error"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{", "not valid JSON"),
        (b"[1, 2]", "must be an object"),
        (b'"x"', "must be an object"),
        (b"null", "must be an object"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a": ' + b"9" * 5000 + b"}", "not valid JSON"),
    ],
    ids=["truncated", "array", "string", "null", "utf16-bom", "deep", "huge-int"],
)
def test_bad_json_is_400(client, body, error):
    response = post(client, "pull_request", body)
    assert response.status_code == 400
    assert error in response.json["error"]


def test_a_queue_failure_is_503_and_leaks_nothing(client, queue):
    queue.broken = True
    response = post(client, "pull_request", OPENED)
    assert response.status_code == 503
    assert "hunter2" not in response.get_data(as_text=True)
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200
    assert "gitops_bot_queue_up 0" in client.get("/metrics").get_data(as_text=True)


def test_health_readiness_and_metrics(client, queue):
    post(client, "pull_request", OPENED)
    post(client, "ping", EXAMPLES["ping"][0])
    post(client, "ping", EXAMPLES["ping"][0], secret="wrong")
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["jobs"][JobState.PENDING.value] == 1
    metrics = client.get("/metrics")
    assert metrics.content_type == "text/plain; version=0.0.4; charset=utf-8"
    text = metrics.get_data(as_text=True)
    for line in (
        'gitops_bot_webhook_deliveries_total{forge="github",event="pull_request",outcome="accepted"} 1',
        'gitops_bot_webhook_deliveries_total{forge="github",event="ping",outcome="ignored"} 1',
        'gitops_bot_webhook_deliveries_total{forge="github",event="ping",outcome="bad_signature"} 1',
        'gitops_bot_jobs{state="pending"} 1',
        "gitops_bot_queue_up 1",
        "# TYPE gitops_bot_webhook_deliveries_total counter",
    ):
        assert line in text.splitlines()


def test_unknown_routes_and_methods_answer_json(client):
    assert client.get("/github/webhook").status_code == 405
    missing = client.get("/nope")
    assert (missing.status_code, missing.json) == (404, {"error": "Not Found"})


def test_delivery_ids_are_validated(client):
    body = json.dumps(OPENED).encode()
    sent = {**headers("pull_request", body), "X-GitHub-Delivery": "x" * 500}
    assert (
        client.post(
            "/github/webhook", data=body, content_type="application/json", headers=sent
        ).status_code
        == 400
    )
    sent["X-GitHub-Delivery"] = delivery_id()
    sent["X-GitHub-Event"] = "Pull-Request!"
    assert (
        client.post(
            "/github/webhook", data=body, content_type="application/json", headers=sent
        ).status_code
        == 400
    )


def test_build_app_adds_the_gitlab_webhook_only_when_configured(queue):
    assert (
        build_app(server_settings(), queue).test_client().post("/gitlab/webhook").status_code == 404
    )
    gitlab = GitLabSettings("https://gitlab.example.com", "glpat-x", webhook_token="t0ken")
    client = build_app(replace(server_settings(), gitlab=gitlab), queue).test_client()
    response = client.post("/gitlab/webhook", data=b"{}", content_type="application/json")
    assert response.status_code == 401  # no X-Gitlab-Token
    assert 'forge="gitlab"' in client.get("/metrics").get_data(as_text=True)
