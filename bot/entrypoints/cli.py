"""`gitops-bot` on a local checkout: review, render, diff, demo. A thin adapter over the core."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import yaml

from bot import __version__
from bot.core.diff.redact import redact_pair
from bot.core.pipeline import Ports, render_revision, review
from bot.core.report.format.github import format_github
from bot.core.report.format.json_report import format_json
from bot.core.report.format.markdown import format_markdown
from bot.core.report.format.sarif import format_sarif
from bot.core.report.format.text import format_text
from bot.engines.git_tree import GitTree, resolve_revision
from bot.engines.local_tree import LocalTree
from bot.entrypoints import (
    action_command,
    apps_command,
    explain_command,
    policy_command,
    review_overrides,
    server_command,
    signatures_command,
    validate_command,
)
from bot.entrypoints.demo import build_demo_repository
from bot.model.change import ChangeRequest, Revision
from bot.model.errors import GitOpsBotError
from bot.model.finding import SEVERITY_BY_LABEL, Severity
from bot.model.report import ExitCode, Report
from bot.ports import RepoTree
from bot.server.assembly import build_ports
from bot.settings import load_settings

FORMATS = ("text", "markdown", "json", "sarif", "github")
FAIL_ON: dict[str, Severity | None] = {**SEVERITY_BY_LABEL, "never": None}
WORKING_TREE = "working tree"

DESCRIPTION = """\
Review GitOps changes: render the desired state (plain YAML, Kustomize, Helm) at two revisions,
render only what the change affects, and show what would change in the cluster, with Secret
values hidden."""


def _add_review_options(parser: argparse.ArgumentParser, formats: bool = True) -> None:
    parser.add_argument("--repo", default=".", help="path to the git checkout (default: .)")
    parser.add_argument(
        "--base", default="HEAD", help="base ref: branch, tag or SHA (default: HEAD)"
    )
    parser.add_argument(
        "--head",
        default=None,
        help="head ref (default: the working tree, uncommitted changes included)",
    )
    parser.add_argument(
        "--render-all",
        action="store_true",
        help="render every target, not only those whose input files changed",
    )
    if formats:
        review_overrides.add_options(parser)
        parser.add_argument(
            "--format", choices=FORMATS, default="text", help="output format (default: text)"
        )
        parser.add_argument(
            "--output", metavar="FILE", help="write the report to FILE instead of stdout"
        )
        parser.add_argument(
            "--fail-on",
            choices=tuple(FAIL_ON),
            default=None,
            help="exit 1 when a finding is at or above this severity "
            "(default: fail_on from .gitops-bot.yaml, else error)",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gitops-bot", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"gitops-bot {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    review_cmd = commands.add_parser(
        "review",
        help="review the change from --base to --head",
        description="Review the change "
        "from --base to --head and print the report a pull request would get.",
    )
    _add_review_options(review_cmd)

    render_cmd = commands.add_parser(
        "render",
        help="render every target of one revision to YAML",
        description="Render every target of one revision and print the resources as YAML "
        "(Secret values hidden unless --show-secrets). Coverage goes to stderr.",
    )
    render_cmd.add_argument(
        "path", nargs="?", default=".", help="path to the repository (default: .)"
    )
    render_cmd.add_argument(
        "--ref", default=None, help="git ref to render (default: the working tree)"
    )
    render_cmd.add_argument("--target", default="", help="only targets whose id contains this text")
    render_cmd.add_argument(
        "--app",
        default="",
        metavar="NAME",
        help="only the Flux/Argo CD app NAME (name, namespace/name, optionally @cluster), "
        "rendered after the apps that declare it",
    )
    render_cmd.add_argument(
        "--show-secrets", action="store_true", help="print Secret values as rendered"
    )

    diff_cmd = commands.add_parser(
        "diff",
        help="print the desired-state diff from --base to --head",
        description="Print the per-resource desired-state diff (unified YAML, Secret values "
        "hidden) from --base to --head.",
    )
    _add_review_options(diff_cmd, formats=False)

    demo_cmd = commands.add_parser(
        "demo",
        help="review the bundled example pull request",
        description="Build the bundled example GitOps repository and its pull request in a "
        "temporary directory, review it, and print the comment the bot would post.",
    )
    demo_cmd.add_argument(
        "--format", choices=FORMATS, default="markdown", help="output format (default: markdown)"
    )
    demo_cmd.add_argument(
        "--output", metavar="FILE", help="write the report to FILE instead of stdout"
    )
    validate_command.add_parser(commands)
    policy_command.add_parser(commands)
    signatures_command.add_parser(commands)
    explain_command.add_parser(commands)
    apps_command.add_parser(commands)
    action_command.add_parser(commands)
    server_command.add_parser(commands)
    return parser


def _open_tree(stack: ExitStack, repo: str, ref: str | None) -> tuple[RepoTree, Revision]:
    if ref is None:
        return LocalTree.open(repo), Revision(WORKING_TREE, "")
    tree = stack.enter_context(GitTree.open(repo, ref))
    return tree, resolve_revision(repo, ref)


def _ports(stack: ExitStack, repo: str | None = None) -> Ports:
    """Tools for one run; with a `repo`, commit signatures of the range are verified too."""
    return build_ports(load_settings(), stack, repo=repo)


def _run_review(args: argparse.Namespace, stack: ExitStack) -> Report:
    base_tree, base_rev = _open_tree(stack, args.repo, args.base)
    head_tree, head_rev = _open_tree(stack, args.repo, args.head)
    change = ChangeRequest(base=base_rev, head=head_rev)
    ports = _ports(stack, repo=args.repo)
    overrides = review_overrides.from_args(args)
    base_tree = review_overrides.overlay(base_tree, overrides)
    head_tree = review_overrides.overlay(head_tree, overrides)
    report = review(change, base_tree, head_tree, ports, render_all=args.render_all)
    return review_overrides.restore_paths(report, overrides)


def _emit(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _format(report: Report, fmt: str, to_terminal: bool) -> str:
    if fmt == "markdown":
        return format_markdown(report)
    if fmt == "json":
        return format_json(report)
    if fmt == "sarif":
        return format_sarif(report.findings, __version__)
    if fmt == "github":
        return format_github(report.findings)
    colour = to_terminal and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    return format_text(report, colour=colour)


def _with_fail_on(report: Report, fail_on: str | None) -> Report:
    """The --fail-on flag overrides the repository's `fail_on` for this run only."""
    return report if fail_on is None else replace(report, fail_on=FAIL_ON[fail_on])


def cmd_review(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        report = _with_fail_on(_run_review(args, stack), args.fail_on)
    _emit(_format(report, args.format, args.output is None), args.output)
    return int(report.exit_code())


def cmd_diff(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        report = _run_review(args, stack)
    if report.trusted_input_error is not None:
        sys.stderr.write(format_text(report))
        return int(ExitCode.USAGE_OR_TRUSTED_INPUT)
    for finding in report.findings:
        sys.stderr.write(f"{finding.severity.label}: [{finding.rule_id}] {finding.message}\n")
    sys.stdout.write(
        "\n".join(d.unified_diff for d in report.diffs) + ("\n" if report.diffs else "")
    )
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        tree, _revision = _open_tree(stack, args.path, args.ref)
        targets, renders = render_revision(tree, _ports(stack), only=args.target, app=args.app)
    if args.app and not targets:
        sys.stderr.write(f"gitops-bot: no app named {args.app!r} (`gitops-bot apps` lists them)\n")
        return int(ExitCode.USAGE_OR_TRUSTED_INPUT)
    documents: list[str] = []
    failed = 0
    for target in targets:
        render = renders.get(target.target_id)
        if render is None or render.skipped:
            reason = render.skipped if render else target.skip_reason
            sys.stderr.write(f"{'skipped':<9} {target.target_id} ({reason})\n")
            continue
        status = "failed" if render.failed else "rendered"
        failed += render.failed
        sys.stderr.write(f"{status:<9} {target.target_id} ({len(render.resources)} resources)\n")
        for finding in render.findings:
            where = f"{finding.location.display()}: " if finding.location else ""
            sys.stderr.write(
                f"  {finding.severity.label} [{finding.rule_id}] {where}{finding.message}\n"
            )
        for resource in render.resources:
            body = (
                dict(resource.body)
                if args.show_secrets
                else redact_pair(dict(resource.body), None)[0]
            )
            header = f"# target: {target.target_id}\n# source: {resource.origin.display()}\n"
            documents.append(header + yaml.safe_dump(body, sort_keys=False))
    sys.stdout.write("---\n".join(documents))
    return int(ExitCode.FINDINGS if failed else ExitCode.CLEAN)


def cmd_demo(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        repo, base, head = build_demo_repository(stack)
        sys.stderr.write(f"demo: example repository built at {repo} (PR: {base} -> {head})\n")
        review_args = argparse.Namespace(repo=str(repo), base=base, head=head, render_all=False)
        report = _run_review(review_args, stack)
    _emit(_format(report, args.format, args.output is None), args.output)
    return int(report.exit_code())


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "review": cmd_review,
    "render": cmd_render,
    "diff": cmd_diff,
    "demo": cmd_demo,
    "validate": validate_command.run,
    "policy": policy_command.run,
    "verify-commits": signatures_command.run,
    "apps": apps_command.run,
    "action": action_command.run,
    "serve": server_command.run_serve,
    "worker": server_command.run_worker,
    "explain": lambda args: explain_command.run(
        argparse.Namespace(**vars(args), render_all=False), _run_review
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except GitOpsBotError as error:
        sys.stderr.write(f"gitops-bot: error: {error.diagnostics()}\n")
        return int(ExitCode.USAGE_OR_TRUSTED_INPUT)
