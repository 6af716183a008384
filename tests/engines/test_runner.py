"""SandboxedRunner with real binaries: kustomize, and stand-ins that hang, flood or phone home."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from bot.engines import runner as runner_module
from bot.engines.local_tree import LocalTree
from bot.engines.runner import SandboxedRunner
from bot.engines.workspace import Workspace
from bot.ports import Command, CommandFailure
from bot.settings import Settings, ToolBinary

pytestmark = pytest.mark.integration

KUBECTL = str(Path(sys.executable).parent / "kubectl")
PYTHON = sys.executable
KUSTOMIZE = ToolBinary("kustomize", KUBECTL, "GITOPS_BOT_KUSTOMIZE", ("kustomize",))


def settings_with(path: str | None, *prefix: str, name: str = "helm") -> Settings:
    """Settings whose "helm" is any binary, so tests can run stand-ins through the runner."""
    return Settings(helm=ToolBinary(name, path, "GITOPS_BOT_HELM", prefix), kustomize=KUSTOMIZE)


@pytest.fixture
def tree(tmp_path: Path) -> LocalTree:
    src = tmp_path / "src"
    (src / "base").mkdir(parents=True)
    (src / "base" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: '1'\n"
    )
    (src / "base" / "kustomization.yaml").write_text("resources:\n  - cm.yaml\n")
    (src / "overlay").mkdir()
    (src / "overlay" / "kustomization.yaml").write_text(
        "namePrefix: prod-\nresources:\n  - ../base\n"
    )
    (src / "broken").mkdir()
    (src / "broken" / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    return LocalTree.open(src)


def test_kustomize_builds_a_materialised_tree(workspace: Workspace, tree: LocalTree) -> None:
    runner = SandboxedRunner(settings_with(None), workspace)
    result = runner.run(Command("kustomize", (".",), cwd="overlay"), tree)
    assert result.ok, result.stderr
    assert result.exit_status == 0
    assert b"kind: ConfigMap" in result.stdout
    assert b"name: prod-settings" in result.stdout


def test_relative_tool_path_is_made_absolute(
    workspace: Workspace, tree: LocalTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(Path(KUBECTL).parent)
    settings = Settings(
        helm=KUSTOMIZE, kustomize=ToolBinary("kustomize", "./kubectl", "X", ("kustomize",))
    )
    result = SandboxedRunner(settings, workspace).run(Command("kustomize", ("base",)), tree)
    assert result.ok, result.stderr


def test_kustomize_errors_name_repo_relative_paths(workspace: Workspace, tree: LocalTree) -> None:
    runner = SandboxedRunner(settings_with(None), workspace)
    result = runner.run(Command("kustomize", ("broken",)), tree)
    assert result.failure is CommandFailure.EXIT_STATUS
    assert result.exit_status not in (0, None)
    assert "missing.yaml" in result.stderr
    assert str(workspace.root) not in result.stderr
    assert "exited with status" in result.message


def test_hanging_tool_is_killed_at_the_deadline(workspace: Workspace, tree: LocalTree) -> None:
    runner = SandboxedRunner(settings_with("/bin/sleep", name="sleep"), workspace)
    started = time.monotonic()
    result = runner.run(Command("helm", ("30",), timeout_seconds=0.5), tree)
    assert time.monotonic() - started < 5
    assert result.failure is CommandFailure.TIMEOUT
    assert "0.5 seconds" in result.message
    assert result.exit_status is None


def test_tool_holding_its_pipes_open_still_times_out(workspace: Workspace, tree: LocalTree) -> None:
    runner = SandboxedRunner(settings_with("/bin/sh", "-c"), workspace)
    started = time.monotonic()
    result = runner.run(Command("helm", ("sleep 30 & exit 0",), timeout_seconds=0.5), tree)
    assert time.monotonic() - started < 5
    assert result.failure is CommandFailure.TIMEOUT


def test_background_children_are_killed_after_exit(workspace: Workspace, tree: LocalTree) -> None:
    runner = SandboxedRunner(settings_with("/bin/sh", "-c"), workspace)
    result = runner.run(Command("helm", ("sleep 30 >/dev/null 2>&1 & echo $!",)), tree)
    assert result.ok
    pid = int(result.stdout)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            break
        if state in ("Z", "X"):  # killed; reaping orphans is init's job
            break
        time.sleep(0.02)
    else:
        pytest.fail(f"background child {pid} is still running")


def test_output_flood_is_cut_off(workspace: Workspace, tree: LocalTree) -> None:
    runner = SandboxedRunner(settings_with("/usr/bin/yes", name="yes"), workspace)
    result = runner.run(Command("helm", (), max_output_bytes=10_000), tree)
    assert result.failure is CommandFailure.OUTPUT_TOO_LARGE
    assert "10000 bytes" in result.message
    assert result.stdout == b""


def test_missing_tool_names_its_env_var(workspace: Workspace, tree: LocalTree) -> None:
    runner = SandboxedRunner(settings_with(None), workspace)
    result = runner.run(Command("helm", ("template", ".")), tree)
    assert result.failure is CommandFailure.TOOL_MISSING
    assert result.message == "helm not found: install it or set GITOPS_BOT_HELM to its path"


def test_non_executable_tool_is_missing(
    workspace: Workspace, tree: LocalTree, tmp_path: Path
) -> None:
    fake = tmp_path / "helm"
    fake.write_text("not a program")
    runner = SandboxedRunner(settings_with(str(fake)), workspace)
    result = runner.run(Command("helm", ()), tree)
    assert result.failure is CommandFailure.TOOL_MISSING
    assert "GITOPS_BOT_HELM" in result.message


def test_unknown_tool_is_missing(workspace: Workspace, tree: LocalTree) -> None:
    result = SandboxedRunner(settings_with(None), workspace).run(Command("jsonnet", ()), tree)
    assert result.failure is CommandFailure.TOOL_MISSING


def test_network_is_unreachable(workspace: Workspace, tree: LocalTree) -> None:
    runner = SandboxedRunner(settings_with(PYTHON, "-c", name="python"), workspace)
    assert runner.network_isolation in ("namespace", "proxy")
    # urllib honours the dead proxy, so this fails whichever isolation this machine allows.
    fetch = "import urllib.request; urllib.request.urlopen('http://example.com', timeout=3)"
    result = runner.run(Command("helm", (fetch,), timeout_seconds=20), tree)
    assert result.failure is CommandFailure.EXIT_STATUS
    if runner.network_isolation == "namespace":
        connect = "import socket; socket.create_connection(('1.1.1.1', 443), timeout=2)"
        result = runner.run(Command("helm", (connect,), timeout_seconds=20), tree)
        assert result.failure is CommandFailure.EXIT_STATUS
        assert "unreachable" in result.stderr.lower()


def test_proxy_fallback_blocks_http_without_a_namespace(
    workspace: Workspace, tree: LocalTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner_module, "_unshare_prefix", lambda: None)
    runner = SandboxedRunner(settings_with(PYTHON, "-c", name="python"), workspace)
    assert runner.network_isolation == "proxy"
    fetch = "import urllib.request; urllib.request.urlopen('https://example.com', timeout=3)"
    started = time.monotonic()
    result = runner.run(Command("helm", (fetch,), timeout_seconds=20), tree)
    assert time.monotonic() - started < 10
    assert result.failure is CommandFailure.EXIT_STATUS
    assert "Connection refused" in result.stderr


def test_environment_is_minimal(
    workspace: Workspace, tree: LocalTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_s3cr3t_value")
    runner = SandboxedRunner(settings_with("/usr/bin/env", name="env"), workspace)
    result = runner.run(Command("helm", ()), tree)
    assert result.ok
    env = dict(line.split("=", 1) for line in result.stdout.decode().splitlines())
    assert "GITHUB_TOKEN" not in env
    assert b"s3cr3t" not in result.stdout
    assert env["PATH"] == "/usr/bin:/bin"
    assert env["HTTPS_PROXY"] == "http://127.0.0.1:9"
    assert env["NO_PROXY"] == ""
    home = Path(env["HOME"])
    assert workspace.root in home.parents
    assert Path(env["HELM_CONFIG_HOME"]).is_relative_to(home)
    assert not home.exists()  # each run's HOME is thrown away


def test_cwd_may_not_leave_the_tree(workspace: Workspace, tree: LocalTree) -> None:
    runner = SandboxedRunner(settings_with(None), workspace)
    for cwd in ("..", "/", "base/../.."):
        with pytest.raises(ValueError, match="leaves the repository"):
            runner.run(Command("kustomize", (".",), cwd=cwd), tree)
