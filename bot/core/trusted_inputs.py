"""The only door to configuration: read from the BASE revision, validated, never trusted from
the change under review (a PR cannot loosen the rules it is judged by)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from bot.core.approval.rules import ApprovalConfig, parse_approval
from bot.core.config.reader import ConfigReader
from bot.core.config.schema_check import check_config_schema
from bot.core.config.sections import (
    clusters,
    diff_config,
    policy_config,
    render_config,
    signature_config,
    validation_config,
)
from bot.core.safe_yaml import YamlLimits, load_yaml_documents
from bot.model.errors import TrustedInputError
from bot.model.repo_config import CONFIG_PATH, RepoConfig
from bot.ports import RepoTree


@dataclass(frozen=True, slots=True)
class TrustedInputs:
    config: RepoConfig
    source: str  # where it came from, for the report: ".gitops-bot.yaml@<base>" or "defaults"
    tree: RepoTree  # the base revision: schema files named by the config are read from it
    approval: ApprovalConfig | None = None  # None: no approval gate configured


def parse_trusted(content: bytes) -> tuple[RepoConfig, ApprovalConfig | None]:
    """The config and its approval rules, from one parse of the file."""
    load = load_yaml_documents(content, CONFIG_PATH, YamlLimits(max_bytes=1024 * 1024))
    if load.findings:
        problem = load.findings[0]
        raise TrustedInputError(f"{CONFIG_PATH}: {problem.message}", problem.location, problem.hint)
    if not load.documents:
        return RepoConfig(), None
    doc = load.documents[0]
    reader = ConfigReader(doc.field_lines)
    if not isinstance(doc.data, Mapping):
        raise reader.fail("", "must be a mapping")
    top = reader.known_keys(doc.data, "")
    if top.get("version", 1) != 1:
        raise reader.fail("version", f"unsupported version {top['version']!r}", "use version: 1")
    cluster_configs = clusters(reader, reader.mapping(top, "", "clusters"))
    render = render_config(reader, reader.section(top, "", "render"))
    config = RepoConfig(
        fail_on=reader.severity(top, "", "fail_on", "error", "never"),
        # Rendering assigns apps to clusters by directory: it needs the cluster paths.
        render=replace(render, cluster_paths={c.name: c.paths for c in cluster_configs}),
        diff=diff_config(reader, reader.section(top, "", "diff")),
        clusters=cluster_configs,
        validation=validation_config(reader, reader.section(top, "", "validation")),
        signatures=signature_config(reader, reader.section(top, "", "signatures")),
        policies=policy_config(
            reader, reader.section(top, "", "policies"), reader.section(top, "", "opa")
        ),
    )
    # approval: has its own parser: its rules hold predicates, not plain values.
    approval = parse_approval(reader, reader.mapping(top, "", "approval"))
    # Last: the parsers above give the more specific messages; the schema catches the rest.
    check_config_schema(doc.data, doc.field_lines)
    return config, approval


def parse_config(content: bytes) -> RepoConfig:
    return parse_trusted(content)[0]


def load_trusted_inputs(base: RepoTree, revision_label: str) -> TrustedInputs:
    """Config from the base revision; defaults when it has none. Raises TrustedInputError."""
    if CONFIG_PATH not in base.entries():
        return TrustedInputs(
            RepoConfig(), "defaults (no .gitops-bot.yaml on the base revision)", base
        )
    config, approval = parse_trusted(base.read(CONFIG_PATH))
    return TrustedInputs(config, f"{CONFIG_PATH}@{revision_label}", base, approval)
