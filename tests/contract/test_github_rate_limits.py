"""Retries on GitHub's rate limits, over real HTTP (the loopback fake): `responses` bypasses
urllib3 and never calls Retry.sleep(), so only a real server shows what the adapter waits."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from bot.engines.github_auth import GitHubError
from bot.engines.github_forge import GitHubForge
from bot.engines.github_http import WriteThrottle, make_retry
from bot.model.job import Forge, PullRequestRef
from bot.ports import CommentMode
from tests.contract.github_fake import FakeGitHub

REPO = "octo/gitops"
REF = PullRequestRef(Forge.GITHUB, REPO, 7, "")
MARKER = "<!-- gitops-bot:summary -->"
SECONDARY = {
    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeGitHub]:
    github = FakeGitHub()
    with github.serving():
        yield github


@pytest.fixture
def served(server: FakeGitHub) -> Iterator[FakeGitHub]:
    """One server for the module, emptied per test."""
    server.reset()
    server.add_pull_request(REPO, 7)
    yield server
    server.assert_no_violations()


def _forge(
    fake: FakeGitHub, sleeps: list[float], **retry: float | Callable[[], float]
) -> GitHubForge:
    return GitHubForge.from_token(
        fake.token,
        fake.base_url,
        write_interval_seconds=0,
        retry=make_retry(sleep=sleeps.append, **retry),  # type: ignore[arg-type]
    )


def test_secondary_rate_limit_with_retry_after_then_success(served: FakeGitHub) -> None:
    sleeps: list[float] = []
    forge = _forge(served, sleeps)
    served.fail_next("POST", r"/issues/7/comments$", 403, SECONDARY, {"Retry-After": "7"})

    forge.upsert_comment(REF, MARKER, f"{MARKER}\nhello", CommentMode.UPDATE)

    assert sleeps == [7.0]
    assert [r.status for r in served.calls("issues/create-comment")] == [403, 201]
    assert len(served.comments(REPO, 7)) == 1
    assert forge.stats()["api_retries"] == 1


def test_secondary_limit_named_only_in_the_body_waits_a_minute(served: FakeGitHub) -> None:
    sleeps: list[float] = []
    forge = _forge(served, sleeps)
    served.fail_next("PATCH", r"/issues/comments/\d+$", 403, SECONDARY)
    forge.upsert_comment(REF, MARKER, f"{MARKER}\nv1", CommentMode.UPDATE)

    forge.upsert_comment(REF, MARKER, f"{MARKER}\nv2", CommentMode.UPDATE)

    assert sleeps == [60.0]  # GitHub: "wait at least one minute"
    assert served.comments(REPO, 7)[0]["body"] == f"{MARKER}\nv2"


def test_exhausted_quota_waits_until_the_reset(served: FakeGitHub) -> None:
    sleeps: list[float] = []
    forge = _forge(served, sleeps, clock=lambda: 1_000_000.0)
    reset = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000030"}
    served.fail_next("GET", r"/pulls/7$", 429, {"message": "API rate limit exceeded"}, reset)

    assert forge.pull_request(REF).ref == REF

    assert sleeps == [31.0]  # until the reset, plus one second


def test_a_wait_beyond_the_cap_fails_fast_and_may_be_retried_later(served: FakeGitHub) -> None:
    sleeps: list[float] = []
    forge = _forge(served, sleeps, max_rate_limit_wait=120.0)
    served.fail_next("POST", r"/issues/7/comments$", 403, SECONDARY, {"Retry-After": "3600"})

    with pytest.raises(GitHubError, match="403") as caught:
        forge.upsert_comment(REF, MARKER, MARKER, CommentMode.UPDATE)

    assert caught.value.retryable and sleeps == []
    assert served.comments(REPO, 7) == []


def test_a_plain_403_is_not_retried(served: FakeGitHub) -> None:
    sleeps: list[float] = []
    forge = _forge(served, sleeps)
    served.fail_next(
        "POST", r"/issues/7/comments$", 403, {"message": "Resource not accessible by integration"}
    )

    with pytest.raises(GitHubError, match="Resource not accessible by integration") as caught:
        forge.upsert_comment(REF, MARKER, MARKER, CommentMode.UPDATE)

    assert not caught.value.retryable and caught.value.status == 403
    assert len(served.calls("issues/create-comment")) == 1 and sleeps == []


def test_server_errors_retry_reads_but_never_posts(served: FakeGitHub) -> None:
    sleeps: list[float] = []
    forge = _forge(served, sleeps)
    served.fail_next("GET", r"/pulls/7$", 502, {"message": "Server Error"})
    served.fail_next("POST", r"/issues/7/comments$", 502, {"message": "Server Error"})

    assert forge.pull_request(REF).ref == REF
    with pytest.raises(GitHubError, match="502") as caught:
        forge.upsert_comment(REF, MARKER, MARKER, CommentMode.UPDATE)

    assert caught.value.retryable
    assert [r.status for r in served.calls("pulls/get")] == [502, 200]
    assert len(served.calls("issues/create-comment")) == 1  # a 502 may hide a created comment


def test_write_throttle_waits_between_writes_only() -> None:
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    throttle = WriteThrottle(1.0, clock=lambda: now[0], sleep=sleep)
    throttle.wait()
    now[0] += 0.25
    throttle.wait()
    now[0] += 5.0
    throttle.wait()

    assert sleeps == [0.75]
