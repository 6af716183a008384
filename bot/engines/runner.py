"""CommandRunner that runs renderers on a materialised tree with no network, env or shell."""

from __future__ import annotations

import contextlib
import functools
import os
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.engines.workspace import Workspace, remove_tree, safe_parts
from bot.ports import Command, CommandFailure, CommandResult, RepoTree

_TOOL_PATH = "/usr/bin:/bin"
_DEAD_PROXY = "http://127.0.0.1:9"  # discard port: connections are refused at once
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")
_STDERR_KEEP = 64 * 1024
_CHUNK = 64 * 1024


class ToolSpec(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def path(self) -> str | None: ...
    @property
    def env_var(self) -> str: ...
    @property
    def prefix_args(self) -> tuple[str, ...]: ...


class ToolSource(Protocol):
    """What the runner needs of bot.settings.Settings (engines may not import settings)."""

    def tools(self) -> Mapping[str, ToolSpec]: ...


@functools.cache
def _unshare_prefix() -> tuple[str, ...] | None:
    """argv prefix that puts a tool in an empty network namespace, if this machine allows it."""
    unshare = shutil.which("unshare", path=_TOOL_PATH)
    if unshare is None:
        return None
    # Plain -n needs CAP_SYS_ADMIN; unprivileged users may still get one via a user namespace.
    for flags in (("-n",), ("--map-current-user", "-n")):
        argv = [unshare, *flags, "--", "true"]
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            probe = subprocess.run(
                argv, env={"PATH": _TOOL_PATH}, capture_output=True, timeout=10, check=False
            )
            if probe.returncode == 0:
                return (unshare, *flags, "--")
    return None


@dataclass(frozen=True, slots=True)
class _Outcome:
    stdout: bytes
    stderr: bytes
    returncode: int
    failure: CommandFailure | None


def _sandbox_env(home: Path) -> dict[str, str]:
    dirs = {
        "TMPDIR": home / "tmp",
        "XDG_CACHE_HOME": home / ".cache",
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_DATA_HOME": home / ".local" / "share",
        "HELM_CACHE_HOME": home / "helm" / "cache",
        "HELM_CONFIG_HOME": home / "helm" / "config",
        "HELM_DATA_HOME": home / "helm" / "data",
        "HELM_PLUGINS": home / "helm" / "plugins",
        "KUSTOMIZE_PLUGIN_HOME": home / "kustomize-plugins",
    }
    for directory in dirs.values():
        directory.mkdir(parents=True, exist_ok=True)
    env = {name: str(directory) for name, directory in dirs.items()}
    env.update(
        PATH=_TOOL_PATH,
        LC_ALL="C",
        HOME=str(home),
        KUBECONFIG=str(home / ".kube" / "config"),  # absent: never a real cluster's credentials
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        NO_PROXY="",
        no_proxy="",
    )
    env.update(dict.fromkeys(_PROXY_VARS, _DEAD_PROXY))
    return env


def _working_dir(root: Path, cwd: str) -> Path:
    if cwd in ("", "."):
        return root
    parts = safe_parts(cwd.rstrip("/"))
    real = Path(os.path.realpath(root.joinpath(*parts))) if parts else None
    if real is None or not (real == root or root in real.parents):
        raise ValueError(f"command cwd {cwd!r} leaves the repository")
    if not real.is_dir():
        raise ValueError(f"command cwd {cwd!r} is not a directory of the tree")
    return real


def _wait_exit(pid: int, deadline: float) -> bool:
    """Wait for exit without reaping, so the pid (our process group id) cannot be reused yet."""
    pause = 0.001
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(pause, remaining))
        pause = min(pause * 2, 0.05)
    return True


def _read_output(proc: subprocess.Popen[bytes], command: Command, deadline: float) -> _Outcome:
    assert proc.stdout is not None and proc.stderr is not None
    stdout, stderr = bytearray(), bytearray()
    sinks = {proc.stdout.fileno(): stdout, proc.stderr.fileno(): stderr}
    total = 0
    with selectors.DefaultSelector() as selector:
        for fd in sinks:
            os.set_blocking(fd, False)
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return _Outcome(bytes(stdout), bytes(stderr), 0, CommandFailure.TIMEOUT)
            for key, _ in selector.select(remaining):
                try:
                    chunk = os.read(key.fd, _CHUNK)
                except BlockingIOError:
                    continue
                if not chunk:
                    selector.unregister(key.fd)
                    continue
                total += len(chunk)
                sink = sinks[key.fd]
                sink += chunk
                if sink is stderr and len(stderr) > _STDERR_KEEP:
                    del stderr[:-_STDERR_KEEP]
                if total > command.max_output_bytes:
                    too_large = CommandFailure.OUTPUT_TOO_LARGE
                    return _Outcome(bytes(stdout), bytes(stderr), 0, too_large)
    # Pipes closed is not exit: a tool may close them and keep running.
    failure = None if _wait_exit(proc.pid, deadline) else CommandFailure.TIMEOUT
    return _Outcome(bytes(stdout), bytes(stderr), 0, failure)


def _execute(argv: list[str], cwd: Path, env: dict[str, str], command: Command) -> _Outcome:
    deadline = time.monotonic() + command.timeout_seconds
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, so killpg reaches its children too
        close_fds=True,
    )
    try:
        outcome = _read_output(proc, command, deadline)
    finally:
        # Also after a clean exit: background children left in the group must not outlive us.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        returncode = proc.wait()
    return _Outcome(outcome.stdout, outcome.stderr, returncode, outcome.failure)


def _is_executable(path: str | None) -> bool:
    return path is not None and Path(path).is_file() and os.access(path, os.X_OK)


class SandboxedRunner:
    """Runs one Command at a time per call; safe to share, each call gets a fresh HOME."""

    def __init__(self, settings: ToolSource, workspace: Workspace) -> None:
        self._settings = settings
        self._workspace = workspace
        self._isolate = _unshare_prefix()
        self.network_isolation = "namespace" if self._isolate is not None else "proxy"

    def run(self, command: Command, tree: RepoTree) -> CommandResult:
        tool = self._settings.tools().get(command.tool)
        if tool is None:
            message = f"no tool named {command.tool!r} is configured"
            return CommandResult(b"", "", None, CommandFailure.TOOL_MISSING, message)
        if tool.path is None or not _is_executable(tool.path):
            message = f"{tool.name} not found: install it or set {tool.env_var} to its path"
            if tool.path is not None:
                message += f" ({tool.path} is not an executable file)"
            return CommandResult(b"", "", None, CommandFailure.TOOL_MISSING, message)
        root = self._workspace.materialize(tree, command.inputs)
        cwd = _working_dir(root, command.cwd)
        # Absolute: the tool starts in the materialised tree, where a relative path means nothing.
        binary = str(Path(tool.path).absolute())
        argv = [*(self._isolate or ()), binary, *tool.prefix_args, *command.args]
        home = self._workspace.new_dir("home-")
        try:
            outcome = _execute(argv, cwd, _sandbox_env(home), command)
        except OSError as exc:
            message = f"{tool.name} at {tool.path} could not be started: {exc.strerror or exc}"
            return CommandResult(b"", "", None, CommandFailure.TOOL_MISSING, message)
        finally:
            remove_tree(home)
        return _result(tool.name, command, outcome, root, home)


def _scrub(text: str, root: Path, home: Path) -> str:
    # Messages should name repo-relative paths, not this job's temp directory.
    text = text.replace(f"{root}/", "").replace(str(root), ".")
    return text.replace(str(home), "$HOME")


def _result(
    name: str, command: Command, outcome: _Outcome, root: Path, home: Path
) -> CommandResult:
    stderr = _scrub(outcome.stderr[-_STDERR_KEEP:].decode("utf-8", "replace"), root, home)
    if outcome.failure is CommandFailure.TIMEOUT:
        message = f"{name} did not finish within {command.timeout_seconds:g} seconds"
        return CommandResult(b"", stderr, None, outcome.failure, message)
    if outcome.failure is CommandFailure.OUTPUT_TOO_LARGE:
        message = f"{name} wrote more than {command.max_output_bytes} bytes of output"
        return CommandResult(b"", stderr, None, outcome.failure, message)
    status = outcome.returncode
    if status == 0:
        return CommandResult(outcome.stdout, stderr, 0)
    reason = f"was killed by signal {-status}" if status < 0 else f"exited with status {status}"
    failure = CommandFailure.EXIT_STATUS
    return CommandResult(outcome.stdout, stderr, status, failure, f"{name} {reason}")
