"""A branch refresh job (a `Push Hook`, see bot/core/webhooks/gitlab.py) fanned out into one
REVIEW job per open merge request whose source branch was pushed and whose head is the pushed
SHA. The MR's own `update` hook usually asks for the same review: both jobs share the MR's lane
and head SHA, so the queue coalesces them or the second finds the result already published.

The worker calls it for a GitLab job whose number is negative (JobHandler: `Outcome.PUBLISHED`
when jobs were queued, else `Outcome.IGNORED`).
"""

from __future__ import annotations

from dataclasses import replace

from bot.core.webhooks.gitlab import push_target
from bot.engines.gitlab_forge import GitLabForge
from bot.model.job import Forge, Job, JobAction
from bot.ports import ForgeClient, JobQueue


def refresh_branch(job: Job, forge: ForgeClient, queue: JobQueue) -> list[Job]:
    """The REVIEW jobs queued for the pushed branch (none when no open MR has that head)."""
    target = push_target(job.body)
    if job.pull_request.forge is not Forge.GITLAB or target is None:
        return []
    if isinstance(forge, GitLabForge):  # one filtered list instead of every open MR
        candidates = forge.open_merge_requests(target.project, source_branch=target.branch)
    else:
        candidates = forge.open_pull_requests(target.project, "")
    queued = []
    for pr in candidates:
        if pr.head_ref != target.branch or pr.head_sha != target.head_sha:
            continue  # another branch, or the branch moved on (its own push refreshes it)
        if queue.has_result(pr.ref, pr.head_sha):
            continue
        review = replace(
            job,
            delivery_id=f"{job.delivery_id}#{pr.ref.number}",
            pull_request=pr.ref,
            action=JobAction.REVIEW,
            head_sha=pr.head_sha,
        )
        if queue.enqueue(review):
            queued.append(review)
    return queued
