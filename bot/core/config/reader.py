"""Typed access to the config document that fails with the file and line of the problem."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.model.errors import TrustedInputError
from bot.model.finding import SEVERITY_BY_LABEL, Severity
from bot.model.repo_config import CONFIG_PATH
from bot.model.resource import Location

SEVERITIES = SEVERITY_BY_LABEL

KNOWN_KEYS = {
    "": {
        "version",
        "fail_on",
        "render",
        "diff",
        "clusters",
        "validation",
        "policies",
        "opa",
        "signatures",
        "approval",
    },
    "signatures": {
        "require",
        "ssh_allowed_signers",
        "gpg_keys",
        "gpg_fingerprints",
        "x509_roots",
        "sigstore_issuers",
        "identity",
        "forge_commits",
        "people",
    },
    "policies": {
        "enabled",
        "paths",
        "namespaces",
        "all_namespaces",
        "combine",
        "data",
        "rego_v0",
        "change_namespace",
        "budget_seconds",
        "builtin",
    },
    "policies.builtin": {"enabled", "disabled", "parameters"},
    "opa": {"url"},
    "render": {
        "timeout_seconds",
        "max_output_bytes",
        "max_file_bytes",
        "ignore",
        "helm",
        "repo_urls",
        "fail_on_skipped",
    },
    "render.helm": {"releases"},
    "diff": {"ignore_labels", "ignore_annotations"},
    "validation": {
        "enabled",
        "strict",
        "missing_schema",
        "schema_dirs",
        "schemas",
        "max_errors_per_resource",
    },
}
DOCS_HINT = "see docs/configuration.md"


class ConfigReader:
    def __init__(self, field_lines: Mapping[str, int]) -> None:
        self._lines = field_lines

    def fail(self, path: str, message: str, hint: str = DOCS_HINT) -> TrustedInputError:
        return TrustedInputError(
            f"{CONFIG_PATH}: {path}: {message}",
            Location(CONFIG_PATH, self._lines.get(path, 1)),
            hint,
        )

    def known_keys(self, value: Mapping[str, Any], path: str) -> Mapping[str, Any]:
        unknown = sorted(set(value) - KNOWN_KEYS[path], key=str)
        if unknown:
            raise self.fail(
                f"{path}.{unknown[0]}" if path else str(unknown[0]),
                f"unknown key {unknown[0]!r}",
                f"allowed keys: {', '.join(sorted(KNOWN_KEYS[path]))}",
            )
        return value

    def mapping(self, data: Mapping[str, Any], path: str, key: str) -> Mapping[str, Any]:
        full = f"{path}.{key}" if path else key
        value = data.get(key, {})
        if not isinstance(value, Mapping):
            raise self.fail(full, "must be a mapping")
        return value

    def section(self, data: Mapping[str, Any], path: str, key: str) -> Mapping[str, Any]:
        return self.known_keys(self.mapping(data, path, key), f"{path}.{key}" if path else key)

    def number(self, data: Mapping[str, Any], path: str, key: str, default: float) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.fail(f"{path}.{key}", f"must be a positive number, got {value!r}", "")
        return float(value)

    def boolean(self, data: Mapping[str, Any], path: str, key: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"{path}.{key}", f"must be true or false, got {value!r}", "")
        return value

    def strings(self, data: Mapping[str, Any], path: str, key: str) -> tuple[str, ...] | None:
        if key not in data:
            return None
        value = data[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{path}.{key}", "must be a list of strings", "")
        return tuple(value)

    def severity(
        self, data: Mapping[str, Any], path: str, key: str, default: str, off: str
    ) -> Severity | None:
        """error|warning|info, or `off` (e.g. "never", "ignore") for None."""
        raw = data.get(key, default)
        if raw not in (*SEVERITIES, off):
            full = f"{path}.{key}" if path else key
            raise self.fail(full, f"unknown level {raw!r}", f"use {'|'.join(SEVERITIES)}|{off}")
        return SEVERITIES.get(str(raw))
