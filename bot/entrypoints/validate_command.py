"""`gitops-bot validate PATH...`: kubeconform-style validation of manifest files (pre-commit)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from bot import __version__
from bot.core.memory_tree import InMemoryTree
from bot.core.report.format.github import format_github
from bot.core.report.format.json_report import finding_to_dict
from bot.core.report.format.sarif import format_sarif
from bot.core.validate.files import validate_files
from bot.engines.schema_catalog import JsonSchemaCatalog
from bot.model.errors import UsageError
from bot.model.finding import SEVERITY_BY_LABEL, Finding, Severity
from bot.model.repo_config import ClusterConfig, RepoConfig, ValidationConfig
from bot.model.validation import ValidationSummary

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
FORMATS = ("text", "json", "sarif", "github")
MISSING = SEVERITY_BY_LABEL


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "validate",
        help="validate manifest files against Kubernetes and custom schemas",
        description="Validate Kubernetes manifests in files and directories (recursively: "
        "*.yaml, *.yml, *.json) against the Kubernetes API schemas, CRDs found among them and "
        "schema directories; every error with file and line. No rendering, no network.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    parser.add_argument(
        "--kubernetes-version",
        action="append",
        metavar="VERSION",
        help='Kubernetes version to validate against, e.g. "1.31"; repeat for several '
        "(default: the newest bundled)",
    )
    parser.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="unknown fields are errors (default: --strict)",
    )
    parser.add_argument(
        "--schema-location",
        action="append",
        metavar="DIR",
        help="directory of extra schemas laid out <group>/<kind>_<version>.json (as the CRDs "
        "catalogues); repeat for several",
    )
    parser.add_argument(
        "--missing-schema",
        choices=(*MISSING, "ignore"),
        default="warning",
        help="severity for resources without a schema (default: warning)",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")
    parser.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")


def _tree_path(file: Path) -> str:
    """Repo-style relative path for the in-memory tree (which refuses absolute and `..` paths)."""
    absolute = file.resolve()
    try:
        return absolute.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return absolute.as_posix().lstrip("/")


def collect_manifests(paths: list[str]) -> dict[str, tuple[str, bytes]]:
    """tree path -> (path as the user wrote it, content)."""
    files: dict[str, tuple[str, bytes]] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix in MANIFEST_SUFFIXES
            )
        elif path.is_file():
            found = [path]
        else:
            raise UsageError(f"{raw}: no such file or directory")
        for file in found:
            files[_tree_path(file)] = (file.as_posix(), file.read_bytes())
    return files


def _shown_as(findings: list[Finding], names: dict[str, str]) -> list[Finding]:
    return [
        replace(f, location=replace(f.location, path=names[f.location.path]))
        if f.location is not None and f.location.path in names
        else f
        for f in findings
    ]


def _schema_tree(locations: list[str]) -> tuple[InMemoryTree, tuple[str, ...]]:
    """Schema directories as one in-memory tree, each under its own prefix."""
    files: dict[str, bytes] = {}
    prefixes = []
    for i, location in enumerate(locations):
        root = Path(location)
        if not root.is_dir():
            raise UsageError(f"--schema-location {location}: not a directory")
        prefix = f"schema-location-{i}"
        prefixes.append(prefix)
        for file in root.rglob("*.json"):
            files[f"{prefix}/{file.relative_to(root).as_posix()}"] = file.read_bytes()
    return InMemoryTree(files, "schemas"), tuple(prefixes)


def _text(findings: list[Finding], summary: ValidationSummary | None) -> str:
    lines = []
    for f in findings:
        where = f"{f.location.display()}: " if f.location else ""
        lines.append(f"{where}{f.severity.label} [{f.rule_id}] {f.message}")
    if summary is not None:
        valid = summary.valid
        lines.append(
            f"{summary.resources} resources: {valid} valid, {summary.invalid} invalid, "
            f"{summary.without_schema} without schema "
            f"(Kubernetes {', '.join(summary.kubernetes_versions)}"
            f"{', strict' if summary.strict else ''})"
        )
    return "".join(line + "\n" for line in lines)


def _json(findings: list[Finding], summary: ValidationSummary | None) -> str:
    document = {
        "schema": "gitops-bot/validate/v1",
        "findings": [finding_to_dict(f) for f in findings],
        "summary": None
        if summary is None
        else {
            "resources": summary.resources,
            "valid": summary.valid,
            "invalid": summary.invalid,
            "without_schema": summary.without_schema,
            "kubernetes_versions": list(summary.kubernetes_versions),
            "strict": summary.strict,
        },
    }
    return json.dumps(document, indent=2) + "\n"


def run(args: argparse.Namespace) -> int:
    files = collect_manifests(args.paths)
    schemas, prefixes = _schema_tree(args.schema_location or [])
    config = RepoConfig(
        clusters=tuple(ClusterConfig(v, v) for v in args.kubernetes_version or ()),
        validation=ValidationConfig(
            strict=args.strict,
            missing_schema=MISSING.get(args.missing_schema),
            schema_dirs=prefixes,
        ),
    )
    tree = InMemoryTree({path: content for path, (_, content) in files.items()}, "files")
    findings, summary = validate_files(tree, JsonSchemaCatalog(), config, schemas)
    findings = sorted(
        _shown_as(findings, {path: shown for path, (shown, _) in files.items()}),
        key=Finding.sort_key,
    )
    if args.format == "sarif":
        text = format_sarif(findings, __version__)
    elif args.format == "github":
        text = format_github(findings)
    elif args.format == "json":
        text = _json(findings, summary)
    else:
        text = _text(findings, summary)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 1 if any(f.severity is Severity.ERROR for f in findings) else 0
