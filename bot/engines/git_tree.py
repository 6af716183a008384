"""RepoTree for one commit of a local git repository, read from git's objects, never a checkout."""

from __future__ import annotations

import os
import subprocess
import threading
import weakref
from collections.abc import Callable, Mapping
from contextlib import suppress
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Self

from bot.model.change import Revision
from bot.model.errors import RepositoryError
from bot.ports import EntryMode, TreeEntry

_MODES = {
    b"100644": EntryMode.FILE,
    b"100664": EntryMode.FILE,  # written by very old gits; still a plain file
    b"100755": EntryMode.EXECUTABLE,
    b"120000": EntryMode.SYMLINK,
}
_UNKNOWN_REF_HINT = "fetch it first or check the name (git branch -a)"


def git_env() -> dict[str, str]:
    """The caller's env minus GIT_*: a hook's GIT_DIR or GIT_INDEX_FILE must not redirect us.

    HOME and PATH stay so git finds itself and the user's safe.directory settings.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    return env


def git_argv(repo: Path, *args: str) -> list[str]:
    # core.fsmonitor=false: a repository's own config must not make us run its hook programs.
    return ["git", "-C", str(repo), "-c", "core.quotepath=off", "-c", "core.fsmonitor=false", *args]


def run_git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            git_argv(repo, *args),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=git_env(),
            check=False,
        )
    except FileNotFoundError as exc:
        raise RepositoryError("git is not installed", hint="install git and retry") from exc


def _rev_parse(repo: Path, ref: str) -> str:
    if not ref or ref.startswith("-"):
        # rev-parse would read a leading dash as an option, not a ref.
        raise RepositoryError(f"{ref!r} is not a valid ref for {repo}", hint=_UNKNOWN_REF_HINT)
    proc = run_git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if proc.returncode == 0:
        return proc.stdout.decode("ascii").strip()
    detail = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode == 1 and not detail:
        raise RepositoryError(f"unknown ref {ref!r} in {repo}", hint=_UNKNOWN_REF_HINT)
    # 128 and friends: not a repository, unsafe ownership, corrupt objects...
    raise RepositoryError(
        f"cannot read git repository {repo}: {detail or f'git exited {proc.returncode}'}",
        hint="point the bot at a git checkout you own",
    )


def resolve_revision(repo: str | Path, ref: str) -> Revision:
    return Revision(ref=ref, commit=_rev_parse(Path(repo).resolve(), ref))


def _parse_ls_tree(output: bytes) -> dict[str, TreeEntry]:
    entries: dict[str, TreeEntry] = {}
    for record in output.split(b"\0"):
        if not record:
            continue
        # "<mode> <type> <sha> <padded size>\t<path>"; the path may itself contain tabs.
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, sha, size = meta.split()
        if kind != b"blob":  # submodules ("commit") have no content in this repository
            continue
        path = raw_path.decode("utf-8", "surrogateescape")
        entries[path] = TreeEntry(sha.decode("ascii"), _MODES.get(mode, EntryMode.FILE), int(size))
    return entries


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # Closing stdin lets cat-file exit by itself; kill only if it does not.
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with suppress(OSError):
                stream.close()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class GitTree:
    """One commit. Blobs are streamed through one long-lived `git cat-file --batch`."""

    def __init__(self, repo: Path, commit: str) -> None:
        self._repo = repo
        self._commit = commit
        self._entries: Mapping[str, TreeEntry] | None = None
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._finalizer: Callable[[], object] | None = None
        self._closed = False

    @classmethod
    def open(cls, repo: str | Path, ref: str) -> GitTree:
        path = Path(repo).resolve()
        return cls(path, _rev_parse(path, ref))

    @property
    def tree_id(self) -> str:
        return self._commit

    @property
    def commit(self) -> str:
        return self._commit

    @property
    def repo(self) -> Path:
        return self._repo

    def entries(self) -> Mapping[str, TreeEntry]:
        if self._entries is None:
            proc = run_git(self._repo, "ls-tree", "-r", "-z", "-l", "--full-tree", self._commit)
            if proc.returncode != 0:
                detail = proc.stderr.decode("utf-8", "replace").strip()
                raise RepositoryError(f"cannot list {self._commit} in {self._repo}: {detail}")
            self._entries = MappingProxyType(_parse_ls_tree(proc.stdout))
        return self._entries

    def read(self, path: str) -> bytes:
        entry = self.entries()[path]
        with self._lock:
            proc = self._batch()
            try:
                return self._cat(proc, entry.blob_id, path)
            except (OSError, ValueError, RepositoryError) as exc:
                # The protocol stream is out of step now; a fresh process is the only recovery.
                self._shutdown()
                if isinstance(exc, RepositoryError):
                    raise
                raise RepositoryError(f"git cat-file failed reading {path}: {exc}") from exc

    def _cat(self, proc: subprocess.Popen[bytes], sha: str, path: str) -> bytes:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(sha.encode("ascii") + b"\n")
        proc.stdin.flush()
        header = proc.stdout.readline().split()
        if len(header) != 3:  # "<sha> missing" or EOF
            raise RepositoryError(f"object {sha} for {path} is missing from {self._repo}")
        size = int(header[2])
        data = proc.stdout.read(size)
        if len(data) != size or proc.stdout.read(1) != b"\n":
            raise RepositoryError(f"short read of {path} from git cat-file")
        return data

    def _batch(self) -> subprocess.Popen[bytes]:
        if self._closed:
            raise ValueError("read from a closed GitTree")
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                git_argv(self._repo, "cat-file", "--batch"),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=git_env(),
            )
            # finalize, not __del__: it runs at GC or interpreter exit without resurrecting self.
            self._finalizer = weakref.finalize(self, _stop, self._proc)
        return self._proc

    def _shutdown(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._proc = None
        self._finalizer = None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._shutdown()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GitTree({str(self._repo)!r}, {self._commit[:12]!r})"
