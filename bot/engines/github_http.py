"""How the GitHub adapter talks HTTP: rate-limit aware retries, write throttling, call counting.

GitHub's rules (docs "Rate limits for the REST API"): on 403/429 with `Retry-After`, wait that
long; with `x-ratelimit-remaining: 0`, wait until `x-ratelimit-reset`; a secondary limit without
either header, wait at least a minute. Writes (POST/PATCH/PUT/DELETE) should be at least one
second apart per installation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from github import GithubException
from github.GithubRetry import DEFAULT_SECONDARY_RATE_WAIT, GithubRetry
from urllib3.connectionpool import ConnectionPool
from urllib3.response import BaseHTTPResponse, HTTPResponse
from urllib3.util.retry import Retry

_SAFE_METHODS = frozenset({"GET", "HEAD"})
# 5xx answers to a POST may still have been processed: only reads are retried on them, or a
# retried POST could publish a second comment.
_SERVER_ERRORS = [500, 502, 503, 504]
_RATE_LIMITED = (403, 429)
T = TypeVar("T")


class ApiStats:
    """Counters for /metrics, shared by every client of one forge (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = 0
        self.writes = 0
        self.retries = 0
        self.last_installation: str | None = None

    def count_call(self, installation: str) -> None:
        with self._lock:
            self.calls += 1
            self.last_installation = installation

    def count_write(self) -> None:
        with self._lock:
            self.writes += 1

    def count_retry(self) -> None:
        with self._lock:
            self.retries += 1


class RateLimitRetry(GithubRetry):
    """GithubRetry (which reads 403 bodies for secondary-limit messages) plus GitHub's header
    rules for 403 and 429, an injectable sleep/clock so tests never wait, and a cap on waits:
    a wait beyond `max_rate_limit_wait` fails fast (the job is retried later) instead of
    holding a worker for an hour."""

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        on_retry: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> None:
        self._sleep = sleep
        self._clock = clock
        self._on_retry = on_retry
        self._wait: float | None = None  # set on the Retry that increment() hands back
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> Self:
        kw.setdefault("sleep", self._sleep)
        kw.setdefault("clock", self._clock)
        kw.setdefault("on_retry", self._on_retry)
        return super().new(**kw)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code in _RATE_LIMITED:
            return True  # a rate-limited request was not processed: safe for any method
        return method.upper() in _SAFE_METHODS and status_code in _SERVER_ERRORS

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: HTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Retry:
        if response is None or response.status not in _RATE_LIMITED:
            retry = super().increment(method, url, response, error, _pool, _stacktrace)
        else:
            wait = self._header_wait(response)
            if wait is None and response.status == 403:
                # No header says so: GithubRetry reads the body, and raises for a plain 403.
                retry = super().increment(method, url, response, error, _pool, _stacktrace)
            else:
                wait = self.secondary_rate_wait if wait is None else wait
                if self.max_rate_limit_wait is not None and wait > self.max_rate_limit_wait:
                    raise GithubException(
                        response.status,
                        {"message": f"rate limited for {wait:.0f}s, longer than the bot waits"},
                        dict(response.headers),
                    )
                retry = Retry.increment(self, method, url, response, error, _pool, _stacktrace)
                if isinstance(retry, RateLimitRetry):
                    retry._wait = wait
        if self._on_retry is not None:
            self._on_retry()
        return retry

    def _header_wait(self, response: HTTPResponse) -> float | None:
        retry_after = response.headers.get("Retry-After")
        if retry_after:
            return max(0.0, self.parse_retry_after(retry_after))
        reset = response.headers.get("x-ratelimit-reset", "")
        if response.headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
            # +1: GitHub does not say when within that second the window resets.
            return max(0.0, int(reset) - self._clock()) + 1.0
        return None

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        wait = self._wait
        if wait is None and response is not None and self.respect_retry_after_header:
            wait = self.get_retry_after(response)
        if wait is None:
            wait = self.get_backoff_time()
        if wait > 0:
            self._sleep(wait)


def make_retry(
    *,
    total: int = 5,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    max_rate_limit_wait: float = 300.0,
    secondary_rate_wait: float = DEFAULT_SECONDARY_RATE_WAIT,
    on_retry: Callable[[], None] | None = None,
) -> RateLimitRetry:
    return RateLimitRetry(
        total=total,
        backoff_factor=1.0,
        status_forcelist=list(_SERVER_ERRORS),
        allowed_methods=_SAFE_METHODS,  # read errors (the server may have acted): reads only
        raise_on_status=False,  # exhausted: hand GitHub's answer to PyGithub, which explains it
        respect_retry_after_header=True,
        secondary_rate_wait=secondary_rate_wait,
        max_rate_limit_wait=max_rate_limit_wait,
        sleep=sleep,
        clock=clock,
        on_retry=on_retry,
    )


class WriteThrottle:
    """At most one write per `interval_seconds`. Writers queue on the lock while one sleeps,
    which is the point: GitHub counts concurrent writes against the secondary limit."""

    def __init__(
        self,
        interval_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = interval_seconds
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = float("-inf")

    def wait(self) -> None:
        with self._lock:
            delay = self._next - self._clock()
            if delay > 0:
                self._sleep(delay)
            self._next = self._clock() + self._interval


class Writer(Protocol):
    """Runs one write call after the installation's throttle allows it."""

    def __call__(self, call: Callable[[], T]) -> T: ...
