"""Which `repoURL`s mean "this repository": the ones listed under `render.repo_urls`."""

from __future__ import annotations

import re

from bot.model.repo_config import RenderConfig

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_SCP_LIKE = re.compile(r"^(?:[^@/:]+@)?([^/:]+):(?!//)(.*)$")  # git@github.com:org/repo.git


def normalize_repo_url(url: str) -> str:
    """`https://user:token@GitHub.com/Org/Repo.git/` and `git@github.com:org/repo` both become
    `github.com/org/repo`: scheme, credentials, `.git` and trailing slashes never matter, and
    hosts and paths compare case-insensitively as Argo CD's own URL normalisation does."""
    text = url.strip()
    scheme = _SCHEME.match(text)
    if scheme:
        text = text[scheme.end() :]
        text = text.split("@", 1)[1] if "@" in text.split("/", 1)[0] else text
    else:
        scp = _SCP_LIKE.match(text)
        if scp:
            text = f"{scp.group(1)}/{scp.group(2)}"
    text = text.rstrip("/").removesuffix(".git").rstrip("/")
    return text.lower()


def is_this_repo(url: str, config: RenderConfig) -> bool:
    wanted = normalize_repo_url(url)
    return bool(wanted) and any(normalize_repo_url(u) == wanted for u in config.repo_urls)


def not_this_repo_reason(url: str, config: RenderConfig) -> str:
    reason = f"source is not this repository: {url}"
    if not config.repo_urls:
        reason += " (render.repo_urls in .gitops-bot.yaml lists this repository's URLs)"
    return reason
