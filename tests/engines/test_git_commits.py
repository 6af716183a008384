"""GitCommitLog against real repositories built with git."""

from __future__ import annotations

import hashlib
import itertools
import os
import subprocess
from pathlib import Path

import pytest

from bot.core.signatures.payload import split_signature
from bot.engines.git_commits import GitCommitLog, parse_headers, split_ident
from bot.model.errors import RepositoryError

pytestmark = pytest.mark.integration

IDENT = ["-c", "user.name=Test", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]


def git_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null", **extra)
    return env


def git(
    repo: Path, *args: str, env: dict[str, str] | None = None, stdin: bytes | None = None
) -> str:
    argv = ["git", "-C", str(repo), *IDENT, *args]
    proc = subprocess.run(argv, env=env or git_env(), input=stdin, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode("utf-8", "replace").strip()


def commit(repo: Path, message: str, *config: str, env: dict[str, str] | None = None) -> str:
    name = hashlib.sha1(message.encode()).hexdigest()[:12] + ".txt"  # no merge conflicts
    (repo / name).write_text(message + "\n")
    git(repo, "add", name)
    git(repo, *config, "commit", "-q", "-m", message, env=env)
    return git(repo, "rev-parse", "HEAD")


def ssh_signing(tmp_path: Path) -> list[str]:
    key = tmp_path / "key"
    if not key.exists():
        argv = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)]
        subprocess.run(argv, check=True, capture_output=True)
    return ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}"]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    git(tmp_path, "init", "-q", "-b", "main", str(root))
    commit(root, "base")
    return root


def test_linear_history_oldest_first_with_fields(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD")
    env = git_env(
        GIT_AUTHOR_NAME="Ann",
        GIT_AUTHOR_EMAIL="ann@example.com",
        GIT_COMMITTER_NAME="Ci Bot",
        GIT_COMMITTER_EMAIL="ci@example.com",
        GIT_COMMITTER_DATE="1700000000 +0200",
    )
    first = commit(repo, "first change\n\nbody text", env=env)
    second = commit(repo, "second change")
    commits = GitCommitLog(repo).commits("main~2", "main")
    assert [c.sha for c in commits] == [first, second]
    one = commits[0]
    assert one.parents == (base,)
    assert (
        one.raw
        == subprocess.run(
            ["git", "-C", str(repo), "cat-file", "commit", first], capture_output=True, check=True
        ).stdout
    )
    assert one.author_email == "ann@example.com"
    assert (one.committer_name, one.committer_email) == ("Ci Bot", "ci@example.com")
    assert one.committed_at == 1700000000
    assert one.summary == "first change"
    assert commits[1].summary == "second change"


def test_same_base_and_head_is_empty(repo: Path) -> None:
    assert GitCommitLog(repo).commits("main", "main") == []


def test_unknown_ref_raises_with_a_hint(repo: Path) -> None:
    with pytest.raises(RepositoryError) as caught:
        GitCommitLog(repo).commits("main", "no-such-branch")
    assert "no-such-branch" in caught.value.message and caught.value.hint
    with pytest.raises(RepositoryError):
        GitCommitLog(repo).commits("--all", "main")


def test_merges_in_topological_order(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "topic")
    topic = commit(repo, "on topic")
    git(repo, "checkout", "-q", "main")
    main = commit(repo, "on main")
    git(repo, "merge", "-q", "--no-ff", "--no-edit", "topic")
    merge = git(repo, "rev-parse", "HEAD")
    commits = GitCommitLog(repo).commits(base, "main")
    order = [c.sha for c in commits]
    assert set(order) == {topic, main, merge} and order[-1] == merge
    assert commits[-1].parents == (main, topic)


def test_signature_headers_keep_their_continuation_lines(repo: Path, tmp_path: Path) -> None:
    signing = ssh_signing(tmp_path)
    (repo / "log.txt").write_text("signed\n")
    git(repo, "add", "log.txt")
    git(repo, *signing, "commit", "-q", "-S", "-m", "signed")
    [signed] = GitCommitLog(repo).commits("main~1", "main")
    headers, message = parse_headers(signed.raw)
    names = [name for name, _ in headers]
    assert names == [b"tree", b"parent", b"author", b"committer", b"gpgsig"]
    gpgsig = dict(headers)[b"gpgsig"]
    assert gpgsig.startswith(b"-----BEGIN SSH SIGNATURE-----\n")
    assert gpgsig.endswith(b"\n-----END SSH SIGNATURE-----")
    assert b"\n " not in gpgsig  # the one-space continuation indent is removed
    split = split_signature(signed.raw)
    assert split is not None and split[1] == gpgsig + b"\n"
    assert message == b"signed\n" and signed.summary == "signed"


def test_mergetag_of_a_signed_tag(repo: Path, tmp_path: Path) -> None:
    git(repo, "checkout", "-q", "-b", "release")
    commit(repo, "release work")
    git(repo, *ssh_signing(tmp_path), "tag", "-s", "v1", "-m", "version 1")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "--no-edit", "v1")
    merged = GitCommitLog(repo).commits("main~1", "main")[-1]
    headers, _ = parse_headers(merged.raw)
    assert [name for name, _ in headers].count(b"mergetag") == 1
    mergetag = dict(headers)[b"mergetag"]
    assert mergetag.startswith(b"object ") and b"\ntag v1\n" in mergetag
    # The tag's own signature is part of the mergetag value, de-indented once.
    assert b"\n-----BEGIN SSH SIGNATURE-----\n" in mergetag
    assert split_signature(merged.raw) is None  # a signed tag does not sign the merge
    assert merged.summary == "Merge tag 'v1'" and len(merged.parents) == 2


def test_encoding_header_decodes_names_and_message(repo: Path) -> None:
    tree = git(repo, "rev-parse", "HEAD^{tree}")
    parent = git(repo, "rev-parse", "HEAD")
    raw = (
        f"tree {tree}\nparent {parent}\n"
        "author Zoë <zoe@example.com> 1700000000 +0100\n"
        "committer Zoë Müller <zoe@example.com> 1700000300 +0100\n"
        "encoding ISO-8859-1\n\nFusion écrite\nsecond line\n"
    ).encode("latin-1")
    sha = git(repo, "hash-object", "-t", "commit", "-w", "--stdin", stdin=raw)
    git(repo, "update-ref", "refs/heads/main", sha)
    [read] = GitCommitLog(repo).commits("main~1", "main")
    assert read.raw == raw
    assert (read.committer_name, read.committed_at) == ("Zoë Müller", 1700000300)
    assert read.summary == "Fusion écrite"
    assert dict(parse_headers(raw)[0])[b"encoding"] == b"ISO-8859-1"


def test_replace_refs_do_not_change_what_is_read(repo: Path) -> None:
    real = commit(repo, "real")
    git(repo, "checkout", "-q", "-b", "other", "main~1")
    fake = commit(repo, "fake")
    git(repo, "checkout", "-q", "main")
    git(repo, "replace", real, fake)
    [read] = GitCommitLog(repo).commits("main~1", "main")
    assert (read.sha, read.summary) == (real, "real")


def test_sha256_repository(tmp_path: Path) -> None:
    root = tmp_path / "sha256"
    git(tmp_path, "init", "-q", "-b", "main", "--object-format=sha256", str(root))
    commit(root, "base")
    sha = commit(root, "next")
    [read] = GitCommitLog(root).commits("main~1", "main")
    assert read.sha == sha and len(sha) == 64 and read.summary == "next"


def test_three_hundred_commits_with_one_batch(repo: Path) -> None:
    lines = []
    for n in range(300):
        lines += [
            "commit refs/heads/main",
            f"committer Test <t{n}@example.com> {1700000000 + n} +0000",
            f"data {len(f'change {n}')}",
            f"change {n}",
        ]
        if n == 0:
            lines.append("from main^0")
    git(repo, "fast-import", "--quiet", stdin=("\n".join(lines) + "\n").encode())
    commits = GitCommitLog(repo).commits("main~300", "main")
    assert [c.summary for c in commits] == [f"change {n}" for n in range(300)]
    assert [c.committed_at for c in commits][:2] == [1700000000, 1700000001]
    assert all(c.parents == (p.sha,) for p, c in itertools.pairwise(commits))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Ann <ann@example.com> 1700000000 +0200", ("Ann", "ann@example.com", 1700000000)),
        ("<a@x> 5 +0000", ("", "a@x", 5)),
        ("Odd > Name <odd@x> 7 +0000", ("Odd > Name", "odd@x", 7)),
        ("Broken <b@x>> 9 +0000", ("Broken", "b@x", 9)),
        ("No Email", ("No Email", "", 0)),
        ("Bad Date <d@x> soon +0000", ("Bad Date", "d@x", 0)),
    ],
)
def test_split_ident(value: str, expected: tuple[str, str, int]) -> None:
    assert split_ident(value) == expected


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError):
        GitCommitLog(tmp_path).commits("main", "main")
