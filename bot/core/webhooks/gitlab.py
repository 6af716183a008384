"""GitLab webhook deliveries routed to Jobs. Never raises: a payload that lacks what routing needs
is Ignored with a reason, and the view still answers 2xx (GitLab disables a hook after four
failures in a row).

What each event asks for:
- `Merge Request Hook`: open/reopen, update with `oldrev` (new commits), a new target branch or
  "marked ready" → REVIEW; a label change → APPROVAL (rules may look at labels);
  approval/approved/unapproval/unapproved → APPROVAL; close/merge → CANCEL.
- `Note Hook` on a merge request: `/gitops-bot review` or `/gitops-bot explain` as the first line
  → REVIEW/EXPLAIN, `requested_by` the note's author (the worker checks Developer+).
- `Push Hook` to a branch → a branch refresh job (see below).
- `System Hook`: routed by `object_kind` like the project events above.

Branch refresh: a push names a branch, not a merge request, and only the forge knows which open
MRs have it as source branch. It becomes one REVIEW job on a lane of its own:
`PullRequestRef(GITLAB, project, number=-N)`, N derived from the branch name (negative numbers
are never MR iids, so the lane never coalesces with a real MR; distinct branches get distinct
lanes, so a push to one branch never supersedes the refresh of another). `event` is "push" and
`head_sha` the pushed SHA; the worker reads the branch with `push_target(job.body)` and reviews
each open MR whose source branch it is and whose head is that SHA.

Approvals carry no commit SHA on GitLab. `approval_binding(payload)` says who approved (or
withdrew) at which head SHA, as the event reported it on arrival; the web view records it before
queueing (bot/engines/gitlab_approvals.py) because coalescing may skip the job itself.
"""

from __future__ import annotations

import hashlib
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
    positive_int,
    sha,
    text,
)
from bot.model.job import Forge, Job, JobAction, PullRequestRef

COMMANDS = {"/gitops-bot review": JobAction.REVIEW, "/gitops-bot explain": JobAction.EXPLAIN}
MAX_NOTE_CHARS = 1_000_000  # GitLab's own limit for a note body
APPROVAL_ACTIONS = frozenset({"approval", "approved", "unapproval", "unapproved"})
APPROVING = frozenset({"approval", "approved"})
# Nested groups: group/sub/project. GitLab paths start with a letter, digit or `_`, then also
# allow `-` and `.`; anything else (and `..`) never reaches a URL or a mirror path.
_PROJECT = re.compile(
    r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}(?:/[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}){1,20}"
)
_USERNAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}")
# Project and group access tokens act as bot users named project_<id>_bot_<hash> / group_…
_TOKEN_BOT = re.compile(r"(?:project|group)_\d+_bot(?:_[0-9a-f]+)?")
_ACTION = re.compile(r"[a-z_]{1,40}")
_ZERO_SHA = re.compile(r"0{40}(?:0{24})?")
MAX_PROJECT_CHARS = 1024
MAX_BRANCH_CHARS = 255


def project_path(payload: Any, *path: str) -> str | None:
    value = text(payload, *path, limit=MAX_PROJECT_CHARS)
    return value if value is not None and _PROJECT.fullmatch(value) else None


def username(payload: Any, *path: str) -> str | None:
    value = text(payload, *path, limit=255)
    return value if value is not None and _USERNAME.fullmatch(value) else None


def _action(payload: Any) -> str | None:
    value = text(payload, "object_attributes", "action", limit=40)
    return value if value is not None and _ACTION.fullmatch(value) else None


@dataclass(frozen=True, slots=True)
class _Delivery:
    kind: str  # object_kind: merge_request, note, push
    delivery_id: str
    payload: Mapping[str, Any]
    received_at: float
    body: bytes

    def project(self) -> str | Ignored:
        project = project_path(self.payload, "project", "path_with_namespace") or project_path(
            self.payload, "object_attributes", "target", "path_with_namespace"
        )
        return project or Ignored(f"{self.kind}: no usable project.path_with_namespace")

    def ref(self, holder: str) -> PullRequestRef | Ignored:
        """The MR whose iid is at `holder`.iid (object_attributes, or merge_request of a note)."""
        iid = positive_int(self.payload, holder, "iid")
        if iid is None:
            return Ignored(f"{self.kind}: no usable {holder}.iid")
        project = self.project()
        return (
            project if isinstance(project, Ignored) else PullRequestRef(Forge.GITLAB, project, iid)
        )

    def job(
        self, ref: PullRequestRef, action: JobAction, event: str, head: str = "", by: str = ""
    ) -> Job:
        return Job(
            delivery_id=self.delivery_id,
            pull_request=ref,
            action=action,
            event=event,
            head_sha=head,
            requested_by=by,
            body=self.body,
            received_at=self.received_at,
        )


def _changed(payload: Any, name: str) -> Mapping[str, Any] | None:
    value = field(payload, "changes", name)
    return value if isinstance(value, Mapping) else None


def _update_action(payload: Any) -> JobAction | str:
    """What an `update` changes: new commits, the target branch or draft state → REVIEW;
    labels → APPROVAL; anything else (title, assignees, reviewers…) is the reason to ignore."""
    if sha(payload, "object_attributes", "oldrev") is not None:
        return JobAction.REVIEW
    if _changed(payload, "target_branch") is not None:
        return JobAction.REVIEW
    for draft in ("draft", "work_in_progress"):
        change = _changed(payload, draft)
        if change is not None and change.get("current") is False:
            return JobAction.REVIEW
    if _changed(payload, "labels") is not None:
        return JobAction.APPROVAL
    return "update changes neither commits, target branch, draft state nor labels"


def _mr_action(payload: Any, action: str) -> JobAction | Ignored:
    if action in ("close", "merge"):
        return JobAction.CANCEL
    if action in ("open", "reopen"):
        return JobAction.REVIEW
    if action in APPROVAL_ACTIONS:
        return JobAction.APPROVAL
    if action != "update":
        return Ignored(f"merge_request.{action} does not change what is reviewed")
    state = text(payload, "object_attributes", "state", limit=40)
    if state not in (None, "opened"):
        return Ignored(f"merge_request.update on a {state} merge request")
    update = _update_action(payload)
    return update if isinstance(update, JobAction) else Ignored(f"merge_request.update: {update}")


def _merge_request(d: _Delivery) -> Routed:
    action = _action(d.payload)
    if action is None:
        return Ignored("merge_request: no usable object_attributes.action")
    job_action = _mr_action(d.payload, action)
    if isinstance(job_action, Ignored):
        return job_action
    head = sha(d.payload, "object_attributes", "last_commit", "id")
    if head is None and job_action is not JobAction.CANCEL:
        return Ignored(f"merge_request.{action}: no usable object_attributes.last_commit.id")
    ref = d.ref("object_attributes")
    if isinstance(ref, Ignored):
        return ref
    return [d.job(ref, job_action, f"merge_request.{action}", head or "")]


def _command(note: str) -> JobAction | None:
    first = next((line.strip() for line in note.splitlines() if line.strip()), "")
    return COMMANDS.get(" ".join(first.split()).lower())


def _note_command(payload: Any) -> JobAction | Ignored:
    kind = text(payload, "object_attributes", "noteable_type", limit=40)
    if kind != "MergeRequest":
        return Ignored(f"note on {kind or 'an unknown object'}, not a merge request")
    action = _action(payload) or "create"  # older GitLab sends no action on notes
    if action != "create":
        return Ignored(f"note.{action}: only new notes carry commands")
    if field(payload, "object_attributes", "system") is True:
        return Ignored("system note")
    command = _command(text(payload, "object_attributes", "note", limit=MAX_NOTE_CHARS) or "")
    return Ignored("note without a /gitops-bot command") if command is None else command


def _note(d: _Delivery) -> Routed:
    command = _note_command(d.payload)
    if isinstance(command, Ignored):
        return command
    user = username(d.payload, "user", "username")
    if user is None or _TOKEN_BOT.match(user):
        return Ignored("note command from a bot or an unknown user")
    ref = d.ref("merge_request")
    if isinstance(ref, Ignored):
        return ref
    # Developer+ is checked by the worker: only the forge knows the member's access level.
    return [d.job(ref, command, "note.create", by=user)]


def branch_lane(branch: str) -> int:
    """The (negative) PullRequestRef number of a branch refresh: stable per branch name."""
    digest = int.from_bytes(hashlib.sha256(branch.encode()).digest()[:8], "big")
    return -(digest % MAX_NUMBER + 1)


def _branch(payload: Any) -> str | None:
    ref = text(payload, "ref", limit=MAX_BRANCH_CHARS + 11)
    if ref is None or not ref.startswith("refs/heads/") or len(ref) == 11:
        return None
    return ref.removeprefix("refs/heads/")


def _push(d: _Delivery) -> Routed:
    branch = _branch(d.payload)
    if branch is None:
        return Ignored("push: not a branch (refs/heads/…)")
    after, before = sha(d.payload, "after"), sha(d.payload, "before")
    if after is None or _ZERO_SHA.fullmatch(after):
        return Ignored("push: the branch was deleted (or no usable `after`)")
    if before is not None and _ZERO_SHA.fullmatch(before):
        return Ignored("push: a new branch has no merge request yet")
    project = d.project()
    if isinstance(project, Ignored):
        return project
    ref = PullRequestRef(Forge.GITLAB, project, branch_lane(branch))
    return [d.job(ref, JobAction.REVIEW, "push", after)]


@dataclass(frozen=True, slots=True)
class PushTarget:
    project: str
    branch: str
    head_sha: str


def push_target(body: bytes) -> PushTarget | None:
    """The project, branch and pushed SHA of a branch refresh job, from its raw body."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return None
    branch, after = _branch(payload), sha(payload, "after")
    project = project_path(payload, "project", "path_with_namespace")
    if branch is None or after is None or project is None:
        return None
    return PushTarget(project, branch, after)


@dataclass(frozen=True, slots=True)
class ApprovalBinding:
    """`user` approved (`approved` True) or withdrew their approval of MR `iid` while its head
    was `head_sha`."""

    project: str
    iid: int
    user: str
    head_sha: str
    approved: bool


def approval_binding(payload: Any) -> ApprovalBinding | None:
    """The binding an approval event carries; None for other events, for system-initiated
    resets (the actor is not an approver) and for payloads that lack a field."""
    if text(payload, "object_kind", limit=40) != "merge_request":
        return None
    action = _action(payload)
    if action not in APPROVAL_ACTIONS or field(payload, "object_attributes", "system") is True:
        return None
    project = project_path(payload, "project", "path_with_namespace")
    iid = positive_int(payload, "object_attributes", "iid")
    user = username(payload, "user", "username")
    head = sha(payload, "object_attributes", "last_commit", "id")
    if project is None or iid is None or user is None or head is None:
        return None
    return ApprovalBinding(project, iid, user, head, approved=action in APPROVING)


_ROUTES = {"merge_request": _merge_request, "note": _note, "push": _push}
_HEADERS = {
    "Merge Request Hook": "merge_request",
    "Note Hook": "note",
    "Confidential Note Hook": "note",  # internal notes: only members can write them
    "Push Hook": "push",
}


def route_gitlab(
    event_header: str, delivery_id: str, payload: Any, received_at: float, body: bytes
) -> Routed:
    """The job one delivery asks for, or why it asks for none. `event_header` is X-Gitlab-Event."""
    if not isinstance(payload, Mapping):
        return Ignored(f"{event_header[:40]!r}: payload is not an object")
    kind = text(payload, "object_kind", limit=40)
    if event_header == "System Hook":
        expected = kind if kind in _ROUTES else None
    else:
        expected = _HEADERS.get(event_header)
    if expected is None:
        return Ignored(f"event {event_header[:40]!r} is not used by gitops-bot")
    if kind != expected:
        return Ignored(f"{event_header}: object_kind {kind!r} does not match the event")
    return _ROUTES[expected](_Delivery(expected, delivery_id, payload, received_at, body))
