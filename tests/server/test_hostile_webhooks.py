"""Hostile deliveries, generated: every one gets a documented answer, never a 5xx, and the server
keeps serving. Cases about the body are correctly signed, so they reach the parser and router.

Documented answers: 200 {"ignored"} for a delivery that asks for no work (incl. payloads lacking
what routing needs), 202 for accepted jobs, 400 malformed JSON / headers / form, 401 signature,
413 too large, 415 content type.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from bot.model.job import JobAction
from bot.server.web import create_app
from tests.server.fakes import FakeQueue
from tests.server.helpers import EXAMPLES, SECRET, headers, server_settings, sign

CAP = 1024 * 1024
DEEP = b"[" * 100_000 + b"]" * 100_000
_DEEP_MARK = "__deep__"
WRONG: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    2**80,
    "",
    "x" * 100_000,
    "../..",
    "a/b/c",
    "\u0000\ud800",
    [],
    {},
    [[[{"a": [None]}]]],
    _DEEP_MARK,
]


def _routable(event: str, index: int) -> dict[str, Any]:
    payload = copy.deepcopy(EXAMPLES[event][index])
    if event == "check_run":
        payload["check_run"]["pull_requests"] = [{"number": 5}]
    if event == "issue_comment":
        payload["issue"]["pull_request"] = {"url": "https://api.github.com/repos/o/r/pulls/1"}
        payload["comment"]["body"] = "/gitops-bot review"
    return payload


# event -> (example index, paths routing needs (any wrong value: 200 ignored),
#           paths it can do without (202 or 200, never a malformed job))
EVENTS: dict[str, tuple[int, list[tuple[Any, ...]], list[tuple[Any, ...]]]] = {
    "pull_request": (
        12,
        [
            ("action",),
            ("pull_request",),
            ("pull_request", "head"),
            ("pull_request", "head", "sha"),
            ("repository",),
            ("repository", "full_name"),
        ],
        [("number",), ("pull_request", "number"), ("installation",), ("installation", "id")],
    ),
    "pull_request_review": (
        2,
        [
            ("action",),
            ("pull_request",),
            ("pull_request", "number"),
            ("pull_request", "head", "sha"),
            ("repository", "full_name"),
        ],
        [("review",), ("review", "state"), ("installation", "id")],
    ),
    "check_suite": (
        7,
        [
            ("action",),
            ("check_suite",),
            ("check_suite", "head_sha"),
            ("check_suite", "pull_requests"),
            ("check_suite", "pull_requests", 0, "number"),
            ("repository", "full_name"),
        ],
        [("check_suite", "pull_requests", 0, "head")],
    ),
    "check_run": (
        7,
        [
            ("action",),
            ("check_run",),
            ("check_run", "head_sha"),
            ("check_run", "pull_requests"),
            ("repository", "full_name"),
        ],
        [("check_run", "name")],
    ),
    "issue_comment": (
        3,
        [
            ("action",),
            ("issue",),
            ("issue", "pull_request"),
            ("issue", "number"),
            ("comment",),
            ("comment", "body"),
            ("comment", "user", "login"),
            ("repository", "full_name"),
        ],
        [("comment", "user", "type"), ("sender",)],
    ),
    "merge_group": (
        0,
        [
            ("action",),
            ("merge_group",),
            ("merge_group", "head_sha"),
            ("merge_group", "base_sha"),
            ("repository", "full_name"),
        ],
        [("merge_group", "head_ref")],
    ),
    "installation": (1, [("action",), ("installation",), ("repositories",)], []),
    "installation_repositories": (0, [("action",), ("repositories_added",)], []),
    "ping": (0, [("zen",), ("hook",)], []),
}


def _set(payload: Any, path: tuple[Any, ...], value: Any) -> None:
    node = payload
    for key in path[:-1]:
        child = node[key] if isinstance(node, list) else node.get(key)
        if not isinstance(child, dict | list):
            child = {}
            node[key] = child
        node = child
    node[path[-1]] = value


def _body(payload: Any) -> bytes:
    return json.dumps(payload).encode().replace(json.dumps(_DEEP_MARK).encode(), DEEP)


def _field_cases() -> list[Any]:
    cases = []
    for event, (index, required, optional) in EVENTS.items():
        for kind, paths in (("required", required), ("optional", optional)):
            for path in paths:
                for i, value in enumerate(WRONG):
                    payload = _routable(event, index)
                    _set(payload, path, value)
                    if value == _DEEP_MARK:
                        expected: tuple[int, ...] = (400,)
                    # issue.pull_request: {} still says "this issue is a pull request"
                    elif kind == "required" and not (path[-1] == "pull_request" and value == {}):
                        expected = (200,)
                    else:
                        expected = (200, 202)
                    name = f"{event}-{'.'.join(map(str, path))}-{i}"
                    cases.append(pytest.param(event, _body(payload), expected, id=name))
    return cases


BAD_JSON = [
    b"",
    b" ",
    b"{",
    b"}",
    b"[",
    b"{]",
    b'{"a":}',
    b'{"a":1,}',
    b"{'a': 1}",
    b"nul",
    b"tru",
    b"NaN",
    b"-Infinity",
    b"1e999999",
    b"[]",
    b"[{}]",
    b'"object"',
    b"42",
    b"true",
    b"null",
    b"\x00",
    b"\xef\xbb\xbf{}",  # UTF-8 BOM
    b"\xff\xfe{\x00}\x00",  # UTF-16
    b'{"a": "\xff"}',  # invalid UTF-8 inside a string
    b'{"a": "\xc3"}',
    b"\xc3\x28",
    b'{"a": "\\ud800"',
    b'{"a": 1} trailing',
    b'{"a": 1}{"b": 2}',
    b'{"a": "unterminated}',
    b'{"a": ' + b"1" * 5000 + b"}",  # beyond Python's int digit limit
    b'{"a": [' + b"1," * 1000 + b"]}",
    b"{" * 100_000,
    b"[" * 100_000,
    DEEP,
    b'{"a": ' + DEEP + b"}",
    b'{"a": {"b": ' * 50_000 + b"1" + b"}}" * 50_000,
    b"\r\n\t",
    b"{\x00}",
    b"<xml/>",
]
UNKNOWN_EVENTS = [
    "star",
    "fork",
    "push",
    "release",
    "workflow_run",
    "deployment",
    "security_advisory",
    "zzz",
    "a" * 64,
    "pull_request_review_comment",
]
BAD_HEADERS = [
    {"X-GitHub-Event": ""},
    {"X-GitHub-Event": "a" * 65},
    {"X-GitHub-Event": "Pull_Request"},
    {"X-GitHub-Event": "pull request"},
    {"X-GitHub-Event": "pull_request\u00e9"},
    {"X-GitHub-Delivery": ""},
    {"X-GitHub-Delivery": "x" * 129},
    {"X-GitHub-Delivery": "id with spaces"},
    {"X-GitHub-Delivery": "../../etc/passwd"},
    {"X-GitHub-Delivery": "\u00e9"},
]


@pytest.fixture(scope="module")
def queue():
    return FakeQueue()


@pytest.fixture(scope="module")
def client(queue):
    return create_app(server_settings(max_body_bytes=CAP), queue).test_client()


def _post(client, event, body, sent=None, content_type="application/json"):
    return client.post(
        "/github/webhook",
        data=body,
        content_type=content_type,
        headers=sent if sent is not None else headers(event, body),
    )


def _assert_answer(response, expected):
    assert response.status_code < 500
    assert response.status_code in expected, response.get_data(as_text=True)[:300]
    assert response.is_json
    if response.status_code == 200:
        assert response.json["ignored"]
    if response.status_code == 202:
        assert response.json["accepted"] + response.json["duplicate"] >= 1


@pytest.mark.parametrize(("event", "body", "expected"), _field_cases())
def test_wrong_field_types(client, event, body, expected):
    _assert_answer(_post(client, event, body), expected)


@pytest.mark.parametrize("body", BAD_JSON, ids=lambda b: repr(b[:20]))
@pytest.mark.parametrize("event", ["pull_request", "issue_comment", "ping"])
def test_bad_json(client, event, body):
    _assert_answer(_post(client, event, body), (400,))


@pytest.mark.parametrize("event", UNKNOWN_EVENTS)
def test_unknown_events_are_ignored(client, event):
    _assert_answer(_post(client, event, json.dumps(EXAMPLES["star"][0]).encode()), (200,))


@pytest.mark.parametrize("bad", BAD_HEADERS, ids=lambda h: repr(h)[:40])
@pytest.mark.parametrize("event", ["pull_request", "ping"])
def test_bad_headers(client, event, bad):
    body = json.dumps(_routable(event, EVENTS[event][0])).encode()
    _assert_answer(_post(client, event, body, {**headers(event, body), **bad}), (400,))


SIGNATURES = {
    "missing": lambda body: None,
    "empty": lambda body: "",
    "wrong-secret": lambda body: sign(body, "guess"),
    "truncated": lambda body: sign(body)[:-1],
    "sha1": lambda body: "sha1=" + sign(body)[7:47],
    "other-body": lambda body: sign(body[:-1]),
    "doubled": lambda body: sign(body) + sign(body),
    "spaces": lambda body: "sha256 = " + sign(body)[7:],
}


@pytest.mark.parametrize("how", sorted(SIGNATURES))
@pytest.mark.parametrize("event", sorted(EVENTS))
def test_bad_signatures(client, event, how):
    body = json.dumps(_routable(event, EVENTS[event][0])).encode()
    sent = headers(event, body, secret=None)
    value = SIGNATURES[how](body)
    if value is not None:
        sent["X-Hub-Signature-256"] = value
    _assert_answer(_post(client, event, body, sent), (401,))


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/octet-stream", "text/json", "application/jsonx", "", "*/*"],
)
def test_content_types(client, content_type):
    body = json.dumps(EXAMPLES["ping"][0]).encode()
    _assert_answer(_post(client, "ping", body, content_type=content_type), (415,))


@pytest.mark.parametrize("size", [CAP + 1, 4 * CAP])
def test_huge_bodies(client, size):
    body = b'{"zen": "' + b"x" * size + b'"}'
    _assert_answer(_post(client, "ping", body), (413,))


@pytest.mark.parametrize(
    ("length", "status"),
    [("-1", 401), ("abc", 401), ("0", 401), ("", 401), (" 5", 401), ("9" * 20, 413)],
)
def test_lying_content_lengths(client, length, status):
    body = json.dumps(EXAMPLES["ping"][0]).encode()
    response = client.post(
        "/github/webhook",
        data=body,
        content_type="application/json",
        headers=headers("ping", body),
        environ_overrides={"CONTENT_LENGTH": length},
    )
    _assert_answer(response, (status,))


def test_a_correct_delivery_still_works_after_all_that(client):
    body = json.dumps(EXAMPLES["pull_request"][12]).encode()
    response = _post(client, "pull_request", body)
    assert (response.status_code, response.json) == (202, {"accepted": 1, "duplicate": 0})


def test_healthz_is_still_200_at_the_end(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_accepted_jobs_were_all_well_formed(queue):
    assert len(queue.records) > 50
    for record in queue.records.values():
        job = record.job
        assert job.pull_request.number != 0
        assert "/" in job.pull_request.repo and ".." not in job.pull_request.repo
        assert job.action is JobAction.CANCEL or len(job.head_sha) in (0, 40, 64)
        assert len(job.delivery_id) <= 140
    assert SECRET not in repr(queue.records)
