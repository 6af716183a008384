"""`gitops-bot action --report FILE`: publish one review inside a GitHub Actions job.

`action.yml` runs `gitops-bot review --format json` once; this command derives everything else
from that file, through the same formatters the CLI and the App use: the step summary (the PR
comment's Markdown), at most N annotations per severity (GitHub drops the rest, so the log says
where they are), SARIF, step outputs and, when asked and allowed, the PR comment itself.

It exits 0 once everything is published and leaves the verdict to the `exit-code` output: the
action's last step fails the job with it, after the summary and the comment are out.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import __version__
from bot.core.report.decode import decode_report
from bot.core.report.format.common import COMMENT_MARKER
from bot.core.report.format.github import format_github
from bot.core.report.format.json_report import format_json
from bot.core.report.format.markdown import format_markdown
from bot.core.report.format.sarif import format_sarif
from bot.core.report.format.text import format_text
from bot.model.errors import UsageError
from bot.model.finding import Finding, Severity
from bot.model.job import Forge, PullRequestRef
from bot.model.report import Report
from bot.ports import CommentMode, ForgeClient

LOG_FORMATS = ("text", "markdown", "json", "sarif", "none")
MAX_ANNOTATIONS = 10  # GitHub keeps 10 error and 10 warning annotations per step
ForgeFactory = Callable[[str, str], ForgeClient]  # (token, api_url) -> client


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "action",
        help="publish a review JSON in a GitHub Actions job (used by action.yml)",
        description="Read a `gitops-bot review --format json` report and publish it in a GitHub "
        "Actions job: step summary, annotations, SARIF, step outputs and the PR comment. "
        "Exits 0 once published; the verdict is the `exit-code` output.",
    )
    parser.add_argument("--report", required=True, metavar="FILE", help="the review's JSON")
    parser.add_argument("--sarif-file", default="", metavar="PATH", help="write SARIF 2.1.0 here")
    parser.add_argument(
        "--comment",
        choices=("true", "false"),
        default="false",
        help="create or update the PR comment (needs GITHUB_TOKEN with pull-requests: write)",
    )
    parser.add_argument(
        "--pull-request",
        type=int,
        default=None,
        metavar="NUMBER",
        help="comment on this pull request of GITHUB_REPOSITORY instead of the event's (for a "
        "workflow_run job publishing a report made by the pull request's own run); needs "
        "--head-sha",
    )
    parser.add_argument(
        "--head-sha",
        default="",
        metavar="SHA",
        help="with --pull-request: comment only while the pull request's head is this commit "
        "(github.event.workflow_run.head_sha), so a report cannot be posted on another PR",
    )
    parser.add_argument(
        "--log-format", choices=LOG_FORMATS, default="text", help="what to print to the job log"
    )
    parser.add_argument(
        "--max-annotations",
        type=int,
        default=MAX_ANNOTATIONS,
        metavar="N",
        help=f"annotations per severity (default: {MAX_ANNOTATIONS}, GitHub's limit per step)",
    )


@dataclass(frozen=True, slots=True)
class Annotations:
    text: str  # workflow commands
    left_out: Mapping[Severity, int]  # findings not annotated, per severity
    limit: int

    def log_line(self) -> str:
        counts = [
            f"{n} {severity.label}{'s' if n != 1 else ''}"
            for severity, n in sorted(self.left_out.items(), reverse=True)
            if n
        ]
        if not counts:
            return ""
        return (
            f"gitops-bot: {' and '.join(counts)} not annotated (at most {self.limit} of each "
            "kind per step: GitHub drops the rest); all findings are in the job summary.\n"
        )


def select_annotations(findings: Sequence[Finding], limit: int) -> Annotations:
    chosen: list[Finding] = []
    left_out: dict[Severity, int] = {}
    for finding in findings:  # the report's order, as in the summary's findings table
        if sum(1 for f in chosen if f.severity is finding.severity) < limit:
            chosen.append(finding)
        else:
            left_out[finding.severity] = left_out.get(finding.severity, 0) + 1
    return Annotations(format_github(chosen), left_out, limit)


def format_output(name: str, value: str) -> str:
    """One `$GITHUB_OUTPUT` entry, heredoc style with a delimiter the value cannot contain."""
    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    while delimiter in value:  # pragma: no cover - 128 random bits
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def without_commands(text: str) -> str:
    """Untrusted text for the log: workflow commands in it are not executed (stop-commands)."""
    token = secrets.token_hex(16)
    return f"::stop-commands::{token}\n{text.rstrip()}\n::{token}::\n"


def _log_text(report: Report, fmt: str) -> str:
    if fmt == "markdown":
        return format_markdown(report)
    if fmt == "json":
        return format_json(report)
    if fmt == "sarif":
        return format_sarif(report.findings, __version__)
    return format_text(report) if fmt == "text" else ""


def _append(path: str, text: str) -> None:
    if path:
        with Path(path).open("a", encoding="utf-8") as handle:
            handle.write(text)


def _pull_request(event_path: str) -> Mapping[str, Any] | None:
    if not event_path or not Path(event_path).is_file():
        return None
    event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    pr = event.get("pull_request") if isinstance(event, Mapping) else None
    return pr if isinstance(pr, Mapping) else None


def _repo_name(side: Any) -> str:
    repo = side.get("repo") if isinstance(side, Mapping) else None
    return str(repo.get("full_name") or "") if isinstance(repo, Mapping) else ""


def comment_target(pr: Mapping[str, Any] | None, token: str) -> PullRequestRef | str:
    """Where to comment, or why not (the review is then in the summary only)."""
    if pr is None:
        return "not a pull_request event"
    base, head = _repo_name(pr.get("base")), _repo_name(pr.get("head"))
    if not base or not isinstance(pr.get("number"), int):
        return "the event has no pull request number or repository"
    if head != base:
        return f"pull request from a fork ({head or 'deleted repository'}): the token is read-only"
    if not token:
        return "no token (set the github-token input)"
    return PullRequestRef(Forge.GITHUB, base, int(pr["number"]))


def _github_forge(token: str, api_url: str) -> ForgeClient:
    from bot.engines.github_forge import GitHubForge  # noqa: PLC0415 - only when commenting

    forge: ForgeClient = GitHubForge.from_token(token, api_url)
    return forge


def _status(error: Exception) -> int | None:
    status = getattr(error, "status", None)
    return status if isinstance(status, int) else None


def _explicit_target(number: int, env: Mapping[str, str]) -> PullRequestRef | str:
    repo = env.get("GITHUB_REPOSITORY", "")
    if not repo:
        return "GITHUB_REPOSITORY is not set"
    if not env.get("GITHUB_TOKEN"):
        return "no token (set the github-token input)"
    return PullRequestRef(Forge.GITHUB, repo, number)


def _skipped(reason: str) -> str:
    return f"gitops-bot: PR comment skipped: {reason}; the report is in the job summary.\n"


def publish_comment(
    report: Report,
    env: Mapping[str, str],
    forge_factory: ForgeFactory = _github_forge,
    pull_request: int | None = None,
    head_sha: str = "",
) -> str:
    """Upsert the PR comment; returns what happened, for the log. Never fails the job for a
    fork, a missing token or a forbidden write: the summary has the report either way."""
    if pull_request is not None:
        target = _explicit_target(pull_request, env)
    else:
        event_pr = _pull_request(env.get("GITHUB_EVENT_PATH", ""))
        target = comment_target(event_pr, env.get("GITHUB_TOKEN", ""))
    if isinstance(target, str):
        return _skipped(target)
    api_url = env.get("GITHUB_API_URL") or "https://api.github.com"
    forge = forge_factory(env["GITHUB_TOKEN"], api_url)
    try:
        if head_sha and forge.pull_request(target).head_sha != head_sha:
            return _skipped(f"#{target.number}'s head is no longer {head_sha[:12]}")
        url = forge.upsert_comment(
            target, COMMENT_MARKER, format_markdown(report), CommentMode.UPDATE
        )
    except Exception as error:
        if _status(error) not in (401, 403, 404):
            raise
        return (
            f"::warning title=gitops-bot::PR comment not written (HTTP {_status(error)}: the "
            "token may not have pull-requests: write); the report is in the job summary.\n"
        )
    return f"gitops-bot: PR comment: {url}\n"


def _outputs(report: Report, report_path: Path, sarif_file: str) -> str:
    values = {
        "findings": str(len(report.findings)),
        "errors": str(report.count(Severity.ERROR)),
        "warnings": str(report.count(Severity.WARNING)),
        "conclusion": report.conclusion().value,
        "exit-code": str(int(report.exit_code())),
        "plan": report.plan().line(),
        "report-json": str(report_path.resolve()),
        "sarif-file": str(Path(sarif_file).resolve()) if sarif_file else "",
    }
    return "".join(format_output(name, value) for name, value in values.items())


def load_report(path: Path) -> Report:
    if not path.is_file():
        raise UsageError(
            f"no review report at {path}", hint="the review step failed before writing it"
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise UsageError(f"{path} is not JSON: {error}") from error
    return decode_report(doc)


def publish(args: argparse.Namespace, env: Mapping[str, str], forge_factory: ForgeFactory) -> str:
    """Everything the job shows; returns the log text (annotations outside stop-commands)."""
    if args.pull_request is not None and not args.head_sha:
        raise UsageError(
            "--pull-request needs --head-sha",
            hint="pass github.event.workflow_run.head_sha: it binds the report to its PR",
        )
    report_path = Path(args.report)
    report = load_report(report_path)
    log = _log_text(report, args.log_format)
    out = without_commands(log) if log else ""
    annotations = select_annotations(report.findings, args.max_annotations)
    out += annotations.text + annotations.log_line()
    _append(env.get("GITHUB_STEP_SUMMARY", ""), format_markdown(report))
    if args.sarif_file:
        sarif = Path(args.sarif_file)
        sarif.parent.mkdir(parents=True, exist_ok=True)
        sarif.write_text(format_sarif(report.findings, __version__), encoding="utf-8")
    _append(env.get("GITHUB_OUTPUT", ""), _outputs(report, report_path, args.sarif_file))
    if args.comment == "true":
        out += publish_comment(report, env, forge_factory, args.pull_request, args.head_sha)
    return out


def run(args: argparse.Namespace, forge_factory: ForgeFactory = _github_forge) -> int:
    sys.stdout.write(publish(args, os.environ, forge_factory))
    return 0
