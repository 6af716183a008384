"""RepoMirror: one bare mirror per repository, fetched with the forge token passed out-of-band.

The token travels in git's environment (GIT_CONFIG_COUNT/KEY/VALUE, which git reads as
`-c` options without them showing in argv) as an `http.extraHeader`, never in the URL, argv, a
log line or an exception. Only the two SHAs a review needs are fetched; the refs under
`refs/gitops-bot/` keep them reachable. A file lock per mirror keeps two workers (threads or
processes) from fetching into one mirror at once.
"""

from __future__ import annotations

import base64
import fcntl
import re
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bot.engines.git_commits import GitCommitLog
from bot.engines.git_tree import GitTree, git_argv, git_env, run_git
from bot.model.errors import RepositoryError
from bot.model.job import Forge, PullRequestRef
from bot.ports import PullRequestInfo

_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_PULL_HEAD = {Forge.GITHUB: "refs/pull/{}/head", Forge.GITLAB: "refs/merge-requests/{}/head"}
# Every fetch runs with these, whatever the user's ~/.gitconfig says.
_FETCH_CONFIG = (
    ("credential.helper", ""),  # no helper may store or supply credentials
    ("core.askPass", ""),
    ("http.followRedirects", "false"),  # the Authorization header must not follow a redirect
    ("gc.auto", "0"),  # objects of a tree being read must not be pruned under it
    ("maintenance.auto", "false"),
    ("fetch.recurseSubmodules", "false"),
    ("protocol.version", "2"),  # v2 serves any reachable SHA, not only advertised refs
)


@dataclass(frozen=True, slots=True)
class GitCommand:
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(repr=False)


def auth_header(token: str) -> str:
    """What GitHub (and GitLab) accept for a token over HTTPS: basic auth, any user name."""
    pair = base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")
    return f"Authorization: Basic {pair}"


def fetch_command(
    mirror: Path,
    url: str,
    refspecs: Sequence[str],
    token: str,
    protocols: Sequence[str] = ("https", "http", "file"),
) -> GitCommand:
    config = list(_FETCH_CONFIG)
    if token:
        config.append(("http.extraHeader", auth_header(token)))
    env = {key: value for key, value in git_env().items() if key != "SSH_ASKPASS"}
    env["GIT_CONFIG_COUNT"] = str(len(config))
    for index, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    env["GIT_ALLOW_PROTOCOL"] = ":".join(protocols)  # never ext::, never fd::
    argv = git_argv(
        mirror, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", url, *refspecs
    )
    return GitCommand(tuple(argv), env)


class GitMirror:
    """`token_for` and `clone_url_for` answer per pull request (the installation's token, the
    repository's HTTPS clone URL); the token is asked for only when a fetch is needed."""

    def __init__(
        self,
        data_dir: str | Path,
        token_for: Callable[[PullRequestRef], str],
        clone_url_for: Callable[[PullRequestRef], str],
        *,
        timeout_seconds: float = 600.0,
        lock_timeout_seconds: float = 900.0,
        protocols: Sequence[str] = ("https", "http", "file"),
    ) -> None:
        self._root = Path(data_dir).resolve() / "mirrors"
        self._token_for = token_for
        self._clone_url_for = clone_url_for
        self._timeout = timeout_seconds
        self._lock_timeout = lock_timeout_seconds
        self._protocols = tuple(protocols)

    def mirror_path(self, ref: PullRequestRef) -> Path:
        segments = ref.repo.split("/")
        if not all(_SEGMENT.match(segment) for segment in segments):
            raise RepositoryError(f"{ref.repo!r} is not a repository name the bot can store")
        return self._root.joinpath(ref.forge.value, *segments[:-1], segments[-1] + ".git")

    def fetch(self, pr: PullRequestInfo) -> tuple[GitTree, GitTree, GitCommitLog]:
        for sha in (pr.base_sha, pr.head_sha):
            if not _SHA.match(sha):
                raise RepositoryError(f"{sha!r} is not a commit SHA")
        path = self.mirror_path(pr.ref)
        with _locked(path.with_name(path.name + ".lock"), self._lock_timeout):
            _ensure_bare(path)
            pins = {"base": pr.base_sha, "head": pr.head_sha}
            if any(not _has_commit(path, sha) for sha in pins.values()):
                self._fetch_missing(path, pr, pins)
            for side, sha in pins.items():  # keep both reachable for as long as the PR lives
                _git(path, "update-ref", f"refs/gitops-bot/pull/{pr.ref.number}/{side}", sha)
        return GitTree.open(path, pr.base_sha), GitTree.open(path, pr.head_sha), GitCommitLog(path)

    def merge_base(self, pr: PullRequestInfo) -> str:
        proc = run_git(self.mirror_path(pr.ref), "merge-base", pr.base_sha, pr.head_sha)
        # Exit 1 with no output: unrelated histories; anything else is a broken mirror.
        if proc.returncode == 1 and not proc.stdout.strip():
            return ""
        if proc.returncode != 0:
            detail = proc.stderr.decode("utf-8", "replace").strip()
            raise RepositoryError(f"git merge-base failed: {detail}")
        return proc.stdout.decode().strip()

    def _fetch_missing(self, path: Path, pr: PullRequestInfo, pins: Mapping[str, str]) -> None:
        url = self._clone_url_for(pr.ref)
        parts = urlsplit(url)
        if parts.username or parts.password:
            raise RepositoryError(
                "the clone URL carries credentials; the bot passes the token itself",
                hint="configure a plain https:// clone URL",
            )
        token = self._token_for(pr.ref)
        prefix = f"refs/gitops-bot/pull/{pr.ref.number}"
        wanted = [f"+{sha}:{prefix}/{side}" for side, sha in pins.items()]
        error = self._run_fetch(path, url, wanted, token)
        if error is not None or any(not _has_commit(path, sha) for sha in pins.values()):
            # A server that refuses SHAs it does not advertise still serves the PR's refs.
            named = [f"+{_PULL_HEAD[pr.ref.forge].format(pr.ref.number)}:{prefix}/head-ref"]
            if _valid_branch(path, pr.base_ref):
                named.append(f"+refs/heads/{pr.base_ref}:{prefix}/base-ref")
            fallback = self._run_fetch(path, url, named, token)
            error = error or fallback  # the by-SHA error says more than a missing PR ref
        missing = [sha for sha in pins.values() if not _has_commit(path, sha)]
        if missing:
            raise RepositoryError(
                f"cannot fetch {', '.join(missing)} of {pr.ref.repo}#{pr.ref.number}"
                + (f": {error}" if error else ""),
                hint="the pull request may have been force-pushed; the next event retries",
            )

    def _run_fetch(self, path: Path, url: str, refspecs: list[str], token: str) -> str | None:
        command = fetch_command(path, url, refspecs, token, self._protocols)
        try:
            proc = subprocess.run(
                command.argv,
                env=dict(command.env),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=self._timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return f"git fetch timed out after {self._timeout:.0f}s"
        if proc.returncode == 0:
            return None
        detail = proc.stderr.decode("utf-8", "replace").strip()
        if token:  # git does not print the header; this is for the day it does
            detail = detail.replace(token, "***").replace(auth_header(token), "***")
        return detail or f"git fetch exited {proc.returncode}"

    def __repr__(self) -> str:
        return f"GitMirror({str(self._root)!r})"


def _ensure_bare(path: Path) -> None:
    if (path / "HEAD").is_file():
        return
    path.mkdir(parents=True, exist_ok=True)
    _git(path, "init", "--bare", "--quiet")
    _git(path, "config", "gc.auto", "0")


def _has_commit(path: Path, sha: str) -> bool:
    return run_git(path, "cat-file", "-e", f"{sha}^{{commit}}").returncode == 0


def _valid_branch(path: Path, branch: str) -> bool:
    if not branch or branch.startswith("-"):
        return False
    return run_git(path, "check-ref-format", f"refs/heads/{branch}").returncode == 0


def _git(path: Path, *args: str) -> None:
    proc = run_git(path, *args)
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip()
        raise RepositoryError(f"git {args[0]} failed in {path}: {detail}")


@contextmanager
def _locked(lock_file: Path, timeout_seconds: float) -> Iterator[None]:
    """flock: held per open file, so it also keeps two threads of one process apart."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a+b") as handle:
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RepositoryError(
                        f"{lock_file.name[: -len('.lock')]} is still locked by another fetch "
                        f"after {timeout_seconds:.0f}s",
                        hint="another worker is fetching it; the job is retried",
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
