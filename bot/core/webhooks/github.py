"""GitHub App deliveries routed to Jobs. Never raises: a payload that lacks what routing needs is
Ignored with a reason (older payload shapes lack `installation`; that alone is tolerated).

Merge queues: a `merge_group` has no pull request of its own, yet the bot's required checks must
report on its head commit. It is modelled as a job on pull request number `-N`, N being the PR
that the group's head ref names (`gh-readonly-queue/<base>/pr-<N>-<sha>`): every group gets its
own lane (groups are cumulative; superseding one by the next would leave the first without a
check and fail the queue), and it never collides with the real PR #N. The worker reads the
group's base from the raw body (`merge_group_target`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.webhooks.routing import (
    MAX_NUMBER,
    Ignored,
    Routed,
    field,
    login,
    objects,
    positive_int,
    repo_name,
    sha,
    text,
)
from bot.model.job import Forge, Job, JobAction, PullRequestRef

REVIEW_ACTIONS = frozenset({"opened", "synchronize", "reopened", "ready_for_review"})
REVIEW_EVENTS = frozenset({"submitted", "edited", "dismissed"})
COMMANDS = {"/gitops-bot review": JobAction.REVIEW, "/gitops-bot explain": JobAction.EXPLAIN}
MAX_COMMENT_CHARS = 65_536
_ACTION = re.compile(r"[a-z_]{1,40}")
_GROUP_PR = re.compile(r"/pr-(\d{1,10})-[0-9a-f]+$")


@dataclass(frozen=True, slots=True)
class _Delivery:
    event: str
    delivery_id: str
    payload: Mapping[str, Any]
    received_at: float
    body: bytes

    @property
    def action(self) -> str:
        value = text(self.payload, "action", limit=40)
        return value if value is not None and _ACTION.fullmatch(value) else "unknown"

    def ref(self, number: int) -> PullRequestRef | Ignored:
        repo = repo_name(self.payload, "repository", "full_name")
        if repo is None:
            return Ignored(f"{self.event}: no usable repository.full_name")
        installation = positive_int(self.payload, "installation", "id")
        return PullRequestRef(Forge.GITHUB, repo, number, str(installation or ""))

    def job(
        self,
        ref: PullRequestRef,
        action: JobAction,
        head_sha: str = "",
        requested_by: str = "",
        suffix: str = "",
    ) -> Job:
        return Job(
            delivery_id=self.delivery_id + suffix,
            pull_request=ref,
            action=action,
            event=f"{self.event}.{self.action}",
            head_sha=head_sha,
            requested_by=requested_by,
            body=self.body,
            received_at=self.received_at,
        )


def _pull_request(d: _Delivery) -> Routed:
    action = d.action
    if action == "closed":
        job_action = JobAction.CANCEL
    elif action in REVIEW_ACTIONS or (
        action == "edited" and isinstance(field(d.payload, "changes", "base"), Mapping)
    ):
        job_action = JobAction.REVIEW
    else:
        return Ignored(f"pull_request.{action} does not change what is reviewed")
    number = positive_int(d.payload, "pull_request", "number") or positive_int(d.payload, "number")
    if number is None:
        return Ignored(f"pull_request.{action}: no usable pull request number")
    head = sha(d.payload, "pull_request", "head", "sha")
    if head is None and job_action is JobAction.REVIEW:
        return Ignored(f"pull_request.{action}: no usable pull_request.head.sha")
    ref = d.ref(number)
    return ref if isinstance(ref, Ignored) else [d.job(ref, job_action, head or "")]


def _review(d: _Delivery) -> Routed:
    if d.action not in REVIEW_EVENTS:
        return Ignored(f"pull_request_review.{d.action} does not change approval")
    number = positive_int(d.payload, "pull_request", "number")
    head = sha(d.payload, "pull_request", "head", "sha")
    if number is None or head is None:
        return Ignored("pull_request_review: no usable pull_request.number / head.sha")
    ref = d.ref(number)
    return ref if isinstance(ref, Ignored) else [d.job(ref, JobAction.APPROVAL, head)]


def _rerequested(d: _Delivery) -> Routed:
    """check_run / check_suite `rerequested`: the user pressed "Re-run" on one of our checks."""
    if d.action != "rerequested":
        return Ignored(f"{d.event}.{d.action}: only rerequested asks the bot for work")
    head = sha(d.payload, d.event, "head_sha")
    pulls = objects(d.payload, d.event, "pull_requests")
    numbers = sorted({n for p in pulls if (n := positive_int(p, "number")) is not None})
    if head is None or not numbers:
        # GitHub leaves pull_requests empty for pull requests from forks.
        return Ignored(
            f"{d.event}.rerequested: no pull request or head SHA listed "
            "(fork PRs: comment `/gitops-bot review` instead)"
        )
    jobs: list[Job] = []
    for number in numbers:
        ref = d.ref(number)
        if isinstance(ref, Ignored):
            return ref
        # One delivery, several jobs: suffix the id per PR so dedupe still works.
        jobs.append(d.job(ref, JobAction.REVIEW, head, suffix=f"#{number}"))
    return jobs


def _comment(d: _Delivery) -> Routed:
    if d.action != "created":
        return Ignored(f"issue_comment.{d.action}: only new comments carry commands")
    if not isinstance(field(d.payload, "issue", "pull_request"), Mapping):
        return Ignored("issue_comment on an issue, not a pull request")
    body = text(d.payload, "comment", "body", limit=MAX_COMMENT_CHARS) or ""
    first = next((line.strip() for line in body.splitlines() if line.strip()), "")
    action = COMMANDS.get(" ".join(first.split()).lower())
    if action is None:
        return Ignored("issue_comment without a /gitops-bot command")
    user = login(d.payload, "comment", "user", "login")
    if (
        user is None
        or user.endswith("[bot]")
        or text(d.payload, "comment", "user", "type") == "Bot"
    ):
        return Ignored("issue_comment command from a bot or an unknown user")
    number = positive_int(d.payload, "issue", "number")
    if number is None:
        return Ignored("issue_comment: no usable issue.number")
    ref = d.ref(number)
    # The commenter's write permission is checked by the worker: only the forge knows it.
    return ref if isinstance(ref, Ignored) else [d.job(ref, action, requested_by=user)]


def _group_number(head_ref: str, head_sha: str) -> int:
    match = _GROUP_PR.search(head_ref)
    if match and 0 < int(match.group(1)) <= MAX_NUMBER:
        return -int(match.group(1))
    # An unknown head ref layout still gets a lane of its own (derived from its SHA).
    return -(int(head_sha[:12], 16) % MAX_NUMBER + 1)


def _merge_group(d: _Delivery) -> Routed:
    if d.action not in ("checks_requested", "destroyed"):
        return Ignored(f"merge_group.{d.action} asks for no work")
    head = sha(d.payload, "merge_group", "head_sha")
    head_ref = text(d.payload, "merge_group", "head_ref") or ""
    if head is None or sha(d.payload, "merge_group", "base_sha") is None:
        return Ignored("merge_group: no usable head_sha / base_sha")
    ref = d.ref(_group_number(head_ref, head))
    if isinstance(ref, Ignored):
        return ref
    action = JobAction.REVIEW if d.action == "checks_requested" else JobAction.CANCEL
    return [d.job(ref, action, head)]


@dataclass(frozen=True, slots=True)
class MergeGroupTarget:
    head_sha: str
    head_ref: str
    base_sha: str
    base_ref: str


def merge_group_target(body: bytes) -> MergeGroupTarget | None:
    """The base and head of a merge group, from the delivery's raw JSON body."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return None
    head, base = sha(payload, "merge_group", "head_sha"), sha(payload, "merge_group", "base_sha")
    if head is None or base is None:
        return None
    return MergeGroupTarget(
        head_sha=head,
        head_ref=(text(payload, "merge_group", "head_ref") or "").removeprefix("refs/heads/"),
        base_sha=base,
        base_ref=(text(payload, "merge_group", "base_ref") or "").removeprefix("refs/heads/"),
    )


_ROUTES = {
    "pull_request": _pull_request,
    "pull_request_review": _review,
    "check_run": _rerequested,
    "check_suite": _rerequested,
    "issue_comment": _comment,
    "merge_group": _merge_group,
}


def route_github(
    event: str, delivery_id: str, payload: Any, received_at: float, body: bytes
) -> Routed:
    """The jobs one delivery asks for (possibly several), or why it asks for none."""
    if event == "ping":
        return Ignored("pong")
    if event in ("installation", "installation_repositories"):
        return Ignored(f"{event}: noted; the reconciler picks up the repositories on its next pass")
    route = _ROUTES.get(event)
    if route is None:
        return Ignored(f"event {event[:40]!r} is not used by gitops-bot")
    if not isinstance(payload, Mapping):
        return Ignored(f"{event}: payload is not an object")
    return route(_Delivery(event, delivery_id, payload, received_at, body))
