"""`gitops-bot apps [PATH]`: every Flux Kustomization/HelmRelease and Argo CD Application of
one revision, with its source, cluster and render status."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from typing import Any

from bot.core.pipeline import render_revision
from bot.engines.git_tree import GitTree
from bot.engines.local_tree import LocalTree
from bot.model.render import RenderTarget, TargetRender
from bot.model.report import ExitCode
from bot.ports import RepoTree
from bot.server.assembly import build_ports
from bot.settings import load_settings

FORMATS = ("text", "json")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "apps",
        help="list the Flux and Argo CD apps of one revision and render them",
        description="List every Flux Kustomization and HelmRelease and every Argo CD "
        "Application found in one revision, with its source, cluster and render status "
        "(each app is rendered, parents first; remote charts only from allow-listed "
        "repositories).",
    )
    parser.add_argument("path", nargs="?", default=".", help="path to the repository (default: .)")
    parser.add_argument("--ref", default=None, help="git ref to read (default: the working tree)")
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default: text)"
    )


def _status(target: RenderTarget, render: TargetRender | None) -> tuple[str, str]:
    if target.skip_reason:
        return "skipped", target.skip_reason
    if render is None:
        return "skipped", "not rendered"
    if render.skipped:
        return "skipped", render.skipped
    errors = [f.message for f in render.findings if f.severity.label == "error"]
    return ("failed", errors[0]) if errors else ("rendered", "")


def app_rows(
    targets: tuple[RenderTarget, ...], renders: dict[str, TargetRender]
) -> list[dict[str, Any]]:
    rows = []
    for target in targets:
        app = target.app
        if app is None:
            continue
        render = renders.get(target.target_id)
        status, reason = _status(target, render)
        rows.append(
            {
                "kind": app.kind,
                "namespace": app.namespace,
                "name": app.name,
                "cluster": target.cluster,
                "source": app.source,
                "status": status,
                "reason": reason,
                "resources": len(render.resources) if render else 0,
                "target": target.target_id,
                "parent": target.parent,
                "declared_in": app.declared_in.display() if app.declared_in else "",
                "depends_on": list(app.depends_on),
            }
        )
    return sorted(rows, key=lambda r: (r["cluster"], r["kind"], r["namespace"], r["name"]))


def format_rows(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No Flux or Argo CD apps found.\n"
    header = ("CLUSTER", "KIND", "APP", "STATUS", "RESOURCES", "SOURCE")
    table = [
        (
            r["cluster"] or "-",
            r["kind"],
            f"{r['namespace']}/{r['name']}",
            r["status"],
            str(r["resources"]),
            r["source"],
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in (header, *table)) for i in range(len(header) - 1)]
    lines = []
    for row in (header, *table):
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    for r in rows:
        if r["reason"]:
            lines.append(f"{r['status']}: {r['kind']} {r['namespace']}/{r['name']}: {r['reason']}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        tree: RepoTree = (
            LocalTree.open(args.path)
            if args.ref is None
            else stack.enter_context(GitTree.open(args.path, args.ref))
        )
        ports = build_ports(load_settings(), stack)
        targets, renders = render_revision(tree, ports, apps_only=True)
    rows = app_rows(targets, renders)
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        sys.stdout.write(format_rows(rows))
    failed = any(r["status"] == "failed" for r in rows)
    return int(ExitCode.FINDINGS if failed else ExitCode.CLEAN)
