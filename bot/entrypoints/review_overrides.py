"""`review --config PATH` and `review --kubernetes-version V`: per-run overrides of the config.

The pipeline reads `.gitops-bot.yaml` from the base tree and nowhere else; these options keep it
that way by presenting both trees with an adjusted `.gitops-bot.yaml`:

- `--config PATH` relocates the file: `.gitops-bot.yaml` shows PATH's content at each revision,
  so it is still read from the BASE revision, and a change to PATH counts as a config change
  (the report's note, `approval.config_owners`). Locations in the report name PATH again.
- `--kubernetes-version` replaces `clusters:`. It is applied only to a config that parses, so a
  broken file is still reported at its own lines, and to both revisions alike, so it never looks
  like a change of the config.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

import yaml

from bot.core.memory_tree import blob_id
from bot.core.trusted_inputs import parse_trusted
from bot.model.errors import GitOpsBotError, UsageError
from bot.model.finding import Finding
from bot.model.repo_config import CONFIG_PATH
from bot.model.report import Report
from bot.ports import EntryMode, RepoTree, TreeEntry

_K8S_VERSION = re.compile(r"^(latest|v?\d+\.\d+(\.\d+)?)$")


@dataclass(frozen=True, slots=True)
class ReviewOverrides:
    config: str = CONFIG_PATH  # repo path of the config file, read from the base revision
    kubernetes_versions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for version in self.kubernetes_versions:
            if not _K8S_VERSION.match(version):
                raise UsageError(
                    f"not a Kubernetes version: {version!r}", hint='use e.g. "1.31" or "latest"'
                )
        if self.config.startswith("/") or ".." in self.config.split("/"):
            raise UsageError(
                f"--config {self.config!r} must be a path inside the repository",
                hint="the file is read from the base revision, not from the runner",
            )

    @property
    def config_path(self) -> str:
        return self.config.removeprefix("./").strip("/")

    @property
    def active(self) -> bool:
        return self.config_path != CONFIG_PATH or bool(self.kubernetes_versions)


class ConfigOverlay:
    """A RepoTree whose `.gitops-bot.yaml` is `content` (absent when None)."""

    def __init__(self, tree: RepoTree, content: bytes | None, tag: str) -> None:
        self._tree = tree
        self._content = content
        entries = {p: e for p, e in tree.entries().items() if p != CONFIG_PATH}
        if content is not None:
            entries[CONFIG_PATH] = TreeEntry(blob_id(content), EntryMode.FILE, len(content))
        self._entries: Mapping[str, TreeEntry] = entries
        self._tree_id = f"{tree.tree_id}+{tag}"

    @property
    def tree_id(self) -> str:
        return self._tree_id

    def entries(self) -> Mapping[str, TreeEntry]:
        return self._entries

    def read(self, path: str) -> bytes:
        if path == CONFIG_PATH:
            if self._content is None:
                raise KeyError(path)
            return self._content
        return self._tree.read(path)


def _with_clusters(content: bytes | None, versions: tuple[str, ...]) -> bytes | None:
    try:
        parse_trusted(content or b"")
    except GitOpsBotError:
        return content  # reported by the review at the file's own lines
    data = yaml.safe_load(content or b"") or {}
    # Configured clusters keep their names and paths (approval rules match apps by cluster);
    # the versions validated become exactly `versions`.
    clusters = {
        name: {**body, "kubernetes": versions[0]} for name, body in data.get("clusters", {}).items()
    }
    extra = versions[1:] if clusters else versions
    data["clusters"] = {**clusters, **{f"kubernetes-{v}": {"kubernetes": v} for v in extra}}
    return yaml.safe_dump(data, sort_keys=False).encode()


def _config_content(tree: RepoTree, overrides: ReviewOverrides) -> bytes | None:
    path = overrides.config_path
    content = tree.read(path) if path in tree.entries() else None
    if overrides.kubernetes_versions:
        content = _with_clusters(content, overrides.kubernetes_versions)
    return content


def overlay(tree: RepoTree, overrides: ReviewOverrides) -> RepoTree:
    if not overrides.active:
        return tree
    tag = f"config={overrides.config};k8s={','.join(overrides.kubernetes_versions)}"
    return ConfigOverlay(tree, _config_content(tree, overrides), tag)


def _relocated(finding: Finding, path: str) -> Finding:
    location = finding.location
    if location is None or location.path != CONFIG_PATH:
        return finding
    message = finding.message.replace(CONFIG_PATH, path)
    return replace(finding, message=message, location=replace(location, path=path))


def restore_paths(report: Report, overrides: ReviewOverrides) -> Report:
    """Name the real config file again where the report points at the overlay's."""
    path = overrides.config_path
    if path == CONFIG_PATH:
        return report
    error = report.trusted_input_error
    return replace(
        report,
        changed_files=tuple(f for f in report.changed_files if f.path != CONFIG_PATH),
        findings=tuple(_relocated(f, path) for f in report.findings),
        trusted_input_error=None if error is None else _relocated(error, path),
        notes=tuple(n.replace(CONFIG_PATH, path) for n in report.notes),
    )


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        default=CONFIG_PATH,
        metavar="PATH",
        help=f"path of the configuration file in the repository, read from the base revision "
        f"(default: {CONFIG_PATH})",
    )
    parser.add_argument(
        "--kubernetes-version",
        action="append",
        default=[],
        metavar="VERSION",
        help="validate against this Kubernetes version instead of the clusters in the config, "
        'e.g. "1.31"; repeat for several',
    )


def from_args(args: argparse.Namespace) -> ReviewOverrides:
    # demo and explain build their own Namespace without these options.
    return ReviewOverrides(
        config=getattr(args, "config", None) or CONFIG_PATH,
        kubernetes_versions=tuple(getattr(args, "kubernetes_version", None) or ()),
    )
