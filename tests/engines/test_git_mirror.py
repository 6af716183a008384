"""GitMirror against real git: a file:// remote for content, a loopback HTTP server for auth."""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

import bot.engines.git_mirror as git_mirror
from bot.engines.git_mirror import GitMirror, fetch_command
from bot.model.errors import RepositoryError
from bot.model.job import Forge, PullRequestRef
from bot.ports import PullRequestInfo

pytestmark = pytest.mark.integration

TOKEN = "ghs_" + "S3cr3tT0ken" * 3
IDENT = ["-c", "user.name=Test", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]


def git(repo: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null")
    proc = subprocess.run(
        ["git", "-C", str(repo), *IDENT, *args], env=env, capture_output=True, check=False
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode().strip()


def commit(repo: Path, path: str, text: str) -> str:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(text)
    git(repo, "add", path)
    git(repo, "commit", "-q", "-m", f"edit {path}")
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    repo = tmp_path / "origin"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "apps/podinfo.yaml", "replicas: 1\n")
    return repo


def _pr(base: str, head: str, number: int = 7, repo: str = "octo/gitops") -> PullRequestInfo:
    return PullRequestInfo(
        ref=PullRequestRef(Forge.GITHUB, repo, number, "12"),
        title="t",
        author="alice",
        state="open",
        draft=False,
        base_ref="main",
        base_sha=base,
        head_ref="feature",
        head_sha=head,
    )


def _mirror(tmp_path: Path, url: str, token: str = "", **options: Any) -> GitMirror:
    return GitMirror(tmp_path / "data", lambda _ref: token, lambda _ref: url, **options)


def test_fetches_base_and_head_into_a_bare_mirror(tmp_path: Path, origin: Path) -> None:
    base = git(origin, "rev-parse", "HEAD")
    git(origin, "checkout", "-q", "-b", "feature")
    middle = commit(origin, "apps/podinfo.yaml", "replicas: 2\n")
    head = commit(origin, "apps/extra.yaml", "kind: ConfigMap\n")
    git(origin, "checkout", "-q", "main")
    git(origin, "branch", "-q", "-D", "feature")  # the SHAs alone must be enough

    mirror = _mirror(tmp_path, f"file://{origin}")
    base_tree, head_tree, log = mirror.fetch(_pr(base, head))

    path = tmp_path / "data" / "mirrors" / "github" / "octo" / "gitops.git"
    assert mirror.mirror_path(_pr(base, head).ref) == path.resolve()
    assert git(path, "rev-parse", "--is-bare-repository") == "true"
    assert base_tree.read("apps/podinfo.yaml") == b"replicas: 1\n"
    assert head_tree.read("apps/podinfo.yaml") == b"replicas: 2\n"
    assert set(head_tree.entries()) == {"apps/podinfo.yaml", "apps/extra.yaml"}
    assert [c.sha for c in log.commits(base, head)] == [middle, head]
    assert git(path, "rev-parse", "refs/gitops-bot/pull/7/head") == head
    base_tree.close()
    head_tree.close()


def test_known_shas_need_no_remote(tmp_path: Path, origin: Path) -> None:
    base = git(origin, "rev-parse", "HEAD")
    head = commit(origin, "a.yaml", "a: 1\n")
    mirror = _mirror(tmp_path, f"file://{origin}")
    mirror.fetch(_pr(base, head))

    gone = _mirror(tmp_path, f"file://{tmp_path}/nowhere")
    _, head_tree, _ = gone.fetch(_pr(base, head, number=8))  # another PR, same commits
    assert head_tree.read("a.yaml") == b"a: 1\n"
    head_tree.close()


def test_a_sha_the_remote_lacks_is_a_clear_error(tmp_path: Path, origin: Path) -> None:
    base = git(origin, "rev-parse", "HEAD")
    mirror = _mirror(tmp_path, f"file://{origin}")

    with pytest.raises(
        RepositoryError, match=f"cannot fetch .*{'f' * 40} of octo/gitops#7: .*not our ref"
    ) as caught:
        mirror.fetch(_pr(base, "f" * 40))
    assert "force-pushed" in caught.value.diagnostics()


@pytest.mark.parametrize(
    ("repo", "base", "url", "message"),
    [
        ("octo/../etc", "a" * 40, "file:///x", "not a repository name"),
        ("octo/gitops", "main", "file:///x", "not a commit SHA"),
        (
            "octo/gitops",
            "a" * 40,
            "https://x-access-token:abc@github.com/o/r.git",
            "carries credentials",
        ),
    ],
    ids=["path-escape", "not-a-sha", "credentials-in-url"],
)
def test_refuses_unsafe_inputs(
    tmp_path: Path, repo: str, base: str, url: str, message: str
) -> None:
    with pytest.raises(RepositoryError, match=message):
        _mirror(tmp_path, url).fetch(_pr(base, "b" * 40, repo=repo))


def test_the_token_is_in_the_environment_never_in_argv(tmp_path: Path) -> None:
    command = fetch_command(
        tmp_path, "https://github.com/octo/gitops.git", ["+" + "a" * 40 + ":refs/x"], TOKEN
    )

    assert not any(TOKEN in arg for arg in command.argv)
    encoded = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    header = f"Authorization: Basic {encoded}"
    assert not any(encoded in arg for arg in command.argv)
    keys = {
        command.env[f"GIT_CONFIG_KEY_{i}"]: command.env[f"GIT_CONFIG_VALUE_{i}"]
        for i in range(int(command.env["GIT_CONFIG_COUNT"]))
    }
    assert keys["http.extraHeader"] == header and keys["credential.helper"] == ""
    assert (
        command.env["GIT_TERMINAL_PROMPT"] == "0"
        and command.env["GIT_ALLOW_PROTOCOL"] == "https:http:file"
    )
    assert TOKEN not in repr(command)
    assert "extraHeader" not in repr(
        fetch_command(tmp_path, "https://x", [], "")
    )  # no token, no header


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.headers.get("Authorization"))
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="fake"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def http_401() -> Iterator[str]:
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/octo/gitops.git"
    server.shutdown()
    server.server_close()


def test_the_token_reaches_the_server_out_of_band(
    tmp_path: Path, http_401: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    argvs: list[list[str]] = []
    real_run = subprocess.run

    def recording_run(argv: list[str], **kwargs: Any) -> Any:
        argvs.append(list(argv))
        return real_run(argv, **kwargs)

    monkeypatch.setattr(subprocess, "run", recording_run)  # every git the mirror runs
    mirror = _mirror(tmp_path, http_401, TOKEN, timeout_seconds=60)

    with pytest.raises(RepositoryError) as caught:
        mirror.fetch(_pr("a" * 40, "b" * 40))

    expected = "Basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert _Recorder.seen and _Recorder.seen[0] == expected
    fetches = [argv for argv in argvs if "fetch" in argv]
    assert len(fetches) == 2  # by SHA, then by the PR's refs
    assert not any(TOKEN in arg or expected.split()[1] in arg for argv in argvs for arg in argv)
    assert TOKEN not in str(caught.value) and expected.split()[1] not in str(caught.value)
    assert "could not read Username" in str(caught.value)  # no prompt, no credential helper


def test_one_fetch_per_mirror_at_a_time(tmp_path: Path, origin: Path) -> None:
    base = git(origin, "rev-parse", "HEAD")
    head = commit(origin, "b.yaml", "b: 1\n")
    mirror = _mirror(tmp_path, f"file://{origin}", lock_timeout_seconds=0.2)
    path = mirror.mirror_path(_pr(base, head).ref)

    lock = path.with_name(path.name + ".lock")
    with (
        git_mirror._locked(lock, 1.0),
        pytest.raises(RepositoryError, match="still locked by another fetch"),
    ):
        mirror.fetch(_pr(base, head))

    results: list[str] = []
    patient = _mirror(tmp_path, f"file://{origin}")
    workers = [
        threading.Thread(target=lambda: results.append(patient.fetch(_pr(base, head))[1].tree_id))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert results == [head] * 4


def test_the_merge_base_is_where_the_head_branched_from(tmp_path: Path, origin: Path) -> None:
    branched = git(origin, "rev-parse", "HEAD")
    git(origin, "checkout", "-q", "-b", "feature")
    head = commit(origin, "apps/podinfo.yaml", "replicas: 2\n")
    git(origin, "checkout", "-q", "main")
    tip = commit(origin, "apps/other.yaml", "replicas: 9\n")  # main moved on
    git(origin, "checkout", "-q", "--orphan", "unrelated")
    unrelated = commit(origin, "x.yaml", "a: 1\n")
    mirror = _mirror(tmp_path, f"file://{origin}")
    pr = _pr(tip, head)
    mirror.fetch(pr)
    assert mirror.merge_base(pr) == branched
    mirror.fetch(_pr(branched, head))
    assert mirror.merge_base(_pr(branched, head)) == branched  # not moved on: the base itself
    mirror.fetch(_pr(tip, unrelated))
    assert mirror.merge_base(_pr(tip, unrelated)) == ""
