"""The container image's Dockerfile: hadolint-clean, and the promises it makes.

No Docker engine runs the build here, so the tools stage's download script is run by bash on
fake archives instead: it installs what matches the pinned SHA-256 and refuses what does not.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import tarfile
from pathlib import Path

import pytest

from bot.entrypoints.cli import main

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HADOLINT = ROOT / ".venv" / "bin" / "hadolint"
DOCKERFILE = ROOT / "Dockerfile"
# Published checksums of the linux/amd64 archives (see the Dockerfile's header for the sources).
HELM_SHA256 = "ee88b3c851ae6466a3de507f7be73fe94d54cbf2987cbaa3d1a3832ea331f2cd"
KUSTOMIZE_SHA256 = "6703a3a70a0c47cf0b37694030b54f1175a9dfeb17b3818b623ed58b9dbc2a77"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            logical.append(current.strip())
            current = ""
    return [(entry.split(None, 1)[0].upper(), entry.split(None, 1)[1]) for entry in logical]


def stages(text: str) -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions(text):
        if instruction[0] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def test_hadolint_is_clean():
    proc = subprocess.run(
        [str(HADOLINT), "--config", str(ROOT / ".hadolint.yaml"), str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_each_hadolint_ignore_is_needed(tmp_path):
    """Without the config, hadolint reports exactly the rules the config ignores."""
    empty = tmp_path / "hadolint.yaml"
    empty.write_text("ignored: []\n")
    proc = subprocess.run(
        [str(HADOLINT), "--config", str(empty), "--format", "json", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    reported = {issue["code"] for issue in json.loads(proc.stdout)}
    ignored = set(re.findall(r"^  - (DL\d+)$", (ROOT / ".hadolint.yaml").read_text(), re.M))
    assert reported == ignored == {"DL3008"}


def test_final_stage_runs_gitops_bot_as_a_non_root_user():
    final = stages(DOCKERFILE.read_text())[-1]
    users = [args for name, args in final if name == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert int(users[-1].split(":")[0]) >= 1000
    assert ("ENTRYPOINT", '["gitops-bot"]') in final
    assert ("CMD", '["serve", "--host", "0.0.0.0"]') in final
    env = " ".join(args for name, args in final if name == "ENV")
    assert "GITOPS_BOT_HELM=/usr/local/bin/helm" in env
    assert "GITOPS_BOT_KUSTOMIZE=/usr/local/bin/kustomize" in env


def test_base_images_are_pinned_version_tags():
    text = DOCKERFILE.read_text()
    (default,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", default)
    froms = [args.split()[0] for name, args in instructions(text) if name == "FROM"]
    assert froms == ["${PYTHON_IMAGE}"] * 3


def test_tools_are_official_releases_checked_by_sha256():
    text = DOCKERFILE.read_text()
    assert "ARG HELM_VERSION=3.17.3\n" in text and f"ARG HELM_SHA256={HELM_SHA256}\n" in text
    assert "ARG KUSTOMIZE_VERSION=5.5.0\n" in text
    assert f"ARG KUSTOMIZE_SHA256={KUSTOMIZE_SHA256}\n" in text
    assert "https://get.helm.sh/helm-v${HELM_VERSION}-linux-amd64.tar.gz" in text
    assert (
        "https://github.com/kubernetes-sigs/kustomize/releases/download/"
        "kustomize%2Fv${KUSTOMIZE_VERSION}/kustomize_v${KUSTOMIZE_VERSION}_linux_amd64.tar.gz"
    ) in text
    assert text.count("sha256sum --check --strict") == 2


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["serve", "--help"], "--host"),
        (["worker", "--help"], "--once"),
        (["review", "--help"], "--base"),
    ],
    ids=["serve", "worker", "review"],
)
def test_the_entrypoint_serves_each_documented_command(command, expected, capsys):
    with pytest.raises(SystemExit) as exited:
        main(command)
    assert exited.value.code == 0
    assert expected in capsys.readouterr().out


def _archive(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, script in members.items():
            data = script.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _tools_script(tmp_path: Path) -> tuple[str, dict[str, str]]:
    """The tools stage's RUN, fetching from tmp_path and installing into tmp_path/opt."""
    tools_stage = stages(DOCKERFILE.read_text())[0]
    (script,) = [args for name, args in tools_stage if name == "RUN"]
    args = {
        name: value
        for instruction, arg in tools_stage
        if instruction == "ARG"
        for name, _, value in [arg.partition("=")]
    }
    fetch = re.search(r"fetch\(\) \{ .*?; \}", script)
    assert fetch is not None
    script = script.replace(fetch.group(0), f'fetch() {{ cp "{tmp_path}/${{1##*/}}" "$2"; }}')
    return script.replace("/opt/tools", str(tmp_path / "opt")), args


def _run_tools_stage(tmp_path: Path, helm_sha: str | None) -> subprocess.CompletedProcess[str]:
    script, args = _tools_script(tmp_path)
    helm = _archive({"linux-amd64/helm": "#!/bin/sh\necho v3.17.3+fake\n"})
    kustomize = _archive({"kustomize": "#!/bin/sh\necho v5.5.0-fake\n"})
    (tmp_path / "helm-v3.17.3-linux-amd64.tar.gz").write_bytes(helm)
    (tmp_path / "kustomize_v5.5.0_linux_amd64.tar.gz").write_bytes(kustomize)
    env = {
        **args,
        "HELM_SHA256": hashlib.sha256(helm).hexdigest() if helm_sha is None else helm_sha,
        "KUSTOMIZE_SHA256": hashlib.sha256(kustomize).hexdigest(),
        "PATH": "/usr/bin:/bin",
    }
    work = tmp_path / "work"
    work.mkdir()
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_tools_stage_installs_archives_that_match_their_checksums(tmp_path):
    proc = _run_tools_stage(tmp_path, helm_sha=None)
    assert proc.returncode == 0, proc.stderr
    assert "v3.17.3+fake" in proc.stdout and "v5.5.0-fake" in proc.stdout
    assert (tmp_path / "opt" / "helm").is_file() and (tmp_path / "opt" / "kustomize").is_file()


@pytest.mark.parametrize(
    ("helm_sha", "says"), [("0" * 64, "FAILED"), ("", "missing SHA-256")], ids=["wrong", "empty"]
)
def test_tools_stage_refuses_an_archive_without_its_checksum(tmp_path, helm_sha, says):
    proc = _run_tools_stage(tmp_path, helm_sha=helm_sha)
    assert proc.returncode != 0
    assert says in proc.stdout + proc.stderr
    assert not (tmp_path / "opt").exists()  # nothing extracted or installed
