"""GitHub credentials: an installation token per GitHub App installation, or one plain token.

Tokens are secrets: they never appear in a repr, an exception message or a log line. PyGithub
logs whole response bodies at DEBUG (the access-token response included), so the loggers it
writes to get a redacting filter as soon as a credential exists.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import jwt
from github import Auth, GithubException, GithubIntegration
from urllib3.util.retry import Retry

from bot.engines.github_http import make_retry
from bot.model.errors import GitOpsBotError

DEFAULT_API_URL = "https://api.github.com"
# GitHub's installation tokens live one hour; renewing early leaves room for long jobs and for
# clock skew between us and GitHub.
DEFAULT_REFRESH_MARGIN_SECONDS = 300.0

# Token shapes GitHub issues (installation, user, OAuth, refresh, PAT) and JWTs.
_TOKEN_PATTERN = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9_]{16,}|github_pat_[A-Za-z0-9_]{22,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"
)
_REDACTED = "***"
_LOGGERS = ("github.Requester", "github.GithubRetry", "github.GithubIntegration", "urllib3")


class GitHubError(GitOpsBotError):
    """A GitHub API call failed. `retryable`: trying the job again later may succeed."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        hint: str = "",
    ) -> None:
        super().__init__(redact(message), hint=hint)
        self.status = status
        self.retryable = retryable


class SecretRedactor(logging.Filter):
    """Replaces known secrets and anything shaped like a GitHub token in log records."""

    def __init__(self, capacity: int = 1000) -> None:
        super().__init__()
        self._secrets: dict[str, None] = {}  # insertion-ordered: the oldest goes first
        self._capacity = capacity
        self._lock = threading.Lock()

    def register(self, secret: str) -> None:
        """Remember a secret the pattern would miss (GHES tokens of old, arbitrary PATs)."""
        if len(secret) < 8 or _TOKEN_PATTERN.fullmatch(secret):  # short: would eat words
            return
        with self._lock:
            self._secrets[secret] = None
            while len(self._secrets) > self._capacity:
                del self._secrets[next(iter(self._secrets))]

    def redact(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, _REDACTED)
        return _TOKEN_PATTERN.sub(_REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a record whose args do not fit its format
            return True
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


REDACTOR = SecretRedactor()


def redact(text: str) -> str:
    return REDACTOR.redact(text)


def install_log_redaction() -> None:
    """Filters sit on the loggers that write, because a filter on a parent logger does not see
    records propagated from its children."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if REDACTOR not in logger.filters:
            logger.addFilter(REDACTOR)


class GitHubAuth(Protocol):
    """Where API calls get their token. `installation` is the App installation id ("" when the
    credential is not tied to one, e.g. GITHUB_TOKEN in Actions)."""

    @property
    def app_id(self) -> int | None:
        """The GitHub App id, when known: it scopes the check runs the bot may update."""
        ...

    def token(self, installation: str) -> str: ...

    def invalidate(self, installation: str) -> None:
        """Forget a token GitHub rejected (revoked, or the installation was re-created)."""
        ...


class TokenAuth:
    """One fixed token for every call: GITHUB_TOKEN in Actions, or a personal access token."""

    def __init__(self, token: str, app_id: int | None = None) -> None:
        if not token.strip():
            raise GitHubError("the GitHub token is empty", hint="pass GITHUB_TOKEN to the bot")
        self._token = token.strip()
        self._app_id = app_id
        install_log_redaction()
        REDACTOR.register(self._token)

    @property
    def app_id(self) -> int | None:
        return self._app_id

    def token(self, installation: str) -> str:
        return self._token

    def invalidate(self, installation: str) -> None:
        """A fixed token cannot be renewed; the next call fails the same way."""

    def __repr__(self) -> str:
        return "TokenAuth(token=***)"


@dataclass(frozen=True, slots=True)
class InstallationToken:
    token: str = field(repr=False)
    expires_at: float  # Unix seconds


class GitHubAppAuth:
    """GitHub App auth: a JWT signed with the App's private key buys an installation token per
    installation. Tokens are cached and renewed `refresh_margin_seconds` before they expire;
    one lock per installation, so a slow renewal never blocks the other installations."""

    def __init__(
        self,
        app_id: int | str,
        private_key: str,
        api_url: str = DEFAULT_API_URL,
        *,
        refresh_margin_seconds: float = DEFAULT_REFRESH_MARGIN_SECONDS,
        clock: Callable[[], float] = time.time,
        retry: Retry | None = None,
        timeout_seconds: int = 30,
    ) -> None:
        app = str(app_id).strip()
        if not app.isdigit():
            raise GitHubError(
                f"the GitHub App id must be a number, got {app!r}",
                hint="set GITOPS_BOT_GITHUB_APP_ID to the App ID shown on the App's settings page",
            )
        if "PRIVATE KEY" not in private_key:
            raise GitHubError(
                "the GitHub App private key is not a PEM key",
                hint="set GITOPS_BOT_GITHUB_PRIVATE_KEY(_FILE) to the .pem file GitHub generated",
            )
        install_log_redaction()
        self._app_id = int(app)
        self._api_url = api_url.rstrip("/")
        self._margin = refresh_margin_seconds
        self._clock = clock
        self._integration = GithubIntegration(
            auth=Auth.AppAuth(app, private_key),
            base_url=self._api_url,
            retry=retry or make_retry(),
            timeout=timeout_seconds,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        self._cache: dict[str, InstallationToken] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.fetches = 0  # installation tokens bought so far (for /metrics and tests)

    @property
    def app_id(self) -> int | None:
        return self._app_id

    def token(self, installation: str) -> str:
        installation_id = _installation_id(installation)
        with self._lock_for(installation):
            cached = self._cache.get(installation)
            if cached is None or cached.expires_at - self._margin <= self._clock():
                cached = self._fetch(installation_id)
                self._cache[installation] = cached
            return cached.token

    def expires_at(self, installation: str) -> float | None:
        cached = self._cache.get(installation)
        return None if cached is None else cached.expires_at

    def invalidate(self, installation: str) -> None:
        with self._lock_for(installation):
            self._cache.pop(installation, None)

    def _lock_for(self, installation: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(installation, threading.Lock())

    def _fetch(self, installation_id: int) -> InstallationToken:
        try:
            granted = self._integration.get_access_token(installation_id)
        except GithubException as exc:
            raise GitHubError(
                f"GitHub refused an installation token for installation {installation_id}: "
                f"{exc.status} {_message(exc)}",
                status=exc.status,
                retryable=exc.status >= 500 or exc.status in (403, 429),
                hint="check the App id, its private key, and that the App is still installed",
            ) from exc
        except (ValueError, jwt.PyJWTError) as exc:  # PyJWT cannot sign with the key
            raise GitHubError(
                f"cannot sign the GitHub App JWT: {type(exc).__name__}",
                hint="check GITOPS_BOT_GITHUB_PRIVATE_KEY: it must be the App's RSA key (PEM)",
            ) from None
        REDACTOR.register(granted.token)
        with self._locks_guard:
            self.fetches += 1
        return InstallationToken(granted.token, granted.expires_at.timestamp())

    def __repr__(self) -> str:
        return f"GitHubAppAuth(app_id={self._app_id}, api_url={self._api_url!r})"


def _installation_id(installation: str) -> int:
    if not installation.isdigit():
        raise GitHubError(
            f"no GitHub App installation id for this repository (got {installation!r})",
            hint="the webhook delivery names the installation; a job without one cannot act",
        )
    return int(installation)


def _message(exc: GithubException) -> str:
    data = exc.data
    if isinstance(data, dict):
        return str(data.get("message", ""))
    return str(exc.message or "")


class InstallationAuth(Auth.Auth):
    """PyGithub auth that asks the provider for the token on every request, so an expiring
    installation token is renewed without rebuilding the client. `on_call` counts requests."""

    def __init__(
        self, provider: GitHubAuth, installation: str, on_call: Callable[[str], None]
    ) -> None:
        self._provider = provider
        self._installation = installation
        self._on_call = on_call

    @property
    def token_type(self) -> str:
        return "token"

    @property
    def token(self) -> str:
        return self._provider.token(self._installation)

    def authentication(self, headers: dict[str, str]) -> None:
        self._on_call(self._installation)
        super().authentication(headers)

    @property
    def _masked_token(self) -> str:
        return "token ***"

    def __repr__(self) -> str:
        return f"InstallationAuth(installation={self._installation!r})"
