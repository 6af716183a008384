"""The only door to configuration: read from the BASE revision, validated, never trusted from
the change under review (a PR cannot loosen the rules it is judged by)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.safe_yaml import YamlLimits, load_yaml_documents
from bot.model.errors import TrustedInputError
from bot.model.finding import Severity
from bot.model.render import HelmRelease
from bot.model.repo_config import (
    CONFIG_PATH,
    DiffConfig,
    HelmReleaseConfig,
    RenderConfig,
    RepoConfig,
)
from bot.model.resource import Location
from bot.ports import RepoTree

_FAIL_ON = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO}
_KNOWN = {
    "": {"version", "fail_on", "render", "diff"},
    "render": {"timeout_seconds", "max_output_bytes", "max_file_bytes", "ignore", "helm"},
    "render.helm": {"releases"},
    "diff": {"ignore_labels", "ignore_annotations"},
}


@dataclass(frozen=True, slots=True)
class TrustedInputs:
    config: RepoConfig
    source: str  # where it came from, for the report: ".gitops-bot.yaml@<base>" or "defaults"


class _Reader:
    """Typed access to the config document that fails with the file and line of the problem."""

    def __init__(self, field_lines: Mapping[str, int]) -> None:
        self._lines = field_lines

    def fail(self, path: str, message: str, hint: str) -> TrustedInputError:
        return TrustedInputError(
            f"{CONFIG_PATH}: {path}: {message}",
            Location(CONFIG_PATH, self._lines.get(path, 1)),
            hint,
        )

    def known_keys(self, value: Mapping[str, Any], path: str) -> Mapping[str, Any]:
        unknown = sorted(set(value) - _KNOWN[path], key=str)
        if unknown:
            raise self.fail(
                f"{path}.{unknown[0]}" if path else str(unknown[0]),
                f"unknown key {unknown[0]!r}",
                f"known keys: {', '.join(sorted(_KNOWN[path]))}",
            )
        return value

    def section(self, data: Mapping[str, Any], path: str, key: str) -> Mapping[str, Any]:
        full = f"{path}.{key}" if path else key
        value = data.get(key, {})
        if not isinstance(value, Mapping):
            raise self.fail(full, "must be a mapping", "see docs/configuration.md")
        return self.known_keys(value, full)

    def number(self, data: Mapping[str, Any], path: str, key: str, default: float) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.fail(f"{path}.{key}", f"must be a positive number, got {value!r}", "")
        return float(value)

    def strings(self, data: Mapping[str, Any], path: str, key: str) -> tuple[str, ...] | None:
        if key not in data:
            return None
        value = data[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{path}.{key}", "must be a list of strings", "")
        return tuple(value)


def _helm_releases(reader: _Reader, helm: Mapping[str, Any]) -> tuple[HelmReleaseConfig, ...]:
    raw = helm.get("releases", [])
    if not isinstance(raw, list):
        raise reader.fail("render.helm.releases", "must be a list", "see docs/configuration.md")
    releases = []
    for i, item in enumerate(raw):
        path = f"render.helm.releases[{i}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("chart"), str):
            raise reader.fail(path, "needs `chart: <path to chart dir>`", "")
        name = item.get("name", item["chart"].rstrip("/").rsplit("/", 1)[-1])
        values = reader.strings(item, path, "values") or ()
        releases.append(
            HelmReleaseConfig(
                chart=item["chart"].strip("/"),
                release=HelmRelease(str(name), str(item.get("namespace", "")), values),
            )
        )
    return tuple(releases)


def parse_config(content: bytes) -> RepoConfig:
    load = load_yaml_documents(content, CONFIG_PATH, YamlLimits(max_bytes=1024 * 1024))
    if load.findings:
        problem = load.findings[0]
        raise TrustedInputError(f"{CONFIG_PATH}: {problem.message}", problem.location, problem.hint)
    if not load.documents:
        return RepoConfig()
    doc = load.documents[0]
    reader = _Reader(doc.field_lines)
    if not isinstance(doc.data, Mapping):
        raise reader.fail("", "must be a mapping", "see docs/configuration.md")
    top = reader.known_keys(doc.data, "")
    if top.get("version", 1) != 1:
        raise reader.fail("version", f"unsupported version {top['version']!r}", "use version: 1")
    fail_on_raw = str(top.get("fail_on", "error"))
    if fail_on_raw not in (*_FAIL_ON, "never"):
        raise reader.fail(
            "fail_on", f"unknown level {fail_on_raw!r}", "use error|warning|info|never"
        )
    render = reader.section(top, "", "render")
    diff = reader.section(top, "", "diff")
    defaults = RenderConfig()
    diff_defaults = DiffConfig()
    return RepoConfig(
        fail_on=_FAIL_ON.get(fail_on_raw),
        render=RenderConfig(
            timeout_seconds=reader.number(
                render, "render", "timeout_seconds", defaults.timeout_seconds
            ),
            max_output_bytes=int(
                reader.number(render, "render", "max_output_bytes", defaults.max_output_bytes)
            ),
            max_file_bytes=int(
                reader.number(render, "render", "max_file_bytes", defaults.max_file_bytes)
            ),
            ignore=reader.strings(render, "render", "ignore") or (),
            helm_releases=_helm_releases(reader, reader.section(render, "render", "helm")),
        ),
        diff=DiffConfig(
            ignore_labels=(reader.strings(diff, "diff", "ignore_labels") or ())
            + diff_defaults.ignore_labels,
            ignore_annotations=(reader.strings(diff, "diff", "ignore_annotations") or ())
            + diff_defaults.ignore_annotations,
        ),
    )


def load_trusted_inputs(base: RepoTree, revision_label: str) -> TrustedInputs:
    """Config from the base revision; defaults when it has none. Raises TrustedInputError."""
    if CONFIG_PATH not in base.entries():
        return TrustedInputs(RepoConfig(), "defaults (no .gitops-bot.yaml on the base revision)")
    return TrustedInputs(parse_config(base.read(CONFIG_PATH)), f"{CONFIG_PATH}@{revision_label}")
