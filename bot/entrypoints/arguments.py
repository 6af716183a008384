"""Command-line options shared by the commands that look at a commit range."""

from __future__ import annotations

import argparse


def add_commit_range(parser: argparse.ArgumentParser, base_help: str) -> None:
    """--repo, and --base/--head as required refs (`base_help` says what the base provides)."""
    parser.add_argument("--repo", default=".", help="path to the git checkout (default: .)")
    parser.add_argument("--base", required=True, help=base_help)
    parser.add_argument("--head", required=True, help="head ref")
