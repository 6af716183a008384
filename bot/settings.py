"""Process-wide settings from GITOPS_BOT_* environment variables. The only reader of the env."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

HELM_ENV = "GITOPS_BOT_HELM"
KUSTOMIZE_ENV = "GITOPS_BOT_KUSTOMIZE"
WORK_DIR_ENV = "GITOPS_BOT_WORK_DIR"
OPA_TOKEN_ENV = "GITOPS_BOT_OPA_TOKEN"  # noqa: S105 - the name of the variable, not a secret
ALLOWED_CHART_REPOS_ENV = "GITOPS_BOT_ALLOWED_CHART_REPOS"
CHART_CACHE_ENV = "GITOPS_BOT_CHART_CACHE"


@dataclass(frozen=True, slots=True)
class ToolBinary:
    """Where a renderer binary is, and which env var lets the user point elsewhere."""

    name: str
    path: str | None  # None: not found anywhere
    env_var: str
    prefix_args: tuple[str, ...] = ()  # `kubectl` needs `kustomize` before kustomize's args


@dataclass(frozen=True, slots=True)
class Settings:
    helm: ToolBinary
    kustomize: ToolBinary
    work_dir: str | None = None
    opa_token: str = field(default="", repr=False)  # never printed
    # Remote chart repositories (HelmRepository/OCIRepository URLs, prefix match) the renderer
    # may fetch from; everything else is reported as skipped.
    allowed_chart_repos: tuple[str, ...] = ()
    chart_cache_dir: str | None = None  # content-addressed cache of fetched charts

    def tools(self) -> Mapping[str, ToolBinary]:
        return {"helm": self.helm, "kustomize": self.kustomize}


def _venv_bin(name: str) -> str | None:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None


def _resolve_helm(env: Mapping[str, str]) -> ToolBinary:
    explicit = env.get(HELM_ENV)
    path = explicit or _venv_bin("helm") or shutil.which("helm")
    return ToolBinary("helm", path, HELM_ENV)


def _kustomize_prefix(path: str) -> tuple[str, ...]:
    return ("kustomize",) if Path(path).name.startswith("kubectl") else ("build",)


def _resolve_kustomize(env: Mapping[str, str]) -> ToolBinary:
    # The pinned kubectl (kustomize v5.5.0) is installed next to the venv's python by
    # scripts/bootstrap.sh; prefer it over whatever else is on PATH.
    path = (
        env.get(KUSTOMIZE_ENV)
        or _venv_bin("kubectl")
        or shutil.which("kustomize")
        or shutil.which("kubectl")
    )
    prefix = _kustomize_prefix(path) if path else ()
    return ToolBinary("kustomize", path, KUSTOMIZE_ENV, prefix)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    source = os.environ if env is None else env
    return Settings(
        helm=_resolve_helm(source),
        kustomize=_resolve_kustomize(source),
        work_dir=source.get(WORK_DIR_ENV) or None,
        opa_token=source.get(OPA_TOKEN_ENV, ""),
        allowed_chart_repos=_split(source.get(ALLOWED_CHART_REPOS_ENV, "")),
        chart_cache_dir=source.get(CHART_CACHE_ENV) or None,
    )


def _split(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


MAX_WEBHOOK_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB


@dataclass(frozen=True, slots=True)
class GitHubAppSettings:
    app_id: str
    private_key: str = field(repr=False)
    webhook_secrets: tuple[str, ...] = field(repr=False)  # several while rotating
    api_url: str = "https://api.github.com"


@dataclass(frozen=True, slots=True)
class GitLabSettings:
    url: str  # https://gitlab.com or a self-managed instance
    token: str = field(repr=False)
    webhook_token: str = field(default="", repr=False)  # X-Gitlab-Token
    signing_token: str = field(default="", repr=False)  # Standard Webhooks signing secret


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """`gitops-bot serve` / `worker`: which forges, which queue, where mirrors live."""

    queue_url: str  # sqlite:///path or postgresql://...
    data_dir: str  # mirrors, the SQLite queue, per-job work dirs
    github: GitHubAppSettings | None = None
    gitlab: GitLabSettings | None = None
    comment_mode: str = "update"  # update | minimize-and-repost | delete-and-repost
    max_body_bytes: int = MAX_WEBHOOK_BODY_BYTES
    lease_seconds: float = 300.0
    reconcile_seconds: float = 600.0
    public_url: str = ""  # where the bot's pages are reachable (check details links)


def _github_settings(env: Mapping[str, str]) -> GitHubAppSettings | None:
    secrets = _split(env.get("GITOPS_BOT_GITHUB_WEBHOOK_SECRET", ""))
    app_id = env.get("GITOPS_BOT_GITHUB_APP_ID", "")
    key = env.get("GITOPS_BOT_GITHUB_PRIVATE_KEY", "")
    key_file = env.get("GITOPS_BOT_GITHUB_PRIVATE_KEY_FILE", "")
    if key_file and not key:
        key = Path(key_file).read_text(encoding="utf-8")
    if not (secrets or app_id or key):
        return None
    return GitHubAppSettings(
        app_id=app_id,
        private_key=key,
        webhook_secrets=secrets,
        api_url=env.get("GITOPS_BOT_GITHUB_API_URL", "https://api.github.com").rstrip("/"),
    )


def _gitlab_settings(env: Mapping[str, str]) -> GitLabSettings | None:
    webhook_token = env.get("GITOPS_BOT_GITLAB_WEBHOOK_TOKEN", "")
    signing_token = env.get("GITOPS_BOT_GITLAB_SIGNING_TOKEN", "")
    token = env.get("GITOPS_BOT_GITLAB_TOKEN", "")
    if not (webhook_token or signing_token or token):
        return None
    return GitLabSettings(
        url=env.get("GITOPS_BOT_GITLAB_URL", "https://gitlab.com").rstrip("/"),
        token=token,
        webhook_token=webhook_token,
        signing_token=signing_token,
    )


def load_server_settings(env: Mapping[str, str] | None = None) -> ServerSettings:
    source = os.environ if env is None else env
    # Resolved: a relative dir would turn sqlite:///<dir> into a path from the root.
    data_dir = str(Path(source.get("GITOPS_BOT_DATA_DIR") or ".gitops-bot").resolve())
    return ServerSettings(
        queue_url=source.get("GITOPS_BOT_QUEUE") or f"sqlite:///{data_dir}/queue.sqlite3",
        data_dir=data_dir,
        github=_github_settings(source),
        gitlab=_gitlab_settings(source),
        comment_mode=source.get("GITOPS_BOT_COMMENT_MODE", "update"),
        lease_seconds=float(source.get("GITOPS_BOT_LEASE_SECONDS", "300")),
        reconcile_seconds=float(source.get("GITOPS_BOT_RECONCILE_SECONDS", "600")),
        public_url=source.get("GITOPS_BOT_PUBLIC_URL", ""),
    )
