"""The JSON Schema of `.gitops-bot.yaml`: the one description of every key.

`docs/config.schema.json` is generated from `CONFIG_SCHEMA` (editors use it for completion; a
test keeps the two equal) and the config reader validates every parsed file against it after its
own checks, so a key the parsers would ignore or coerce (a typo inside a Helm release, a list
where a path belongs) is still a `config-invalid` error with file and line.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
K8S_VERSION_PATTERN = r"^(latest|v?\d+\.\d+(\.\d+)?)$"
SEVERITIES = ["error", "warning", "info"]
PERMISSIONS = ["read", "triage", "write", "maintain", "admin"]


def _obj(description: str, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "additionalProperties": False,
        **extra,
    }


def _strings(description: str, non_empty: bool = False, **extra: Any) -> dict[str, Any]:
    items: dict[str, Any] = {"type": "string", "minLength": 1} if non_empty else {"type": "string"}
    schema: dict[str, Any] = {"type": "array", "description": description, "items": items}
    if non_empty:
        schema["minItems"] = 1
    return {**schema, **extra}


def _bool(description: str, default: bool) -> dict[str, Any]:
    return {"type": "boolean", "description": description, "default": default}


def _string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _positive(description: str, default: float, integer: bool = False) -> dict[str, Any]:
    if integer:
        return {"type": "integer", "minimum": 1, "description": description, "default": default}
    return {"type": "number", "exclusiveMinimum": 0, "description": description, "default": default}


_HELM_RELEASE = _obj(
    "One instance of a local chart (`helm template NAME CHART --namespace NS -f VALUES...`).",
    {
        "chart": _string("Chart directory (contains Chart.yaml).", minLength=1),
        "name": _string("Release name (default: the chart directory's name)."),
        "namespace": _string("--namespace; sets .Release.Namespace."),
        "values": _strings("Values files, repo-relative, applied in order after values.yaml."),
    },
    required=["chart"],
)

RENDER = _obj(
    "How render targets are found and rendered.",
    {
        "timeout_seconds": _positive("Wall-clock limit per kustomize/helm run.", 120),
        "max_output_bytes": _positive("Cap on one renderer's output.", 67108864, integer=True),
        "max_file_bytes": _positive("Files larger than this are not read.", 2097152, integer=True),
        "ignore": _strings("Globs of repo paths that are never render inputs.", default=[]),
        "helm": _obj(
            "Local Helm charts.",
            {
                "releases": {
                    "type": "array",
                    "description": "Explicit releases (default: one per values-<env>.yaml).",
                    "items": _HELM_RELEASE,
                }
            },
        ),
        "repo_urls": _strings(
            "URLs that mean this repository in Argo CD repoURLs and Flux GitRepository urls.",
            default=[],
        ),
        "fail_on_skipped": _bool("Fail the check when an app is skipped.", True),
    },
)

DIFF = _obj(
    "Noise stripped before diffing (added to the defaults).",
    {
        "ignore_labels": _strings("Labels stripped (helm.sh/chart always).", default=[]),
        "ignore_annotations": _strings(
            "Annotations stripped (config.kubernetes.io/origin always).", default=[]
        ),
    },
)

CLUSTERS = {
    "type": "object",
    "description": "Clusters by name: the Kubernetes version each runs, and what deploys there.",
    "additionalProperties": _obj(
        "One cluster.",
        {
            "kubernetes": _string(
                'Kubernetes version, quoted ("1.31"), or "latest".',
                pattern=K8S_VERSION_PATTERN,
                default="latest",
            ),
            "paths": _strings("Directories whose apps deploy to this cluster.", default=[]),
        },
    ),
}

_CUSTOM_SCHEMA = _obj(
    "A JSON schema (read from the base revision) applied to matching resources.",
    {
        "schema": _string("Repo path of the JSON schema file.", minLength=1),
        "kind": _string("Resource kind it applies to."),
        "api_version": _string("apiVersion it applies to (with kind)."),
        "paths": _strings("Globs on the resource's source file."),
    },
    required=["schema"],
    anyOf=[{"required": ["kind"]}, {"required": ["paths"]}],
)

VALIDATION = _obj(
    "Schema validation of every rendered head resource.",
    {
        "enabled": _bool("Run schema validation.", True),
        "strict": _bool("Unknown fields are errors.", True),
        "missing_schema": {
            "enum": [*SEVERITIES, "ignore"],
            "description": "Severity of no-schema findings.",
            "default": "warning",
        },
        "schema_dirs": _strings(
            "Directories of <group>/<kind>_<version>.json schemas (base revision).", default=[]
        ),
        "schemas": {
            "type": "array",
            "description": "Custom JSON schemas.",
            "items": _CUSTOM_SCHEMA,
        },
        "max_errors_per_resource": _positive("Errors shown per resource.", 20, integer=True),
    },
)

POLICIES = _obj(
    "Rego policies: the repository's own (conftest layout) and the built-in library.",
    {
        "enabled": _bool("Evaluate policies.", True),
        "paths": _strings("Directories of Rego (base revision).", default=["policy"]),
        "namespaces": _strings("Packages evaluated per resource.", default=["main"]),
        "all_namespaces": _bool("Evaluate every package.", False),
        "combine": _bool("One input: all resources.", False),
        "data": _strings("YAML/JSON data files or directories merged into data.", default=[]),
        "rego_v0": _strings("Directories whose modules are Rego v0.", default=[]),
        "change_namespace": _string(
            "Package evaluated per changed resource with {base, head, change}.", default="change"
        ),
        "budget_seconds": _positive("Time for one evaluation.", 10),
        "builtin": _obj(
            "The built-in policy library.",
            {
                "enabled": _bool("Run the built-in library.", True),
                "disabled": _strings("Built-in rule ids switched off.", default=[]),
                "parameters": {
                    "type": "object",
                    "description": "data.gitops_bot.parameters for the library.",
                    "default": {},
                },
            },
        ),
    },
)

OPA = _obj(
    "A real OPA server instead of the embedded engine.",
    {"url": _string("http(s) URL of the OPA server.", pattern=r"^(https?://.+)?$")},
)

SIGNATURES = _obj(
    "Commit signature verification against signers trusted on the base revision.",
    {
        "require": {
            "description": "Which changes must consist of verified commits.",
            "default": "none",
            "oneOf": [
                {"enum": ["all", "none"]},
                _obj(
                    "When the change touches a matching file.",
                    {"paths": _strings("", True)},
                    required=["paths"],
                ),
            ],
        },
        "ssh_allowed_signers": _string(
            "ssh-keygen allowed signers file.", default=".gitops-bot/allowed_signers"
        ),
        "gpg_keys": _string("Trusted GPG public keys.", default=".gitops-bot/trusted-keys.asc"),
        "gpg_fingerprints": _strings("Fingerprint allow-list.", default=[]),
        "x509_roots": _string("Trusted X.509 roots (PEM).", default=".gitops-bot/x509-roots.pem"),
        "sigstore_issuers": _strings("gitsign: OIDC issuers accepted.", default=[]),
        "identity": {
            "enum": ["committer", "author", "any"],
            "description": "Whose email the key must vouch for.",
            "default": "committer",
        },
        "forge_commits": {
            "enum": ["allow", "deny"],
            "description": "Commits made by the forge itself.",
            "default": "allow",
        },
        "people": {
            "type": "object",
            "description": "Signer identity to person or team, shown in the report.",
            "additionalProperties": {"type": "string"},
        },
    },
)

_USERS_TEAMS = {
    "users": _strings("GitHub/GitLab user names.", True),
    "teams": _strings(
        "Teams as org/team.", True, items={"type": "string", "pattern": r"^[^/\s]+/[^/\s]+$"}
    ),
}

PREDICATES = _obj(
    "Conditions that must all hold for the rule to apply (empty: always).",
    {
        "changed_files": _strings("Globs: some changed file matches one.", True),
        "only_changed_files": _strings("Globs: every changed file matches one.", True),
        "rendered": _obj(
            "Some rendered resource the change touches matches all the given fields.",
            {
                "kinds": _strings("Kinds.", True),
                "api_groups": _strings('API groups ("" is the core group).', True),
                "namespaces": _strings('Namespaces ("" is cluster-scoped).', True),
                "names": _strings("Name globs.", True),
                "changes": {
                    "type": "array",
                    "minItems": 1,
                    "description": "Kinds of change.",
                    "items": {"enum": ["added", "removed", "modified"]},
                },
                "clusters": _strings("Clusters the resource's app deploys to.", True),
                "apps": _strings("GitOps apps (Flux Kustomization/HelmRelease, Argo CD).", True),
                "labels": {
                    "type": "object",
                    "description": "Label key to value glob.",
                    "additionalProperties": {"type": "string"},
                },
            },
        ),
        "policy_findings": _obj(
            "The review has policy findings.",
            {
                "severity": {"enum": SEVERITIES, "default": "error", "description": "At least."},
                "rule_ids": _strings("Only these rule ids.", True),
                "requires_approval": _bool("Only findings whose rule names approvers.", False),
            },
        ),
        "author": _obj("The author is one of.", _USERS_TEAMS, minProperties=1),
        "author_not": _obj("The author is none of.", _USERS_TEAMS, minProperties=1),
        "has_labels": _strings("The pull request has all these labels.", True),
        "title_matches": _strings("Regular expressions; one matches the title.", True),
        "target_branch": _strings("Globs on the target branch.", True),
        "signatures": _obj(
            "Every commit is (or is not) verified.",
            {"verified": {"type": "boolean"}},
            required=["verified"],
        ),
    },
)

REQUIREMENT = _obj(
    "Who must approve, and how approvals count.",
    {
        "count": {"type": "integer", "minimum": 1, "default": 1, "description": "Approvals."},
        "users": _strings("Users who may approve.", True),
        "teams": _strings("Teams (org/team) whose members may approve.", True),
        "permissions": {
            "type": "array",
            "minItems": 1,
            "description": "Repository permissions that may approve.",
            "items": {"enum": PERMISSIONS},
        },
        "author_can_approve": _bool("The author's own approval counts.", False),
        "ignore_committers": _bool("Committers' approvals do not count.", False),
        "invalidate_on_push": _bool("Only approvals of the head commit count.", True),
        "keep_if_rendered_unchanged": _bool(
            "Keep approvals across pushes that do not change the rendered state.", False
        ),
    },
)

APPROVAL = _obj(
    "policy-bot-style approval rules, read from the base revision.",
    {
        "rules": {
            "type": "array",
            "minItems": 1,
            "description": "Named rules.",
            "items": _obj(
                "One rule.",
                {
                    "name": _string("Unique rule name.", minLength=1),
                    "if": {**PREDICATES, "type": ["object", "null"]},
                    "requires": {"$ref": "#/$defs/requirement"},
                },
                required=["name"],
            ),
        },
        "policy": {"$ref": "#/$defs/approval_node"},
        "config_owners": {"$ref": "#/$defs/requirement"},
    },
)

_NODE_LIST = {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/approval_node"}}

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": SCHEMA_DIALECT,
    "title": ".gitops-bot.yaml",
    "description": "gitops-bot configuration, read from the base revision of every change. "
    "Generated from bot/core/config/schema.py; reference: docs/config.md.",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "version": {"const": 1, "description": "Version of this file's format.", "default": 1},
        "fail_on": {
            "enum": [*SEVERITIES, "never"],
            "description": "Findings at or above this severity fail the review.",
            "default": "error",
        },
        "render": RENDER,
        "diff": DIFF,
        "clusters": CLUSTERS,
        "validation": VALIDATION,
        "policies": POLICIES,
        "opa": OPA,
        "signatures": SIGNATURES,
        "approval": APPROVAL,
    },
    "$defs": {
        "requirement": REQUIREMENT,
        "approval_node": {
            "description": "A rule name, or {and: [...]} / {or: [...]} of nodes.",
            "oneOf": [
                {"type": "string", "minLength": 1},
                _obj(
                    "All or any of the nodes.",
                    {"and": _NODE_LIST, "or": _NODE_LIST},
                    minProperties=1,
                    maxProperties=1,
                ),
            ],
        },
    },
}


def schema_json() -> str:
    """`docs/config.schema.json`, byte for byte."""
    return json.dumps(CONFIG_SCHEMA, indent=2, ensure_ascii=False) + "\n"
