"""`gitops-bot action`: what a GitHub Actions job gets from one review JSON.

The PR comment goes through the real GitHubForge against the contract fake (every request
checked against GitHub's OpenAPI description).
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.report.decode import decode_report
from bot.core.report.format.json_report import format_json
from bot.core.report.format.markdown import format_markdown
from bot.entrypoints.action_command import (
    _github_forge,
    comment_target,
    format_output,
    publish,
    select_annotations,
    without_commands,
)
from bot.entrypoints.cli import main
from bot.model.change import ChangeRequest, Revision
from bot.model.errors import UsageError
from bot.model.finding import Finding, Severity
from bot.model.job import Forge, PullRequestRef
from bot.model.report import Report
from bot.model.resource import Location
from tests.contract.github_fake import FakeGitHub

BASE, HEAD = "a" * 40, "b" * 40
REPO = "octo/gitops"


def _finding(i: int, severity: Severity) -> Finding:
    return Finding(f"rule-{i}", severity, f"problem {i}", Location(f"apps/{i}.yaml", i + 1))


def _report(errors: int, warnings: int) -> Report:
    findings = [_finding(i, Severity.ERROR) for i in range(errors)]
    findings += [_finding(100 + i, Severity.WARNING) for i in range(warnings)]
    return Report(
        change=ChangeRequest(Revision("main", BASE), Revision("feature", HEAD)),
        changed_files=(),
        coverage=(),
        diffs=(),
        findings=tuple(findings),
    )


@pytest.mark.parametrize(
    ("errors", "warnings", "shown", "log"),
    [
        (0, 0, (0, 0), ""),
        (10, 10, (10, 10), ""),
        (11, 3, (10, 3), "1 error not annotated"),
        (25, 12, (10, 10), "15 errors and 2 warnings not annotated"),
        (0, 40, (0, 10), "30 warnings not annotated"),
    ],
    ids=["none", "at-limit", "one-over", "both-over", "warnings-only"],
)
def test_annotations_are_capped_per_severity(errors, warnings, shown, log):
    annotations = select_annotations(_report(errors, warnings).findings, limit=10)
    lines = annotations.text.splitlines()
    assert (
        sum(line.startswith("::error ") for line in lines),
        sum(line.startswith("::warning ") for line in lines),
    ) == shown
    assert lines[: shown[0]] == [
        f"::error file=apps/{i}.yaml,line={i + 1},col=1,title=rule-{i}::problem {i}"
        for i in range(shown[0])
    ]
    if log:
        assert annotations.log_line().startswith(f"gitops-bot: {log} (at most 10 of each kind")
        assert "job summary" in annotations.log_line()
    else:
        assert annotations.log_line() == ""


def _read_outputs(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it: `name<<DELIMITER` ... `DELIMITER`."""
    outputs, lines = {}, iter(text.splitlines())
    for line in lines:
        name, delimiter = line.split("<<", 1)
        value = []
        for inner in lines:
            if inner == delimiter:
                break
            value.append(inner)
        outputs[name] = "\n".join(value)
    return outputs


@pytest.mark.parametrize(
    "value",
    ["", "one line", "two\nlines", "ghadelimiter_x\nEOF\n", "a<<b"],
    ids=["empty", "plain", "multi", "tricky", "heredoc-like"],
)
def test_outputs_survive_any_value(value):
    text = format_output("name", value)
    assert re.fullmatch(
        r"name<<ghadelimiter_[0-9a-f]{32}\n.*\nghadelimiter_[0-9a-f]{32}\n", text, re.S
    )
    assert _read_outputs(text) == {"name": value}


def test_untrusted_log_text_cannot_run_workflow_commands():
    wrapped = without_commands("::error::forged\n::add-mask::x\n").splitlines()
    token = wrapped[0].removeprefix("::stop-commands::")
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    assert wrapped[1:] == ["::error::forged", "::add-mask::x", f"::{token}::"]
    assert without_commands("x") != without_commands("x")  # a fresh token each time


def _event(head_repo: str | None, number: object = 7) -> dict[str, object]:
    head = {"repo": {"full_name": head_repo}} if head_repo else {"repo": None}
    return {"pull_request": {"number": number, "base": {"repo": {"full_name": REPO}}, "head": head}}


@pytest.mark.parametrize(
    ("event", "token", "expected"),
    [
        (None, "t", "not a pull_request event"),
        (_event(REPO, number="7"), "t", "the event has no pull request number or repository"),
        (
            _event("fork/gitops"),
            "t",
            "pull request from a fork (fork/gitops): the token is read-only",
        ),
        (
            _event(None),
            "t",
            "pull request from a fork (deleted repository): the token is read-only",
        ),
        (_event(REPO), "", "no token (set the github-token input)"),
        (_event(REPO), "t", PullRequestRef(Forge.GITHUB, REPO, 7)),
    ],
    ids=["push", "no-number", "fork", "deleted-fork", "no-token", "same-repo"],
)
def test_comment_target(event, token, expected):
    pr = None if event is None else event["pull_request"]
    assert comment_target(pr, token) == expected


@pytest.fixture
def job(tmp_path: Path) -> dict[str, Path]:
    files = {name: tmp_path / name for name in ("summary.md", "output.txt", "event.json")}
    files["report"] = tmp_path / "report.json"
    files["report"].write_text(format_json(_report(12, 1)), encoding="utf-8")
    files["event.json"].write_text(json.dumps(_event(REPO)), encoding="utf-8")
    return files


def _args(job: dict[str, Path], **overrides: object) -> argparse.Namespace:
    values = {
        "report": str(job["report"]),
        "sarif_file": "",
        "comment": "false",
        "log_format": "none",
        "max_annotations": 10,
        "pull_request": None,
        "head_sha": "",
        **overrides,
    }
    return argparse.Namespace(**values)


def _env(job: dict[str, Path], token: str = "", api_url: str = "") -> dict[str, str]:
    return {
        "GITHUB_STEP_SUMMARY": str(job["summary.md"]),
        "GITHUB_OUTPUT": str(job["output.txt"]),
        "GITHUB_EVENT_PATH": str(job["event.json"]),
        "GITHUB_TOKEN": token,
        "GITHUB_API_URL": api_url,
        "GITHUB_REPOSITORY": REPO,
    }


def test_publish_writes_summary_outputs_and_sarif(job, tmp_path):
    sarif = tmp_path / "out" / "gitops-bot.sarif"
    log = publish(_args(job, sarif_file=str(sarif), log_format="text"), _env(job), _no_forge)
    report = decode_report(json.loads(job["report"].read_text()))
    assert job["summary.md"].read_text() == format_markdown(report)
    assert _read_outputs(job["output.txt"].read_text()) == {
        "findings": "13",
        "errors": "12",
        "warnings": "1",
        "conclusion": "failure",
        "exit-code": "1",
        "plan": "No changes to the desired state.",
        "report-json": str(job["report"].resolve()),
        "sarif-file": str(sarif.resolve()),
    }
    assert len(json.loads(sarif.read_text())["runs"][0]["results"]) == 13
    assert log.startswith("::stop-commands::")  # the text report, inert
    assert "2 errors not annotated" in log


def _no_forge(token: str, api_url: str):  # pragma: no cover - must not be called
    raise AssertionError("no forge client may be built")


def test_publish_without_a_report_says_the_review_failed(job):
    job["report"].unlink()
    with pytest.raises(UsageError, match="no review report"):
        publish(_args(job), _env(job), _no_forge)
    job["report"].write_text('{"schema": "something/else"}')
    with pytest.raises(UsageError, match="not a gitops-bot/report/v1 document"):
        publish(_args(job), _env(job), _no_forge)


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    github = FakeGitHub()
    with github.mocked():
        yield github
    github.assert_no_violations()


def test_comment_is_created_once_then_updated(job, fake):
    fake.add_pull_request(REPO, 7)
    env = _env(job, token=fake.token, api_url=fake.base_url)
    first = publish(_args(job, comment="true"), env, _github)
    second = publish(_args(job, comment="true"), env, _github)
    (comment,) = fake.comments(REPO, 7)
    assert comment["body"].startswith("<!-- gitops-bot:review -->\n## ❌ gitops-bot: 12 errors")
    assert f"gitops-bot: PR comment: {comment['html_url']}" in first
    assert f"gitops-bot: PR comment: {comment['html_url']}" in second


def test_forbidden_comment_is_a_warning_not_a_failure(job, fake):
    fake.add_pull_request(REPO, 7)
    fake.fail_next(
        "GET",
        r"/repos/octo/gitops/issues/7/comments",
        403,
        {"message": "Resource not accessible by integration"},
    )
    log = publish(
        _args(job, comment="true"), _env(job, token=fake.token, api_url=fake.base_url), _github
    )
    assert "::warning title=gitops-bot::PR comment not written (HTTP 403" in log
    assert fake.comments(REPO, 7) == []
    assert _read_outputs(job["output.txt"].read_text())["exit-code"] == "1"  # outputs still set


def test_fork_pull_request_never_calls_github(job, fake):
    job["event.json"].write_text(json.dumps(_event("someone/gitops")))
    log = publish(
        _args(job, comment="true"), _env(job, token=fake.token, api_url=fake.base_url), _github
    )
    assert "PR comment skipped: pull request from a fork (someone/gitops)" in log
    assert fake.requests == []


def _github(token: str, api_url: str):
    return _github_forge(token, api_url)


def test_cli_registers_the_command(job, capsys, monkeypatch):
    for name, value in _env(job).items():
        monkeypatch.setenv(name, value)
    assert main(["action", "--report", str(job["report"]), "--log-format", "none"]) == 0
    assert (
        "::error file=apps/0.yaml,line=1,col=1,title=rule-0::problem 0" in capsys.readouterr().out
    )
    assert _read_outputs(job["output.txt"].read_text())["errors"] == "12"


@pytest.mark.parametrize(
    ("pr_head", "written"), [(HEAD, True), ("c" * 40, False)], ids=["same-head", "moved-on"]
)
def test_workflow_run_comments_only_on_the_pull_request_of_the_reviewed_commit(
    job, fake, pr_head, written
):
    """The fork-safe pattern: a workflow_run job publishes the report of the PR's own run."""
    job["event.json"].write_text(json.dumps({"workflow_run": {"head_sha": HEAD}}))
    fake.add_pull_request(REPO, 9, head_sha=pr_head)
    args = _args(job, comment="true", pull_request=9, head_sha=HEAD)
    log = publish(args, _env(job, token=fake.token, api_url=fake.base_url), _github)
    assert len(fake.comments(REPO, 9)) == (1 if written else 0)
    if not written:
        assert f"PR comment skipped: #9's head is no longer {HEAD[:12]}" in log


def test_pull_request_without_head_sha_is_refused(job):
    with pytest.raises(UsageError, match="--pull-request needs --head-sha"):
        publish(_args(job, comment="true", pull_request=9), _env(job), _no_forge)
