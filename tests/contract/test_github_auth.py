"""GitHub App auth against the contract fake: installation tokens bought with a signed JWT,
cached, renewed before expiry, and never shown in a repr, an exception or a log line."""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.engines.github_auth import GitHubAppAuth, GitHubError, TokenAuth, redact
from bot.engines.github_forge import GitHubForge
from bot.model.job import Forge, PullRequestRef
from bot.ports import CheckReport, CheckState, CommentMode
from tests.contract.github_fake import APP_BOT, FakeGitHub

REPO = "octo/gitops"
REF = PullRequestRef(Forge.GITHUB, REPO, 7, "12")
MARKER = "<!-- gitops-bot:summary -->"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    github = FakeGitHub()
    with github.mocked():
        yield github
    github.assert_no_violations()


def _auth(fake: FakeGitHub, now: list[float] | None = None) -> GitHubAppAuth:
    if now is None:
        return GitHubAppAuth(fake.app_id, fake.private_key, fake.base_url)
    return GitHubAppAuth(fake.app_id, fake.private_key, fake.base_url, clock=lambda: now[0])


def test_token_is_cached_and_renewed_before_it_expires(fake: FakeGitHub) -> None:
    now = [time.time()]
    auth = _auth(fake, now)

    first = auth.token("12")
    assert auth.token("12") == first and auth.fetches == 1
    expires = auth.expires_at("12")
    assert expires is not None and 3590 < expires - now[0] <= 3601

    now[0] = expires - 301  # more than the 5-minute margin left: keep it
    assert auth.token("12") == first
    now[0] = expires - 299  # inside the margin: renew
    second = auth.token("12")

    assert second != first and auth.fetches == 2
    assert auth.token("13") not in (first, second)  # one token per installation
    assert [r.operation_id for r in fake.requests] == ["apps/create-installation-access-token"] * 3
    assert fake.requests[0].path == "/app/installations/12/access_tokens"


def test_concurrent_callers_share_one_token(fake: FakeGitHub) -> None:
    auth = _auth(fake)
    tokens: list[str] = []
    workers = [threading.Thread(target=lambda: tokens.append(auth.token("12"))) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert len(set(tokens)) == 1 and auth.fetches == 1


def test_app_forge_acts_as_the_app(fake: FakeGitHub) -> None:
    fake.add_pull_request(REPO, 7, head_sha="c" * 40)
    forge = GitHubForge(_auth(fake), fake.base_url, write_interval_seconds=0)

    forge.upsert_comment(REF, MARKER, MARKER, CommentMode.UPDATE)
    forge.publish_check(REF, CheckReport("gitops-bot/review", "c" * 40, CheckState.QUEUED))

    assert fake.comments(REPO, 7)[0]["user"]["login"] == APP_BOT
    (run,) = fake.check_runs(REPO, "c" * 40)
    assert run["app"]["id"] == fake.app_id
    assert fake.calls("checks/list-for-ref")[0].query["app_id"] == str(fake.app_id)
    issued = fake.issued[0]
    assert all(r.headers["Authorization"] == f"token {issued}" for r in fake.requests[1:])


def test_a_revoked_token_is_replaced_on_the_next_call(fake: FakeGitHub) -> None:
    fake.add_pull_request(REPO, 7)
    auth = _auth(fake)
    forge = GitHubForge(auth, fake.base_url, write_interval_seconds=0)
    forge.pull_request(REF)
    del fake.tokens[fake.issued[0]]  # revoked on GitHub's side

    with pytest.raises(GitHubError, match="401 Bad credentials") as caught:
        forge.pull_request(REF)
    assert caught.value.retryable
    assert forge.pull_request(REF).ref == REF and len(fake.issued) == 2


def test_wrong_key_is_refused_with_a_hint(fake: FakeGitHub) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    auth = GitHubAppAuth(fake.app_id, other.decode(), fake.base_url)

    with pytest.raises(
        GitHubError, match="refused an installation token for installation 12: 401"
    ) as caught:
        auth.token("12")
    assert "private key" in caught.value.diagnostics()


@pytest.mark.parametrize(
    ("app_id", "key", "installation", "message"),
    [
        ("my-app", "-----BEGIN PRIVATE KEY-----", "12", "App id must be a number"),
        ("42", "not a key", "12", "not a PEM key"),
        ("42", None, "", "no GitHub App installation id"),
        (
            "42",
            "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n",
            "12",
            "cannot sign",
        ),
    ],
    ids=["app-id", "key", "installation", "unreadable-key"],
)
def test_configuration_mistakes_are_explained(
    fake: FakeGitHub, app_id: str, key: str | None, installation: str, message: str
) -> None:
    with pytest.raises(GitHubError, match=message):
        GitHubAppAuth(app_id, key or fake.private_key, fake.base_url).token(installation)
    assert fake.requests == []


def test_tokens_never_reach_reprs_exceptions_or_logs(
    fake: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    # At DEBUG, PyGithub logs every request and response body, the access token's included.
    # Its "github" logger has its own level (INFO, set on import), so set it explicitly.
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="github")
    fake.add_pull_request(REPO, 7)
    app_auth = _auth(fake)
    app_forge = GitHubForge(app_auth, fake.base_url, write_interval_seconds=0)
    token_forge = GitHubForge.from_token(fake.token, fake.base_url, write_interval_seconds=0)
    app_forge.upsert_comment(REF, MARKER, MARKER, CommentMode.UPDATE)
    token_forge.pull_request(REF)
    errors = []
    for forge in (app_forge, token_forge):
        with pytest.raises(GitHubError) as caught:
            forge.pull_request(PullRequestRef(Forge.GITHUB, REPO, 404, "12"))
        errors.append(caught.value)

    secrets = [fake.token, *fake.issued]
    jwts = [
        r.headers["Authorization"].split()[1]
        for r in fake.calls("apps/create-installation-access-token")
    ]
    shown = [
        caplog.text,
        repr(app_auth),
        repr(app_forge),
        repr(token_forge),
        repr(TokenAuth(fake.token)),
        *(str(e) for e in errors),
        *("".join(traceback.format_exception(e)) for e in errors),
    ]
    assert "access_tokens" in caplog.text and "***" in caplog.text  # the logs were there
    for secret in [*secrets, *jwts]:
        assert not any(secret in text for text in shown)


def test_tokens_of_other_shapes_are_redacted_once_known() -> None:
    legacy = "v1.0123456789abcdef0123456789abcdef01234567"  # GHES installation tokens of old
    assert legacy in redact(f"token {legacy}")  # unknown shape: the pattern cannot know it
    TokenAuth(legacy)
    assert redact(f"token {legacy}") == "token ***"
    assert legacy not in str(GitHubError(f"echoed {legacy}"))
    assert redact("a JWT eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiI0MiJ9.c2lnbmF0dXJlLWJ5dGVz") == "a JWT ***"
