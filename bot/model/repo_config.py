"""`.gitops-bot.yaml`, as read from the base branch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.model.finding import Severity
from bot.model.render import HelmRelease

CONFIG_PATH = ".gitops-bot.yaml"

DEFAULT_IGNORED_LABELS = ("helm.sh/chart",)
DEFAULT_IGNORED_ANNOTATIONS = ("config.kubernetes.io/origin",)


@dataclass(frozen=True, slots=True)
class HelmReleaseConfig:
    """An explicit instantiation of a local chart, replacing the values-file convention."""

    chart: str
    release: HelmRelease


@dataclass(frozen=True, slots=True)
class RenderConfig:
    timeout_seconds: float = 120.0
    max_output_bytes: int = 64 * 1024 * 1024
    max_file_bytes: int = 2 * 1024 * 1024
    ignore: tuple[str, ...] = ()
    helm_releases: tuple[HelmReleaseConfig, ...] = ()
    # URLs that mean "this repository" in Argo CD `repoURL`s and Flux GitRepository `url`s
    # (compared without scheme, credentials, trailing slash or `.git`).
    repo_urls: tuple[str, ...] = ()
    # Fail the check when an app is skipped (remote chart not allowed, unsupported generator).
    fail_on_skipped: bool = True
    # Cluster name -> directories (Flux roots, Argo CD app folders) that deploy to it.
    cluster_paths: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DiffConfig:
    ignore_labels: tuple[str, ...] = DEFAULT_IGNORED_LABELS
    ignore_annotations: tuple[str, ...] = DEFAULT_IGNORED_ANNOTATIONS


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """A cluster the repository deploys to, and the Kubernetes version it runs."""

    name: str
    kubernetes: str  # "1.31"; "latest" is the newest bundled version
    paths: tuple[str, ...] = ()  # directories whose apps deploy to this cluster


@dataclass(frozen=True, slots=True)
class CustomSchema:
    """A JSON schema (repo path, read from the base revision) applied to matching resources.

    Matches by kind (and apiVersion when given) and/or by globs on the resource's source file;
    a rule with neither matches nothing.
    """

    schema: str
    kind: str = ""
    api_version: str = ""
    paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ValidationConfig:
    enabled: bool = True
    strict: bool = True  # unknown fields are errors, as `kubectl apply --validate=strict`
    missing_schema: Severity | None = Severity.WARNING  # None: do not report
    schema_dirs: tuple[str, ...] = ()  # <group>/<kind>_<version>.json, as the CRDs catalogues
    custom_schemas: tuple[CustomSchema, ...] = ()
    max_errors_per_resource: int = 20


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    """Rego policies: the repository's own (conftest layout) and the built-in library."""

    enabled: bool = True
    paths: tuple[str, ...] = ("policy",)  # conftest's default directory
    namespaces: tuple[str, ...] = ("main",)
    all_namespaces: bool = False
    combine: bool = False
    data: tuple[str, ...] = ()  # YAML/JSON files or directories merged into `data`
    rego_v0: tuple[str, ...] = ()  # directories whose modules are Rego v0
    change_namespace: str = "change"  # gets {base, head, change} per changed resource
    budget_seconds: float = 10.0
    builtin: bool = True
    builtin_disabled: tuple[str, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)
    opa_url: str = ""


@dataclass(frozen=True, slots=True)
class SignatureConfig:
    """Which commits must be signed, and by whom (files read from the base revision)."""

    require: str = "none"  # "all" | "none" | "paths"
    required_paths: tuple[str, ...] = ()  # with require: paths, globs of changed files
    ssh_allowed_signers: str = ".gitops-bot/allowed_signers"
    gpg_keys: str = ".gitops-bot/trusted-keys.asc"
    gpg_fingerprints: tuple[str, ...] = ()  # allow-list; empty: every key in gpg_keys
    x509_roots: str = ".gitops-bot/x509-roots.pem"
    sigstore_issuers: tuple[str, ...] = ()  # gitsign: OIDC issuers accepted (empty: any)
    identity: str = "committer"  # "committer" | "author" | "any"
    forge_commits: str = "allow"  # "allow" | "deny": merges/squashes made by the forge's UI
    people: Mapping[str, str] = field(default_factory=dict)  # signer identity -> person/team


@dataclass(frozen=True, slots=True)
class RepoConfig:
    """Everything the repository says about how it wants to be reviewed."""

    fail_on: Severity | None = Severity.ERROR  # None: never fail
    render: RenderConfig = field(default_factory=RenderConfig)
    diff: DiffConfig = field(default_factory=DiffConfig)
    clusters: tuple[ClusterConfig, ...] = ()  # none: validate against the newest version
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    policies: PolicyConfig = field(default_factory=PolicyConfig)
    signatures: SignatureConfig = field(default_factory=SignatureConfig)
