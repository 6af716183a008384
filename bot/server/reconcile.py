"""The reconciler: GitHub never redelivers a failed webhook, so every open pull request whose
head SHA has no published result gets a REVIEW job, one per head SHA (dedupe by delivery id)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.model.job import Forge, Job, JobAction, PullRequestRef
from bot.ports import ForgeClient, JobQueue
from bot.server.scrub import scrub

log = logging.getLogger("gitops_bot.server.reconcile")


@dataclass(frozen=True, slots=True, order=True)
class Repository:
    forge: Forge
    name: str
    installation: str = ""


class KnownRepositories:
    """Repositories seen in jobs by this process (thread-safe)."""

    def __init__(self, initial: Iterable[Repository] = ()) -> None:
        self._items = set(initial)
        self._lock = threading.Lock()

    def add(self, ref: PullRequestRef) -> None:
        with self._lock:
            self._items.add(Repository(ref.forge, ref.repo, ref.installation))

    def __call__(self) -> list[Repository]:
        with self._lock:
            return sorted(self._items)


def remembered_repositories(queue: JobQueue) -> KnownRepositories:
    """Every repository the queue ever had a job for: after a restart the reconciler still
    knows where to look. GitHub repositories seen without an installation are left out: no
    token could list their pull requests."""
    return KnownRepositories(
        Repository(ref.forge, ref.repo, ref.installation)
        for ref in queue.repositories()
        if ref.forge is not Forge.GITHUB or ref.installation
    )


def reconcile(
    queue: JobQueue,
    forge_for: Callable[[PullRequestRef], ForgeClient],
    repositories: Iterable[Repository],
    *,
    clock: Callable[[], float] = time.time,
) -> int:
    """Enqueue a REVIEW for each open PR head without a result; returns how many were new.

    One repository failing (permissions revoked, rate limit) does not stop the others."""
    enqueued = 0
    for repo in repositories:
        probe = PullRequestRef(repo.forge, repo.name, 0, repo.installation)
        try:
            pulls = forge_for(probe).open_pull_requests(repo.name, repo.installation)
        except Exception as error:  # logged; the next pass tries again
            log.warning("reconcile %s: %s", repo.name, scrub(str(error)))
            continue
        for pr in pulls:
            if pr.state != "open" or queue.has_result(pr.ref, pr.head_sha):
                continue
            job = Job(
                delivery_id=f"reconcile:{pr.ref.key}:{pr.head_sha}",
                pull_request=pr.ref,
                action=JobAction.REVIEW,
                event="reconcile",
                head_sha=pr.head_sha,
                received_at=clock(),
            )
            if queue.enqueue(job):
                enqueued += 1
    return enqueued
