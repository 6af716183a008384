"""The contract fake itself: it must reject what GitHub's API does not define, or the contract
tests prove nothing. Its answers must have the shapes the spec gives."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from tests.contract.github_fake import VIOLATION_STATUS, FakeGitHub, spec_timings
from tests.contract.github_graphql import parse
from tests.contract.github_spec import ContractViolationError, load_spec

API = "https://api.github.com"
ANNOTATION = {
    "path": "a.yaml",
    "start_line": 1,
    "end_line": 1,
    "annotation_level": "warning",
    "message": "m",
}
REPO = "octo/gitops"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    """No assert_no_violations() here: these tests provoke violations on purpose."""
    github = FakeGitHub()
    github.add_pull_request(REPO, 7)
    with github.mocked():
        yield github


def _call(fake: FakeGitHub, method: str, path: str, **kwargs: object) -> requests.Response:
    headers = {"Authorization": f"token {fake.token}"}
    return requests.request(method, fake.base_url + path, headers=headers, timeout=5, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("GET", "/repos/octo/gitops/pulls/7/reviewz", None, "no such path"),
        ("PUT", "/repos/octo/gitops/pulls/7", None, "the method does not"),
        (
            "POST",
            "/repos/octo/gitops/issues/7/comments",
            {"text": "hi"},
            "'body' is a required property",
        ),
        ("PATCH", "/repos/octo/gitops/issues/comments/1", {"body": 42}, "is not of type 'string'"),
        ("GET", "/repos/octo/gitops/pulls?state=merged", None, "state"),
        ("GET", "/repos/octo/gitops/pulls/7/commits?per_page=lots", None, "per_page"),
    ],
    ids=[
        "wrong-path",
        "wrong-method",
        "missing-field",
        "wrong-type",
        "bad-enum-query",
        "bad-int-query",
    ],
)
def test_requests_outside_the_contract_are_rejected(
    fake: FakeGitHub, method: str, path: str, body: object, expected: str
) -> None:
    response = _call(fake, method, path, json=body)

    assert response.status_code == VIOLATION_STATUS
    (violation,) = fake.violations
    assert expected in violation and path.split("?", maxsplit=1)[0] in violation
    with pytest.raises(AssertionError, match="contract rejects"):
        fake.assert_no_violations()


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (
            {"title": "t", "summary": "s", "annotations": [ANNOTATION] * 51},
            "output/annotations: maxItems: 51 is more than 50",
        ),
        (
            {"title": "t", "summary": "s" * 65_536},
            "output/summary: maxLength: 65536 is more than 65535",
        ),
        ({"title": "t"}, "output: required: 'summary' is a required property"),
    ],
    ids=["51-annotations", "long-summary", "no-summary"],
)
def test_check_run_limits_are_part_of_the_contract(
    fake: FakeGitHub, output: dict[str, object], expected: str
) -> None:
    response = _call(
        fake,
        "POST",
        f"/repos/{REPO}/check-runs",
        json={"name": "n", "head_sha": "a" * 40, "output": output},
    )
    assert response.status_code == VIOLATION_STATUS
    assert fake.violations == [f"POST /repos/{REPO}/check-runs: InvalidRequestBody: {expected}"]


def test_completed_without_conclusion_breaks_the_contract(fake: FakeGitHub) -> None:
    response = _call(fake, "PATCH", f"/repos/{REPO}/check-runs/1", json={"status": "completed"})
    assert response.status_code == VIOLATION_STATUS


def test_valid_requests_pass_and_need_a_token(fake: FakeGitHub) -> None:
    assert _call(fake, "GET", f"/repos/{REPO}/pulls/7").json()["number"] == 7
    anonymous = requests.get(f"{API}/repos/{REPO}/pulls/7", timeout=5)
    assert anonymous.status_code == 401
    assert fake.violations == []


def test_unmodelled_operations_fail_loudly(fake: FakeGitHub) -> None:
    response = _call(fake, "GET", "/repos/octo/gitops/releases")
    assert (
        response.status_code == 501 and "does not model repos/list-releases" in fake.violations[0]
    )


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            {
                "query": "mutation { minimizeComment(input: $input) { minimizedComment { isMinimized } }"
            },
            "expected",
        ),
        ({"query": "query { viewer { login } }"}, "mutations only"),
        (
            {
                "query": "mutation M($input: MinimizeCommentInput!) { minimizeComment(input: $input) { minimizedComment { isMinimized } } }",
                "variables": {"input": {"subjectId": "IC_1", "classifier": "STALE"}},
            },
            "classifier",
        ),
        (
            {
                "query": "mutation M($i: String!) { minimizeComment(input: $i) { minimizedComment { isMinimized } } }",
                "variables": {"i": {}},
            },
            "MinimizeCommentInput!",
        ),
        (
            {
                "query": "mutation M($input: DeleteIssueInput!) { deleteIssue(input: $input) { clientMutationId } }"
            },
            "not modelled",
        ),
        ({"mutation": "x"}, '"query"'),
    ],
    ids=[
        "unbalanced",
        "query",
        "bad-classifier",
        "wrong-variable-type",
        "other-mutation",
        "not-graphql",
    ],
)
def test_graphql_requests_are_checked(
    fake: FakeGitHub, payload: dict[str, object], expected: str
) -> None:
    response = _call(fake, "POST", "/graphql", json=payload)
    assert response.status_code == VIOLATION_STATUS
    assert expected in fake.violations[0]


def test_graphql_parser_reads_what_pygithub_sends() -> None:
    operation = parse(
        "mutation Mutation($input: MinimizeCommentInput!) "
        "{ minimizeComment(input: $input) { minimizedComment { isMinimized } } }"
    )
    assert operation.kind == "mutation" and operation.variables == {
        "input": "MinimizeCommentInput!"
    }
    (field,) = operation.selections
    assert field.name == "minimizeComment" and field.arguments == {"input": ("var", "input")}
    with pytest.raises(ContractViolationError):
        parse("mutation { a(b: $c) { d } } }")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/repos/{REPO}/pulls/7", None),
        ("GET", f"/repos/{REPO}/pulls?state=open", None),
        ("POST", f"/repos/{REPO}/issues/7/comments", {"body": "hello"}),
        ("GET", f"/repos/{REPO}/issues/7/comments", None),
        (
            "POST",
            f"/repos/{REPO}/check-runs",
            {"name": "n", "head_sha": "a" * 40, "status": "in_progress"},
        ),
        ("GET", f"/repos/{REPO}/commits/{'a' * 40}/check-runs", None),
    ],
    ids=["pull", "pulls", "create-comment", "comments", "create-check-run", "check-runs"],
)
def test_answers_have_the_shapes_the_spec_gives(
    fake: FakeGitHub, method: str, path: str, body: Any
) -> None:
    response = _call(fake, method, path, json=body)
    request = RequestsOpenAPIRequest(requests.Request(method, API + path, json=body).prepare())
    try:
        load_spec().api.validate_response(request, RequestsOpenAPIResponse(response))
    except Exception as exc:  # openapi-core wraps the schema errors twice
        errors = [
            e for e in getattr(exc.__cause__, "schema_errors", [exc]) if not _nullable_enum(e)
        ]
        assert errors == [], [getattr(e, "message", e) for e in errors]
    assert fake.violations == []


def _nullable_enum(error: object) -> bool:
    """openapi-schema-validator checks `enum` before `nullable`: a null conclusion (a check run
    still running, as GitHub answers it) fails the spec's own nullable enum."""
    return getattr(error, "validator", "") == "enum" and getattr(error, "instance", "") is None


def test_pages_carry_link_headers(fake: FakeGitHub) -> None:
    for i in range(5):
        fake.add_comment(REPO, 7, f"c{i}", "someone")
    first = _call(fake, "GET", f"/repos/{REPO}/issues/7/comments?per_page=2")
    last = _call(fake, "GET", f"/repos/{REPO}/issues/7/comments?per_page=2&page=3")

    assert [c["body"] for c in first.json()] == ["c0", "c1"] and 'rel="next"' in first.headers[
        "Link"
    ]
    assert "page=3" in first.links["last"]["url"] and [c["body"] for c in last.json()] == ["c4"]
    assert "Link" not in last.headers


def test_the_loopback_server_serves_other_processes() -> None:
    github = FakeGitHub()
    github.add_pull_request(REPO, 7, title="From afar")
    script = textwrap.dedent(
        """
        import json, sys, urllib.request, urllib.error
        base, token = sys.argv[1], sys.argv[2]
        def get(path):
            request = urllib.request.Request(base + path, headers={"Authorization": "token " + token})
            try:
                with urllib.request.urlopen(request) as answer:
                    return answer.status, json.load(answer)
            except urllib.error.HTTPError as error:
                return error.code, None
        print(json.dumps([get("/repos/octo/gitops/pulls/7"), get("/repos/octo/gitops/pullz")]))
        """
    )
    with github.serving():
        run = subprocess.run(
            [sys.executable, "-c", script, github.base_url, github.token],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )

    (ok, body), (bad, _) = json.loads(run.stdout)
    assert (ok, body["title"], body["url"]) == (
        200,
        "From afar",
        f"{github.base_url}/repos/{REPO}/pulls/7",
    )
    assert bad == VIOLATION_STATUS and "no such path" in github.violations[0]


def test_validation_is_fast_enough_for_hundreds_of_requests(fake: FakeGitHub) -> None:
    """Not a timing assert (those live in bench/): records what 300 validations cost."""
    for _ in range(100):
        _call(fake, "GET", f"/repos/{REPO}/pulls/7")
        _call(fake, "GET", f"/repos/{REPO}/issues/7/comments")
        _call(fake, "POST", f"/repos/{REPO}/issues/7/comments", json={"body": "x"})
    timings = spec_timings()
    assert timings["requests"] >= 300 and fake.violations == []
    print(
        f"spec load {timings['load']:.2f}s, validation median {timings['median'] * 1000:.1f} ms, max {timings['max'] * 1000:.1f} ms"
    )
