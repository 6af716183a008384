"""`--help` and the README must not drift apart."""

import subprocess
from pathlib import Path

import pytest

from bot.entrypoints.cli import build_parser, main

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


# Every command a user types, down to subcommands: each must be in the README exactly.
COMMANDS = [
    "review",
    "render",
    "diff",
    "demo",
    "validate",
    "policy check",
    "policy test",
    "policy verify",
    "verify-commits",
    "explain",
    "serve",
    "worker",
    "action",
    "apps",
]


def _subparser(name):
    parser = build_parser()
    for part in name.split():
        action = next(a for a in parser._actions if a.dest in ("command", "policy_command"))
        parser = action.choices[part]
    return parser


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_shows_the_exact_usage(command, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    usage = _subparser(command).format_usage().strip()
    assert usage in README, f"README's usage block for `{command}` is out of date:\n{usage}"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_is_documented(command):
    for action in _subparser(command)._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and flag != "--help":
                assert f"`{flag}" in README, f"{command} {flag} is not in the README"


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as raised:
        main(["review", "--format", "yaml"])
    assert raised.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_unknown_ref_is_a_clear_error(tmp_path, capsys):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert main(["review", "--repo", str(tmp_path), "--base", "no-such-branch"]) == 2
    err = capsys.readouterr().err
    assert "no-such-branch" in err and "git branch -a" in err
