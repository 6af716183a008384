"""ForgeClient for GitHub (github.com and GitHub Enterprise Server), on PyGithub.

One PyGithub client per installation, lazy (no object is fetched until a field is read), with
100 items per page. Every write waits for the installation's WriteThrottle; every call may be
retried by RateLimitRetry. PyGithub's own throttle is off: it sleeps with `time.sleep` directly,
which tests cannot replace.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from github import Github, GithubException, RateLimitExceededException, UnknownObjectException
from github.IssueComment import IssueComment
from github.NamedUser import NamedUser
from github.PaginatedList import PaginatedList
from github.PullRequest import PullRequest
from github.Repository import Repository

from bot.engines.github_auth import (
    DEFAULT_API_URL,
    GitHubAuth,
    GitHubError,
    InstallationAuth,
    TokenAuth,
)
from bot.engines.github_checks import check_output, publish_check_run
from bot.engines.github_comments import check_comment, upsert_comment
from bot.engines.github_http import (
    ApiStats,
    RateLimitRetry,
    WriteThrottle,
    make_retry,
)
from bot.model.approval import ForgeFacts, Review
from bot.model.job import Forge, PullRequestRef
from bot.ports import CheckReport, CommentMode, PullRequestInfo

log = logging.getLogger(__name__)

PR_COMMITS_LIMIT = 250  # GET /pulls/{n}/commits never lists more
ROLES = ("none", "read", "triage", "write", "maintain", "admin")
# `user.permissions` flags, strongest first: custom roles report their base role here.
_ROLE_FLAGS = (
    ("admin", "admin"),
    ("maintain", "maintain"),
    ("push", "write"),
    ("triage", "triage"),
    ("pull", "read"),
)
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$")
_TEAM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$")
_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Client:
    github: Github
    throttle: WriteThrottle
    stats: ApiStats

    def write(self, call: Callable[[], T]) -> T:
        self.throttle.wait()
        self.stats.count_write()
        return call()


class GitHubForge:
    """`bot_login`: the account whose comments are the bot's (e.g. "my-app[bot]"); empty means
    any Bot account. A comment by a human that merely contains the marker is never edited."""

    def __init__(
        self,
        auth_provider: GitHubAuth,
        api_url: str = DEFAULT_API_URL,
        *,
        bot_login: str = "",
        write_interval_seconds: float = 1.0,
        retry: RateLimitRetry | None = None,
        sleep: Callable[[float], None] = time.sleep,
        per_page: int = 100,
        timeout_seconds: int = 30,
    ) -> None:
        self._auth = auth_provider
        self._api_url = api_url.rstrip("/")
        self._bot_login = bot_login
        self._write_interval = write_interval_seconds
        self._sleep = sleep
        self._stats = ApiStats()
        # new(): a copy that also counts its retries for stats()
        self._retry = (retry or make_retry(sleep=sleep)).new(on_retry=self._stats.count_retry)
        self._per_page = per_page
        self._timeout = timeout_seconds
        self._clients: dict[str, _Client] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_token(cls, token: str, api_url: str = DEFAULT_API_URL, **options: Any) -> GitHubForge:
        """For the GitHub Action: GITHUB_TOKEN (or a PAT) for every call."""
        return cls(TokenAuth(token), api_url, **options)

    def __repr__(self) -> str:
        return f"GitHubForge(api_url={self._api_url!r}, auth={self._auth!r})"

    def stats(self) -> dict[str, int]:
        """Counters for /metrics: calls, writes, retries, and the rate limit last seen."""
        remaining, reset = -1, 0
        last = self._stats.last_installation
        client = self._clients.get(last) if last is not None else None
        if client is not None:
            remaining = client.github.requester.rate_limiting[0]
            reset = client.github.requester.rate_limiting_resettime
        return {
            "api_calls": self._stats.calls,
            "api_writes": self._stats.writes,
            "api_retries": self._stats.retries,
            "rate_limit_remaining": remaining,
            "rate_limit_reset": reset,
        }

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.github.close()

    # -- reads -----------------------------------------------------------------------------

    def pull_request(self, ref: PullRequestRef) -> PullRequestInfo:
        with self._errors("read the pull request", ref):
            pull = self._repo(ref).get_pull(ref.number)
            return _pull_info(ref, pull, merged=pull.merged)

    def open_pull_requests(self, repo: str, installation: str) -> list[PullRequestInfo]:
        where = PullRequestRef(Forge.GITHUB, repo, 0, installation)
        with self._errors("list open pull requests", where):
            pulls = self._repo(where).get_pulls(state="open")
            # List items lack `merged`; reading it would fetch every PR. Open is not merged.
            return [
                _pull_info(PullRequestRef(Forge.GITHUB, repo, p.number, installation), p, False)
                for p in pulls
            ]

    def approval_facts(self, pr: PullRequestInfo, teams: Sequence[str]) -> ForgeFacts:
        ref = pr.ref
        with self._errors("read reviews, commits and teams", ref):
            pull = self._repo(ref).get_pull(ref.number)  # lazy: no request
            reviews = tuple(
                Review(r.user.login, r.state.lower(), r.commit_id)
                for r in pull.get_reviews()
                if r.user is not None and r.state != "PENDING"
            )
            committers = self._contributors(pull, ref)
            members = {team: self._team_members(ref, team) for team in teams}
            users = sorted({pr.author, *(r.user for r in reviews)} - {""})
            permissions = {user: self._permission(ref, user) for user in users}
        return ForgeFacts(
            author=pr.author,
            reviews=reviews,
            labels=pr.labels,
            title=pr.title,
            target_branch=pr.base_ref,
            committers=committers,
            teams=members,
            permissions=permissions,
        )

    def permission(self, ref: PullRequestRef, user: str) -> str:
        with self._errors(f"read the permission of {user}", ref):
            return self._permission(ref, user)

    def _contributors(self, pull: PullRequest, ref: PullRequestRef) -> frozenset[str]:
        """Authors and committers: a change made in the web UI is committed by `web-flow` and
        authored by the person, who must count as a committer of the PR all the same."""
        logins: set[str] = set()
        count = 0
        for commit in pull.get_commits():
            count += 1
            for user in (_optional_user(commit, "author"), _optional_user(commit, "committer")):
                if user is not None:
                    logins.add(user.login)
        if count >= PR_COMMITS_LIMIT:
            log.warning(
                "%s#%d lists %d commits, GitHub's cap: committers beyond it are unknown",
                ref.repo,
                ref.number,
                count,
            )
        return frozenset(logins)

    def _team_members(self, ref: PullRequestRef, team: str) -> frozenset[str]:
        if not _TEAM.match(team):
            raise GitHubError(f"team {team!r} is not of the form org/team-slug")
        org, slug = team.split("/", 1)
        members: PaginatedList[NamedUser] = PaginatedList(
            NamedUser,
            self._client(ref.installation).github.requester,
            f"/orgs/{org}/teams/{slug}/members",
            None,
        )
        try:
            return frozenset(user.login for user in members)
        except UnknownObjectException:
            # Fail closed: nobody counts as a member of a team the bot cannot see.
            log.warning("team %s is unknown or not visible to the bot (members: read)", team)
            return frozenset()

    def _permission(self, ref: PullRequestRef, user: str) -> str:
        requester = self._client(ref.installation).github.requester
        url = f"/repos/{_repo_name(ref.repo)}/collaborators/{quote(user, safe='')}/permission"
        try:
            _, data = requester.requestJsonAndCheck("GET", url)
        except UnknownObjectException:
            return "none"
        return _role(data if isinstance(data, dict) else {})

    # -- writes ----------------------------------------------------------------------------

    def upsert_comment(self, ref: PullRequestRef, marker: str, body: str, mode: CommentMode) -> str:
        check_comment(marker, body)
        client = self._client(ref.installation)
        with self._errors("publish the comment", ref):
            issue = self._repo(ref).get_issue(ref.number)  # lazy: no request
            return upsert_comment(
                issue, marker, body, mode, is_ours=self._is_ours, write=client.write
            )

    def _is_ours(self, comment: IssueComment) -> bool:
        user = comment.user
        if user is None:
            return False
        if self._bot_login:
            return bool(user.login == self._bot_login)
        return bool(user.type == "Bot")

    def publish_check(self, ref: PullRequestRef, check: CheckReport) -> None:
        if not _SHA.match(check.head_sha):
            raise GitHubError(f"check {check.name!r}: {check.head_sha!r} is not a commit SHA")
        output = check_output(check)
        client = self._client(ref.installation)
        with self._errors(f"publish the check {check.name!r}", ref):
            publish_check_run(self._repo(ref), check, output, self._auth.app_id, client.write)

    # -- plumbing --------------------------------------------------------------------------

    def _client(self, installation: str) -> _Client:
        with self._lock:
            client = self._clients.get(installation)
            if client is None:
                github = Github(
                    auth=InstallationAuth(self._auth, installation, self._stats.count_call),
                    base_url=self._api_url,
                    per_page=self._per_page,
                    retry=self._retry,
                    timeout=self._timeout,
                    user_agent="gitops-bot",
                    seconds_between_requests=None,
                    seconds_between_writes=None,
                    lazy=True,
                )
                throttle = WriteThrottle(self._write_interval, sleep=self._sleep)
                client = self._clients[installation] = _Client(github, throttle, self._stats)
            return client

    def _repo(self, ref: PullRequestRef) -> Repository:
        return self._client(ref.installation).github.get_repo(_repo_name(ref.repo))

    @contextmanager
    def _errors(self, action: str, ref: PullRequestRef) -> Iterator[None]:
        where = f"{ref.repo}#{ref.number}" if ref.number else ref.repo
        try:
            yield
        except GithubException as exc:
            if exc.status == 401:
                self._auth.invalidate(ref.installation)
            message = _message(exc)
            raise GitHubError(
                f"GitHub: cannot {action} ({where}): {exc.status} {message}".rstrip(),
                status=exc.status,
                retryable=_retryable(exc, message),
            ) from exc
        except requests.RequestException as exc:
            # from None: a requests exception holds the request, Authorization header included.
            raise GitHubError(
                f"GitHub: cannot {action} ({where}): {type(exc).__name__}: {exc}",
                retryable=True,
            ) from None


def _pull_info(ref: PullRequestRef, pull: PullRequest, merged: bool) -> PullRequestInfo:
    return PullRequestInfo(
        ref=ref,
        title=pull.title,
        author=pull.user.login if pull.user is not None else "",
        state="merged" if merged else pull.state,
        draft=bool(pull.draft),
        base_ref=pull.base.ref,
        base_sha=pull.base.sha,
        head_ref=pull.head.ref,
        head_sha=pull.head.sha,
        labels=frozenset(label.name for label in pull.labels),
        url=pull.html_url,
    )


def _optional_user(commit: Any, field: str) -> NamedUser | None:
    """A commit's linked GitHub account; None when its email matches no account."""
    user = getattr(commit, field)
    return user if isinstance(user, NamedUser) else None


def _role(data: dict[str, Any]) -> str:
    role = data.get("role_name")
    if role in ROLES:
        return str(role)
    user = data.get("user")
    flags = user.get("permissions") if isinstance(user, dict) else None
    if isinstance(flags, dict):
        for flag, name in _ROLE_FLAGS:
            if flags.get(flag):
                return name
    permission = data.get("permission")
    return str(permission) if permission in ROLES else "none"


def _repo_name(repo: str) -> str:
    if not _REPO.match(repo) or repo.split("/", 1)[1] in (".", ".."):
        raise GitHubError(f"{repo!r} is not a GitHub repository name (owner/name)")
    return repo


def _message(exc: GithubException) -> str:
    data = exc.data
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    return str(exc.message or "")


def _retryable(exc: GithubException, message: str) -> bool:
    if isinstance(exc, RateLimitExceededException) or "rate limit" in message.lower():
        return True
    return exc.status >= 500 or exc.status in (401, 429)
