"""A throwaway PostgreSQL server for the tests, on 127.0.0.1 only (DESIGN §7).

PostgreSQL refuses to run as root, so as root the server runs as `postgres` via `runuser`, and
`base_dir` (data, socket, log) is handed to that user; every parent of `base_dir` must let it
through, which is why callers use a fresh directory under /tmp rather than pytest's 0700 tmp
tree. A missing installation is an error, never a skip: CI installs Debian `postgresql`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

_START_TRIES = 3  # a free port can be taken by another test process before the server binds it


def postgres_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/*/bin, else the directory of `initdb` on PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise RuntimeError(
        "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb, no initdb on "
        "PATH): install Debian `postgresql` (apt-get install postgresql); .ci/run does this"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(_as_owner(argv), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stderr or done.stdout}")


def _hand_to_postgres(base_dir: Path) -> None:
    if os.geteuid() != 0:
        return
    user = pwd.getpwnam("postgres")
    for path in [base_dir, *base_dir.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid)
    for parent in base_dir.parents:
        if not os.stat(parent).st_mode & 0o001:
            raise RuntimeError(f"{parent} is not traversable by postgres: use a dir under /tmp")


@contextlib.contextmanager
def running_postgres(base_dir: Path) -> Iterator[str]:
    """Start a server with its data in `base_dir`/data; yield its DSN; stop it (fast) after."""
    bin_dir = postgres_bin_dir()
    base_dir.mkdir(parents=True, exist_ok=True)
    _hand_to_postgres(base_dir)
    data = base_dir / "data"
    _run([str(bin_dir / "initdb"), "-A", "trust", "-U", "postgres", "-D", str(data)], "initdb")
    log = base_dir / "server.log"
    pg_ctl = str(bin_dir / "pg_ctl")
    port = 0
    for attempt in range(_START_TRIES):
        port = _free_port()
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base_dir} -c fsync=off"
        try:
            _run([pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "start"], "pg_ctl")
            break
        except RuntimeError:
            if attempt == _START_TRIES - 1:
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise RuntimeError(f"PostgreSQL did not start; server log:\n{tail}") from None
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        _run([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], "pg_ctl stop")
