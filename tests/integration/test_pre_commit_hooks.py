""".pre-commit-hooks.yaml: each hook run the way pre-commit runs it, on small samples.

pre-commit builds `entry + args + matching filenames` (filenames only with pass_filenames, kept
by `files` and dropped by `exclude`, both regexes searched in the repo-relative path) and runs it
in the repository's root; the hook passes on exit code 0.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
HOOKS = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
# The keys pre-commit's manifest schema knows (pre_commit/clientlib.py MANIFEST_HOOK_DICT).
MANIFEST_KEYS = {
    "id", "name", "entry", "language", "alias", "files", "exclude", "types", "types_or",
    "exclude_types", "additional_dependencies", "args", "always_run", "fail_fast",
    "pass_filenames", "description", "language_version", "log_file", "require_serial",
    "stages", "verbose", "minimum_pre_commit_version",
}  # fmt: skip

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  labels: {{team: a}}\ndata: {{a: b}}\n"
POLICY = """package main

deny contains msg if {
\tinput.kind == "ConfigMap"
\tnot input.metadata.labels.team
\tmsg := "ConfigMap needs a team label"
}
"""
POLICY_TEST = """package main

test_missing_team if {
\tdeny["ConfigMap needs a team label"] with input as {"kind": "ConfigMap", "metadata": {}}
}

test_labelled if {
\tcount(deny) == %s with input as {"kind": "ConfigMap", "metadata": {"labels": {"team": "a"}}}
}
"""


def test_manifest_declares_both_hooks_with_known_keys():
    assert set(HOOKS) == {"gitops-bot-validate", "gitops-bot-policy-test"}
    for hook in HOOKS.values():
        assert {"id", "name", "entry", "language"} <= set(hook) <= MANIFEST_KEYS
        assert hook["language"] == "python"  # installs this package; `entry` is its console script
        assert shlex.split(hook["entry"])[0] == "gitops-bot"


def _sample(root: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return sorted(files)


def run_hook(hook_id: str, root: Path, filenames: list[str]) -> subprocess.CompletedProcess[str]:
    hook = HOOKS[hook_id]
    chosen = [
        name
        for name in filenames
        if re.search(hook.get("files", ""), name)
        and not (hook.get("exclude") and re.search(hook["exclude"], name))
    ]
    argv = [*shlex.split(hook["entry"]), *hook.get("args", [])]
    if hook.get("pass_filenames", True):
        argv += chosen
    argv[0] = str(BIN / argv[0])
    return subprocess.run(argv, cwd=root, capture_output=True, text=True, check=False, timeout=120)


def test_validate_hook_passes_valid_manifests_and_skips_other_yaml(tmp_path):
    names = _sample(
        tmp_path,
        {
            "apps/cm.yaml": CM.format(name="a"),
            "apps/secret.json": '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}',
            ".pre-commit-config.yaml": "repos: []\n",
            ".github/workflows/ci.yml": "on: push\n",
            "README.md": "# not yaml\n",
        },
    )
    proc = run_hook("gitops-bot-validate", tmp_path, names)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 resources: 2 valid, 0 invalid" in proc.stdout
    assert ".pre-commit-config.yaml" not in proc.stdout and "ci.yml" not in proc.stdout


def test_validate_hook_blocks_an_invalid_manifest(tmp_path):
    names = _sample(tmp_path, {"apps/cm.yaml": CM.format(name="a").replace("\ndata:", "\ndta:")})
    proc = run_hook("gitops-bot-validate", tmp_path, names)
    assert proc.returncode == 1
    assert "apps/cm.yaml:6" in proc.stdout and "dta" in proc.stdout


@pytest.mark.parametrize(
    ("expected", "code", "summary"),
    [("0", 0, "2 passed, 0 failed"), ("1", 1, "1 passed, 1 failed")],
    ids=["passing", "failing"],
)
def test_policy_test_hook_runs_the_repositorys_rego_tests(tmp_path, expected, code, summary):
    names = _sample(
        tmp_path,
        {
            "policy/deny.rego": POLICY,
            "policy/deny_test.rego": POLICY_TEST % expected,
            "apps/cm.yaml": CM.format(name="a"),
        },
    )
    proc = run_hook("gitops-bot-policy-test", tmp_path, names)
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert f"2 tests, {summary}" in proc.stdout
