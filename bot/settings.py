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
    )
