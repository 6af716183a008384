"""The sections of `.gitops-bot.yaml` other than the top level."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.core.config.reader import ConfigReader
from bot.model.render import HelmRelease
from bot.model.repo_config import (
    ClusterConfig,
    CustomSchema,
    DiffConfig,
    HelmReleaseConfig,
    PolicyConfig,
    RenderConfig,
    SignatureConfig,
    ValidationConfig,
)

_K8S_VERSION = re.compile(r"^(latest|v?\d+\.\d+(\.\d+)?)$")


def helm_releases(reader: ConfigReader, helm: Mapping[str, Any]) -> tuple[HelmReleaseConfig, ...]:
    raw = helm.get("releases", [])
    if not isinstance(raw, list):
        raise reader.fail("render.helm.releases", "must be a list")
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


def render_config(reader: ConfigReader, render: Mapping[str, Any]) -> RenderConfig:
    defaults = RenderConfig()
    return RenderConfig(
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
        helm_releases=helm_releases(reader, reader.section(render, "render", "helm")),
        repo_urls=reader.strings(render, "render", "repo_urls") or (),
        fail_on_skipped=reader.boolean(
            render, "render", "fail_on_skipped", defaults.fail_on_skipped
        ),
    )


def diff_config(reader: ConfigReader, diff: Mapping[str, Any]) -> DiffConfig:
    defaults = DiffConfig()
    return DiffConfig(
        ignore_labels=(reader.strings(diff, "diff", "ignore_labels") or ())
        + defaults.ignore_labels,
        ignore_annotations=(reader.strings(diff, "diff", "ignore_annotations") or ())
        + defaults.ignore_annotations,
    )


def clusters(reader: ConfigReader, raw: Mapping[str, Any]) -> tuple[ClusterConfig, ...]:
    found = []
    for name, body in raw.items():
        path = f"clusters.{name}"
        if not isinstance(body, Mapping) or set(body) - {"kubernetes", "paths"}:
            raise reader.fail(
                path, 'must be a mapping with `kubernetes: "1.NN"` and optional `paths: [dir]`'
            )
        version = body.get("kubernetes", "latest")
        if isinstance(version, float):
            # YAML reads 1.30 as the float 1.3: refuse rather than guess.
            raise reader.fail(
                f"{path}.kubernetes", f"{version!r} is a number", 'quote it: kubernetes: "1.30"'
            )
        if not isinstance(version, str) or not _K8S_VERSION.match(version):
            raise reader.fail(f"{path}.kubernetes", f"not a Kubernetes version: {version!r}")
        paths = tuple(
            p.strip("/").removeprefix("./") for p in reader.strings(body, path, "paths") or ()
        )
        found.append(ClusterConfig(str(name), version.removeprefix("v"), paths))
    return tuple(found)


def _custom_schemas(reader: ConfigReader, raw: Any) -> tuple[CustomSchema, ...]:
    if not isinstance(raw, list):
        raise reader.fail("validation.schemas", "must be a list")
    schemas = []
    for i, item in enumerate(raw):
        path = f"validation.schemas[{i}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("schema"), str):
            raise reader.fail(path, "needs `schema: <path to a JSON schema file>`")
        unknown = set(item) - {"schema", "kind", "api_version", "paths"}
        if unknown:
            raise reader.fail(path, f"unknown key {sorted(unknown)[0]!r}")
        paths = reader.strings(item, path, "paths") or ()
        if not item.get("kind") and not paths:
            raise reader.fail(path, "needs `kind:` or `paths:` to say what it applies to")
        schemas.append(
            CustomSchema(
                schema=item["schema"].lstrip("/"),
                kind=str(item.get("kind", "")),
                api_version=str(item.get("api_version", "")),
                paths=paths,
            )
        )
    return tuple(schemas)


def validation_config(reader: ConfigReader, raw: Mapping[str, Any]) -> ValidationConfig:
    defaults = ValidationConfig()
    return ValidationConfig(
        enabled=reader.boolean(raw, "validation", "enabled", defaults.enabled),
        strict=reader.boolean(raw, "validation", "strict", defaults.strict),
        missing_schema=reader.severity(raw, "validation", "missing_schema", "warning", "ignore"),
        schema_dirs=tuple(
            d.strip("/") for d in reader.strings(raw, "validation", "schema_dirs") or ()
        ),
        custom_schemas=_custom_schemas(reader, raw.get("schemas", [])),
        max_errors_per_resource=int(
            reader.number(
                raw, "validation", "max_errors_per_resource", defaults.max_errors_per_resource
            )
        ),
    )


def policy_config(
    reader: ConfigReader, raw: Mapping[str, Any], opa: Mapping[str, Any]
) -> PolicyConfig:
    defaults = PolicyConfig()
    builtin = reader.section(raw, "policies", "builtin")
    parameters = reader.mapping(builtin, "policies.builtin", "parameters")
    url = opa.get("url", "")
    if not isinstance(url, str) or (url and not url.startswith(("http://", "https://"))):
        raise reader.fail("opa.url", f"not an http(s) URL: {url!r}")
    return PolicyConfig(
        enabled=reader.boolean(raw, "policies", "enabled", defaults.enabled),
        paths=_dirs(reader.strings(raw, "policies", "paths"), defaults.paths),
        namespaces=reader.strings(raw, "policies", "namespaces") or defaults.namespaces,
        all_namespaces=reader.boolean(raw, "policies", "all_namespaces", False),
        combine=reader.boolean(raw, "policies", "combine", False),
        data=_dirs(reader.strings(raw, "policies", "data"), ()),
        rego_v0=_dirs(reader.strings(raw, "policies", "rego_v0"), ()),
        change_namespace=str(raw.get("change_namespace", defaults.change_namespace)),
        budget_seconds=reader.number(raw, "policies", "budget_seconds", defaults.budget_seconds),
        builtin=reader.boolean(builtin, "policies.builtin", "enabled", True),
        builtin_disabled=reader.strings(builtin, "policies.builtin", "disabled") or (),
        parameters=dict(parameters),
        opa_url=url,
    )


def _dirs(values: tuple[str, ...] | None, default: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.strip("/") for v in values) if values is not None else default


def _choice(
    reader: ConfigReader, raw: Mapping[str, Any], key: str, allowed: tuple[str, ...]
) -> str:
    value = raw.get(key, allowed[0])
    if value not in allowed:
        raise reader.fail(f"signatures.{key}", f"{value!r} is not one of {', '.join(allowed)}")
    return str(value)


def signature_config(reader: ConfigReader, raw: Mapping[str, Any]) -> SignatureConfig:
    defaults = SignatureConfig()
    require = raw.get("require", "none")
    paths: tuple[str, ...] = ()
    if isinstance(require, Mapping):
        paths = reader.strings(require, "signatures.require", "paths") or ()
        if not paths or set(require) != {"paths"}:
            raise reader.fail("signatures.require", "use all, none or {paths: [globs]}")
        require = "paths"
    elif require not in ("all", "none"):
        raise reader.fail("signatures.require", f"{require!r}: use all, none or {{paths: [...]}}")
    people = reader.mapping(raw, "signatures", "people")
    return SignatureConfig(
        require=str(require),
        required_paths=paths,
        ssh_allowed_signers=str(raw.get("ssh_allowed_signers", defaults.ssh_allowed_signers)),
        gpg_keys=str(raw.get("gpg_keys", defaults.gpg_keys)),
        gpg_fingerprints=tuple(
            f.replace(" ", "").upper()
            for f in reader.strings(raw, "signatures", "gpg_fingerprints") or ()
        ),
        x509_roots=str(raw.get("x509_roots", defaults.x509_roots)),
        sigstore_issuers=reader.strings(raw, "signatures", "sigstore_issuers") or (),
        identity=_choice(reader, raw, "identity", ("committer", "author", "any")),
        forge_commits=_choice(reader, raw, "forge_commits", ("allow", "deny")),
        people={str(k): str(v) for k, v in people.items()},
    )
