"""`gitops-bot policy check|test|verify`: conftest-like policy runs on plain files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot import __version__
from bot.core.memory_tree import InMemoryTree
from bot.core.policy.conftest import PolicyTally
from bot.core.policy.gator_suite import CaseStatus, find_suites, run_suite
from bot.core.policy.stage import evaluate_policies
from bot.core.policy.unit_tests import run_tests
from bot.core.render.revision import render_plain_target
from bot.core.report.format.conftest_output import (
    format_conftest_json,
    format_conftest_text,
    format_junit,
    format_tap,
)
from bot.core.report.format.github import format_github
from bot.core.report.format.sarif import format_sarif
from bot.core.tree_view import TreeView
from bot.engines.builtin_policies import LIBRARY, load_builtin_policies
from bot.engines.local_tree import LocalTree
from bot.engines.regorus_worker import RegorusEngine
from bot.entrypoints.validate_command import collect_manifests
from bot.model.errors import PolicyCompileError, UsageError
from bot.model.finding import Severity
from bot.model.render import RenderTarget, TargetKind
from bot.model.repo_config import PolicyConfig
from bot.ports import PolicyModule

CHECK_FORMATS = ("text", "json", "tap", "junit", "github", "sarif")
BUDGET_SECONDS = 10.0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    policy = commands.add_parser(
        "policy",
        help="run Rego policies on files (conftest-compatible)",
        description=(
            "Run Rego policies like conftest: check manifests, run Rego unit tests, "
            "verify Gatekeeper suites."
        ),
    )
    sub = policy.add_subparsers(dest="policy_command", required=True, metavar="SUBCOMMAND")
    check = sub.add_parser(
        "check",
        help="evaluate policies on manifest files (like `conftest test`)",
        description="Evaluate deny/violation/warn rules on every document of the given files, "
        "conftest-style. Exit 1 on failures (and on warnings with --fail-on-warn).",
    )
    check.add_argument("paths", nargs="+", metavar="FILE_OR_DIR", help="manifests to check")
    check.add_argument(
        "--policy",
        action="append",
        metavar="DIR",
        help="directory of Rego policies; repeat for several (default: policy)",
    )
    scope = check.add_mutually_exclusive_group()
    scope.add_argument(
        "--namespace", action="append", metavar="NS", help="package to evaluate (default: main)"
    )
    scope.add_argument("--all-namespaces", action="store_true", help="evaluate every package")
    check.add_argument(
        "--data", action="append", metavar="PATH", help="YAML/JSON data files or directories"
    )
    check.add_argument("--combine", action="store_true", help="one input: all documents")
    check.add_argument("--builtin", action="store_true", help="also run the built-in library")
    check.add_argument("--fail-on-warn", action="store_true", help="exit 1 when there are warnings")
    check.add_argument("--format", choices=CHECK_FORMATS, default="text", help="output format")
    check.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    test = sub.add_parser(
        "test",
        help="run Rego unit tests (test_* rules)",
        description="Compile every .rego file under DIR (tests included) and evaluate each "
        "test_* rule; exit 1 when one fails.",
    )
    test.add_argument(
        "dirs", nargs="*", metavar="DIR", help=f"policy directories (default: {LIBRARY.name}/)"
    )
    _add_verify(sub)


def _add_verify(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verify = sub.add_parser(
        "verify",
        help="run Gatekeeper (gator) Suite files",
        description="Find every gator Suite file under DIR and run its cases: each template "
        "and constraint against each object, checking the violations asserted. Exit 1 when a "
        "case fails.",
    )
    verify.add_argument("dir", nargs="?", default=".", metavar="DIR", help="default: .")


def _verify(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    if not root.is_dir():
        raise UsageError(f"{args.dir}: not a directory")
    tree = LocalTree.open(root)
    suites = find_suites(tree)
    lines: list[str] = []
    failed = passed = 0
    for suite_path in suites:
        result = run_suite(tree, suite_path, RegorusEngine(), BUDGET_SECONDS)
        if result.error:
            failed += 1
            lines.append(f"FAIL: {suite_path}: {result.error}")
        for case in result.cases:
            label = case.status.value.upper()
            where = f"{suite_path}: {case.test}" + (f" / {case.case}" if case.case else "")
            lines.append(f"{label}: {where}" + (f" ({case.reason})" if case.reason else ""))
            failed += case.status is CaseStatus.FAILED
            passed += case.passed
    lines.append(f"{len(suites)} suites, {passed} cases passed, {failed} failed")
    _emit("\n".join(lines) + "\n", None)
    return 1 if failed or not suites else 0


def _read_dir(root: Path, prefix: str) -> dict[str, bytes]:
    if not root.is_dir() and not root.is_file():
        raise UsageError(f"{root}: no such file or directory")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    base = root.parent if root.is_file() else root
    return {f"{prefix}/{p.relative_to(base).as_posix()}": p.read_bytes() for p in files}


def _check(args: argparse.Namespace) -> int:
    manifests = collect_manifests(args.paths)
    view = TreeView(InMemoryTree({k: v for k, (_, v) in manifests.items()}, "files"), 1 << 26)
    rendered = render_plain_target(
        RenderTarget("files", TargetKind.PLAIN, "", frozenset(view.entries)), view
    )
    policy_files: dict[str, bytes] = {}
    policy_dirs = args.policy or ["policy"]
    for i, directory in enumerate(policy_dirs):
        policy_files.update(_read_dir(Path(directory), f"policy-{i}"))
    for i, data in enumerate(args.data or []):
        policy_files.update(_read_dir(Path(data), f"data-{i}"))
    config = PolicyConfig(
        paths=tuple(f"policy-{i}" for i in range(len(policy_dirs))),
        namespaces=tuple(args.namespace or ("main",)),
        all_namespaces=args.all_namespaces,
        combine=args.combine,
        data=tuple(f"data-{i}" for i in range(len(args.data or []))),
        builtin=args.builtin,
        budget_seconds=BUDGET_SECONDS,
    )
    trusted = TreeView(InMemoryTree(policy_files, "policies"), 1 << 26)
    findings, exceptions, summary = evaluate_policies(
        RegorusEngine(),
        config,
        trusted=trusted,
        builtin=load_builtin_policies() if args.builtin else (),
        resources=rendered.resources,
        changes=(),
    )
    findings = [*rendered.findings, *findings]
    tally = PolicyTally()
    if summary is not None:
        tally = PolicyTally(
            summary.tests, summary.passed, summary.warnings, summary.failures, summary.exceptions
        )
    formatters = {
        "text": lambda: format_conftest_text(findings, exceptions, tally),
        "json": lambda: format_conftest_json(findings, exceptions, tally),
        "tap": lambda: format_tap(findings, exceptions, tally),
        "junit": lambda: format_junit(findings, exceptions, tally),
        "github": lambda: format_github(findings),
        "sarif": lambda: format_sarif(findings, __version__),
    }
    _emit(formatters[args.format](), args.output)
    errors = any(f.severity is Severity.ERROR for f in findings)
    warned = any(f.severity is Severity.WARNING for f in findings)
    return 1 if errors or (args.fail_on_warn and warned) else 0


def _test(args: argparse.Namespace) -> int:
    modules: list[PolicyModule] = []
    for directory in args.dirs or [str(LIBRARY)]:
        root = Path(directory)
        if not root.is_dir():
            raise UsageError(f"{directory}: not a directory")
        modules += [
            PolicyModule(p.relative_to(root).as_posix(), p.read_text("utf-8"))
            for p in sorted(root.rglob("*.rego"))
        ]
    try:
        results = run_tests(RegorusEngine(), modules, BUDGET_SECONDS)
    except PolicyCompileError as error:
        sys.stderr.write(f"gitops-bot: error: {error.diagnostics()}\n")
        return 1
    lines = [
        f"{'PASS' if r.passed else 'FAIL'}: {r.test.path}: {r.test.name}"
        + ("" if r.passed else f" ({r.reason})")
        for r in results
    ]
    failed = sum(not r.passed for r in results)
    lines.append(f"{len(results)} tests, {len(results) - failed} passed, {failed} failed")
    _emit("\n".join(lines) + "\n", None)
    return 1 if failed or not results else 0


def _emit(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def run(args: argparse.Namespace) -> int:
    if args.policy_command == "check":
        return _check(args)
    if args.policy_command == "verify":
        return _verify(args)
    return _test(args)
