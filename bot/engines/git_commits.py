"""CommitLog for a local git repository: the raw commit objects of base..head, oldest first."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from bot.engines.git_tree import git_argv, git_env, resolve_revision, run_git
from bot.model.errors import RepositoryError
from bot.ports import CommitObject

# Replace refs (and grafts) would let a repository show us other objects than the SHAs name.
_NO_REPLACE = "--no-replace-objects"
_HASHES = {40: hashlib.sha1, 64: hashlib.sha256}


def parse_headers(raw: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """(headers in order, message) of a raw commit object, as git stores it.

    A header line that starts with a space continues the previous header's value (gpgsig,
    gpgsig-sha256 and mergetag span many lines): the value keeps the lines joined by "\\n"
    with that one leading space removed, exactly as `git cat-file` shows them de-indented.
    """
    head, _, message = raw.partition(b"\n\n")
    headers: list[tuple[bytes, bytes]] = []
    for line in head.split(b"\n"):
        if line.startswith(b" ") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + b"\n" + line[1:])
            continue
        name, _, value = line.partition(b" ")
        headers.append((name, value))
    return headers, message


def split_ident(value: str) -> tuple[str, str, int]:
    """(name, email, unix time) of `Name <email> time tz`, tolerant like git's split_ident_line:
    the email ends at the first ">" after "<", the date follows the last ">"."""
    start = value.find("<")
    if start < 0:
        return value.strip(), "", 0
    end = value.find(">", start + 1)
    if end < 0:
        return value[:start].strip(), value[start + 1 :].strip(), 0
    name, email = value[:start].strip(), value[start + 1 : end].strip()
    fields = value[value.rfind(">") + 1 :].split()
    try:
        when = int(fields[0]) if fields else 0
    except ValueError:
        when = 0
    return name, email, when


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding or "utf-8", "replace")
    except LookupError:  # an encoding header Python does not know
        return data.decode("utf-8", "replace")


def parse_commit(sha: str, raw: bytes) -> CommitObject:
    headers, message = parse_headers(raw)
    values: dict[bytes, list[bytes]] = {}
    for name, value in headers:
        values.setdefault(name, []).append(value)
    encoding = values.get(b"encoding", [b""])[0].decode("ascii", "replace").strip()
    _, author_email, _ = split_ident(_decode(values.get(b"author", [b""])[0], encoding))
    committer = _decode(values.get(b"committer", [b""])[0], encoding)
    committer_name, committer_email, committed_at = split_ident(committer)
    text = _decode(message, encoding)
    return CommitObject(
        sha=sha,
        raw=raw,
        parents=tuple(p.decode("ascii", "replace").strip() for p in values.get(b"parent", [])),
        author_email=author_email,
        committer_name=committer_name,
        committer_email=committer_email,
        committed_at=committed_at,
        summary=text.lstrip("\n").split("\n", 1)[0].strip(),
    )


def _check_object_id(sha: str, raw: bytes) -> None:
    """The bytes must hash to the SHA: verdicts about signatures are only as good as this."""
    hasher = _HASHES.get(len(sha))
    if hasher is None or hasher(b"commit %d\0" % len(raw) + raw).hexdigest() != sha:
        raise RepositoryError(f"commit {sha} does not match its object id")


def _parse_batch(output: bytes, shas: list[str]) -> list[CommitObject]:
    commits: list[CommitObject] = []
    pos = 0
    for sha in shas:
        eol = output.find(b"\n", pos)
        header = output[pos:eol].split() if eol >= 0 else []
        if len(header) != 3 or header[1] != b"commit" or header[0].decode() != sha:
            detail = b" ".join(header).decode("utf-8", "replace") or "no output"
            raise RepositoryError(f"git cat-file could not read commit {sha}: {detail}")
        size = int(header[2])
        raw = output[eol + 1 : eol + 1 + size]
        if len(raw) != size or output[eol + 1 + size : eol + 2 + size] != b"\n":
            raise RepositoryError(f"short read of commit {sha} from git cat-file")
        _check_object_id(sha, raw)
        commits.append(parse_commit(sha, raw))
        pos = eol + 2 + size
    return commits


class GitCommitLog:
    """Reads commits with one `git rev-list` and one `git cat-file --batch` per call."""

    def __init__(self, repo: str | Path) -> None:
        self._repo = Path(repo).resolve()

    @property
    def repo(self) -> Path:
        return self._repo

    def commits(self, base: str, head: str) -> list[CommitObject]:
        base_sha = resolve_revision(self._repo, base).commit
        head_sha = resolve_revision(self._repo, head).commit
        listed = run_git(
            self._repo,
            _NO_REPLACE,
            "rev-list",
            "--reverse",
            "--topo-order",
            base_sha + ".." + head_sha,
        )
        if listed.returncode != 0:
            detail = listed.stderr.decode("utf-8", "replace").strip()
            raise RepositoryError(f"git rev-list {base}..{head} failed in {self._repo}: {detail}")
        shas = listed.stdout.decode("ascii").split()
        if not shas:
            return []
        try:
            # communicate() writes the SHAs while reading objects: no pipe deadlock however many.
            proc = subprocess.run(
                git_argv(self._repo, _NO_REPLACE, "cat-file", "--batch", "--buffer"),
                input="".join(sha + "\n" for sha in shas).encode("ascii"),
                capture_output=True,
                env=git_env(),
                check=False,
            )
        except FileNotFoundError as exc:
            raise RepositoryError("git is not installed", hint="install git and retry") from exc
        if proc.returncode != 0:
            detail = proc.stderr.decode("utf-8", "replace").strip()
            raise RepositoryError(f"git cat-file failed in {self._repo}: {detail}")
        return _parse_batch(proc.stdout, shas)

    def __repr__(self) -> str:
        return f"GitCommitLog({str(self._repo)!r})"
