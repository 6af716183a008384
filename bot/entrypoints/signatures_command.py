"""`gitops-bot verify-commits`: every commit of base..head against the base branch's signers."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack

from bot.core.changes import changed_files
from bot.core.report.format.json_report import commit_to_dict
from bot.core.signatures.stage import check_signatures
from bot.core.tree_view import TreeView
from bot.core.trusted_inputs import load_trusted_inputs
from bot.engines.git_commits import GitCommitLog
from bot.engines.git_tree import GitTree
from bot.engines.signature_tools import ToolSignatureVerifier
from bot.engines.workspace import Workspace
from bot.entrypoints.arguments import add_commit_range
from bot.model.finding import Severity

FORMATS = ("text", "json")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "verify-commits",
        help="verify the signature of every commit from --base to --head",
        description="Verify every commit of base..head (GPG, SSH) against the signers trusted "
        "by the base revision's .gitops-bot.yaml (signatures:), and bind each signer to the "
        "committer. Exit 1 when a commit that must be signed is not verified.",
    )
    add_commit_range(parser, "base ref: trusted signers come from it")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")


def run(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        base = stack.enter_context(GitTree.open(args.repo, args.base))
        head = stack.enter_context(GitTree.open(args.repo, args.head))
        trusted = load_trusted_inputs(base, base.commit[:7])
        config = trusted.config
        view = TreeView(base, config.render.max_file_bytes)
        workspace = stack.enter_context(Workspace())
        verdicts, findings = check_signatures(
            GitCommitLog(args.repo).commits(base.commit, head.commit),
            ToolSignatureVerifier(workspace),
            view,
            config.signatures,
            (f.path for f in changed_files(base.entries(), head.entries())),
        )
    if args.format == "json":
        sys.stdout.write(json.dumps([commit_to_dict(v) for v in verdicts], indent=2) + "\n")
    else:
        for v in verdicts:
            who = f"{v.person} ({v.signer})" if v.person else v.signer
            sys.stdout.write(f"{v.verdict.value:<17} {v.sha[:12]} {v.summary[:60]}  {who}\n")
            if v.reason and v.verdict.value != "verified":
                sys.stdout.write(f"{'':<17} {v.reason}\n")
        verified = sum(v.verdict.value == "verified" for v in verdicts)
        sys.stdout.write(f"{len(verdicts)} commits, {verified} verified\n")
    return 1 if any(f.severity is Severity.ERROR for f in findings) else 0
