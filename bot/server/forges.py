"""One worker serves every configured forge: jobs carry their forge, this picks its client and
its mirror (GitHub and GitLab fetch with different tokens and clone URLs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.model.errors import UsageError
from bot.model.job import Forge, PullRequestRef
from bot.ports import CommitLog, ForgeClient, PullRequestInfo, RepoMirror, RepoTree


@dataclass(frozen=True, slots=True)
class ForgeSetup:
    forge: ForgeClient
    mirror: RepoMirror


class ForgeRouter:
    """`forge_for` for the worker, and a RepoMirror that fetches from the PR's own forge."""

    def __init__(self, setups: Mapping[Forge, ForgeSetup]) -> None:
        self._setups = dict(setups)

    def _setup(self, forge: Forge) -> ForgeSetup:
        setup = self._setups.get(forge)
        if setup is None:
            # A job queued while the forge was configured, handled after it was removed.
            raise UsageError(
                f"a {forge.value} job, but {forge.value} is not configured for this worker",
                hint=f"set the GITOPS_BOT_{forge.value.upper()}_* variables (docs/deploy.md)",
            )
        return setup

    def forge_for(self, ref: PullRequestRef) -> ForgeClient:
        return self._setup(ref.forge).forge

    def fetch(self, pr: PullRequestInfo) -> tuple[RepoTree, RepoTree, CommitLog]:
        return self._setup(pr.ref.forge).mirror.fetch(pr)

    def merge_base(self, pr: PullRequestInfo) -> str:
        return self._setup(pr.ref.forge).mirror.merge_base(pr)
