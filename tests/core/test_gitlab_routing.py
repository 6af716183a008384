"""route_gitlab over every GitLab webhook fixture, the approval binding and the push target."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bot.core.webhooks.gitlab import (
    ApprovalBinding,
    PushTarget,
    approval_binding,
    branch_lane,
    push_target,
    route_gitlab,
)
from bot.core.webhooks.routing import Ignored
from bot.model.job import Forge, Job, JobAction, PullRequestRef

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "gitlab"
MR_HEAD = "e59094b8de0f2f91abbe4760a52d9137260252d8"  # webhook-merge-request-hook.json
DIASPORA_HEAD = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"  # push.json / webhook-push-hook.json

# go-gitlab's payloads carry no headers: the X-Gitlab-Event GitLab sends with each kind.
HEADERS = {
    "build.json": "Job Hook",
    "deployment.json": "Deployment Hook",
    "feature_flag.json": "Feature Flag Hook",
    "group_merge_request.json": "Merge Request Hook",
    "issue.json": "Issue Hook",
    "job.json": "Job Hook",
    "member.json": "Member Hook",
    "merge_request.json": "Merge Request Hook",
    "note_commit.json": "Note Hook",
    "note_issue.json": "Note Hook",
    "note_merge_request.json": "Note Hook",
    "note_snippet.json": "Note Hook",
    "pipeline.json": "Pipeline Hook",
    "push.json": "Push Hook",
    "release.json": "Release Hook",
    "resource_access_token_group.json": "Resource Access Token Hook",
    "resource_access_token_project.json": "Resource Access Token Hook",
    "service_merge_request.json": "Merge Request Hook",
    "subgroup.json": "Subgroup Hook",
    "tag_push.json": "Tag Push Hook",
    "wiki_page.json": "Wiki Page Hook",
}

# file → (project, number, action, event, head) for a job, or the Ignored reason.
EXPECTED: dict[str, tuple[str, int, JobAction, str, str] | str] = {
    "webhooks/build.json": "event 'Job Hook' is not used by gitops-bot",
    "webhooks/deployment.json": "event 'Deployment Hook' is not used by gitops-bot",
    "webhooks/feature_flag.json": "event 'Feature Flag Hook' is not used by gitops-bot",
    # An old group-hook shape without iid or last_commit: nothing to address.
    "webhooks/group_merge_request.json": "merge_request: no usable object_attributes.iid",
    "webhooks/issue.json": "event 'Issue Hook' is not used by gitops-bot",
    "webhooks/job.json": "event 'Job Hook' is not used by gitops-bot",
    "webhooks/member.json": "event 'Member Hook' is not used by gitops-bot",
    "webhooks/merge_request.json": (
        "gitlabhq/gitlab-test",
        1,
        JobAction.REVIEW,
        "merge_request.open",
        DIASPORA_HEAD,
    ),
    "webhooks/note_commit.json": "note on Commit, not a merge request",
    "webhooks/note_issue.json": "note on Issue, not a merge request",
    "webhooks/note_merge_request.json": "note without a /gitops-bot command",
    "webhooks/note_snippet.json": "note on Snippet, not a merge request",
    "webhooks/pipeline.json": "event 'Pipeline Hook' is not used by gitops-bot",
    "webhooks/push.json": (
        "mike/diaspora",
        branch_lane("master"),
        JobAction.REVIEW,
        "push",
        DIASPORA_HEAD,
    ),
    "webhooks/release.json": "event 'Release Hook' is not used by gitops-bot",
    "webhooks/resource_access_token_group.json": "event 'Resource Access Token Hook' is not used by gitops-bot",
    "webhooks/resource_access_token_project.json": "event 'Resource Access Token Hook' is not used by gitops-bot",
    "webhooks/service_merge_request.json": (
        "test/woodpecker",
        2,
        JobAction.REVIEW,
        "merge_request.update",
        "0ab96a10266b95b4b533dcfd98738015fbe70889",
    ),
    "webhooks/subgroup.json": "event 'Subgroup Hook' is not used by gitops-bot",
    "webhooks/tag_push.json": "event 'Tag Push Hook' is not used by gitops-bot",
    "webhooks/wiki_page.json": "event 'Wiki Page Hook' is not used by gitops-bot",
    "docs-examples/webhook-merge-request-hook.json": (
        "flightjs/flight-management",
        16,
        JobAction.REVIEW,
        "merge_request.open",
        MR_HEAD,
    ),
    # The docs' partial payloads lack what addressing an MR needs: ignored, never a crash.
    "docs-examples/webhook-merge-request-hook-partial-rerequest-review.json": (
        "merge_request.update: update changes neither commits, target branch, draft state nor labels"
    ),
    "docs-examples/webhook-merge-request-hook-partial-system-unapproved.json": (
        "merge_request.unapproved: no usable object_attributes.last_commit.id"
    ),
    "docs-examples/webhook-merge-request-hook-partial-update-oldrev.json": (
        "merge_request.update: no usable object_attributes.last_commit.id"
    ),
    "docs-examples/webhook-note-hook-commit.json": "note on Commit, not a merge request",
    "docs-examples/webhook-note-hook-merge-request.json": "note without a /gitops-bot command",
    "docs-examples/webhook-pipeline-hook.json": "event 'Pipeline Hook' is not used by gitops-bot",
    "docs-examples/webhook-push-hook.json": (
        "mike/diaspora",
        branch_lane("master"),
        JobAction.REVIEW,
        "push",
        DIASPORA_HEAD,
    ),
}


def _header(name: str) -> str:
    if name.startswith("webhooks/"):
        return HEADERS[name.removeprefix("webhooks/")]
    index = json.loads((FIXTURES / "docs-examples" / "INDEX.json").read_text())
    return str(index[name.removeprefix("docs-examples/")]["headers"]["X-Gitlab-Event"])


def _route(header: str, payload: Any, body: bytes | None = None) -> list[Job] | Ignored:
    raw = json.dumps(payload).encode() if body is None else body
    return route_gitlab(header, "gitlab:d-1", payload, 1700000000.0, raw)


def test_every_fixture_payload_has_an_expectation() -> None:
    found = {f"webhooks/{p.name}" for p in (FIXTURES / "webhooks").glob("*.json")}
    found |= {
        f"docs-examples/{p.name}" for p in (FIXTURES / "docs-examples").glob("webhook-*.json")
    }
    assert found == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=sorted(EXPECTED))
def test_fixture_payloads(name: str) -> None:
    body = (FIXTURES / name).read_bytes()
    routed = _route(_header(name), json.loads(body), body)
    expected = EXPECTED[name]
    if isinstance(expected, str):
        assert routed == Ignored(expected)
        return
    project, number, action, event, head = expected
    assert routed == [
        Job(
            delivery_id="gitlab:d-1",
            pull_request=PullRequestRef(Forge.GITLAB, project, number),
            action=action,
            event=event,
            head_sha=head,
            body=body,
            received_at=1700000000.0,
        )
    ]


def _mr(action: str, **attributes: Any) -> dict[str, Any]:
    payload = json.loads(
        (FIXTURES / "docs-examples" / "webhook-merge-request-hook.json").read_text()
    )
    payload["object_attributes"].update(action=action, **attributes)
    return dict(payload)


def _with_changes(action: str, changes: dict[str, Any], **attributes: Any) -> dict[str, Any]:
    payload = _mr(action, **attributes)
    payload["changes"] = changes
    return payload


MR_CASES: dict[str, tuple[dict[str, Any], JobAction | str]] = {
    "open": (_mr("open"), JobAction.REVIEW),
    "reopen": (_mr("reopen"), JobAction.REVIEW),
    "update with new commits": (_mr("update", oldrev="a" * 40), JobAction.REVIEW),
    "update of the target branch": (
        _with_changes("update", {"target_branch": {"previous": "main", "current": "release"}}),
        JobAction.REVIEW,
    ),
    "marked ready": (
        _with_changes("update", {"draft": {"previous": True, "current": False}}),
        JobAction.REVIEW,
    ),
    "marked draft": (
        _with_changes("update", {"draft": {"previous": False, "current": True}}),
        "merge_request.update: update changes neither commits, target branch, draft state nor labels",
    ),
    "labels changed": (
        _with_changes("update", {"labels": {"previous": [], "current": [{"title": "x"}]}}),
        JobAction.APPROVAL,
    ),
    "title changed": (
        _with_changes("update", {"title": {"previous": "a", "current": "b"}}),
        "merge_request.update: update changes neither commits, target branch, draft state nor labels",
    ),
    "update of a closed MR": (
        _mr("update", oldrev="a" * 40, state="closed"),
        "merge_request.update on a closed merge request",
    ),
    "approved": (_mr("approved"), JobAction.APPROVAL),
    "approval": (_mr("approval"), JobAction.APPROVAL),
    "unapproved": (_mr("unapproved"), JobAction.APPROVAL),
    "unapproval": (_mr("unapproval"), JobAction.APPROVAL),
    "close": (_mr("close"), JobAction.CANCEL),
    "merge": (_mr("merge"), JobAction.CANCEL),
    "an unknown action": (
        _mr("teleport"),
        "merge_request.teleport does not change what is reviewed",
    ),
    "an action that is not a word": (
        _mr("<script>"),
        "merge_request: no usable object_attributes.action",
    ),
}


@pytest.mark.parametrize("case", sorted(MR_CASES), ids=sorted(MR_CASES))
def test_merge_request_actions(case: str) -> None:
    payload, expected = MR_CASES[case]
    routed = _route("Merge Request Hook", payload)
    if not isinstance(expected, JobAction):  # JobAction is a str too: test it first
        assert routed == Ignored(expected)
        return
    assert isinstance(routed, list)
    (job,) = routed
    assert (job.pull_request, job.action, job.head_sha, job.requested_by) == (
        PullRequestRef(Forge.GITLAB, "flightjs/flight-management", 16),
        expected,
        MR_HEAD,
        "",
    )
    assert job.event == f"merge_request.{payload['object_attributes']['action']}"


def test_a_cancel_needs_no_head_sha() -> None:
    payload = _mr("close")
    del payload["object_attributes"]["last_commit"]
    routed = _route("Merge Request Hook", payload)
    assert (
        isinstance(routed, list)
        and routed[0].action is JobAction.CANCEL
        and routed[0].head_sha == ""
    )


def _note(body: str, username: str = "root", **attributes: Any) -> dict[str, Any]:
    payload = json.loads((FIXTURES / "webhooks" / "note_merge_request.json").read_text())
    payload["object_attributes"].update(note=body, **attributes)
    payload["user"]["username"] = username
    return dict(payload)


NOTE_CASES: dict[str, tuple[dict[str, Any], JobAction | str]] = {
    "review": (_note("/gitops-bot review"), JobAction.REVIEW),
    "explain after blank lines, odd case and spacing": (
        _note("\n\n  /GitOps-Bot   Explain \nthanks"),
        JobAction.EXPLAIN,
    ),
    "command not on the first line": (
        _note("hello\n/gitops-bot review"),
        "note without a /gitops-bot command",
    ),
    "unknown subcommand": (_note("/gitops-bot merge"), "note without a /gitops-bot command"),
    "edited note": (
        _note("/gitops-bot review", action="update"),
        "note.update: only new notes carry commands",
    ),
    "system note": (_note("/gitops-bot review", system=True), "system note"),
    "project access token bot": (
        _note("/gitops-bot review", username="project_42_bot_0123abcd"),
        "note command from a bot or an unknown user",
    ),
    "group access token bot": (
        _note("/gitops-bot review", username="group_7_bot"),
        "note command from a bot or an unknown user",
    ),
    "username with a slash": (
        _note("/gitops-bot review", username="a/b"),
        "note command from a bot or an unknown user",
    ),
    "note body not a string": (_note(["/gitops-bot review"]), "note without a /gitops-bot command"),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("case", sorted(NOTE_CASES), ids=sorted(NOTE_CASES))
def test_note_commands(case: str) -> None:
    payload, expected = NOTE_CASES[case]
    routed = _route("Note Hook", payload)
    if not isinstance(expected, JobAction):  # JobAction is a str too: test it first
        assert routed == Ignored(expected)
        return
    assert isinstance(routed, list)
    (job,) = routed
    assert (job.pull_request, job.action, job.requested_by, job.head_sha, job.event) == (
        PullRequestRef(Forge.GITLAB, "gitlab-org/gitlab-test", 1),
        expected,
        payload["user"]["username"],
        "",
        "note.create",
    )


def test_a_confidential_note_carries_commands_too() -> None:
    routed = _route("Confidential Note Hook", _note("/gitops-bot review"))
    assert isinstance(routed, list) and routed[0].action is JobAction.REVIEW


def _push(**fields: Any) -> dict[str, Any]:
    payload = json.loads((FIXTURES / "webhooks" / "push.json").read_text())
    payload.update(fields)
    return dict(payload)


PUSH_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "deleted branch": (
        _push(after="0" * 40),
        "push: the branch was deleted (or no usable `after`)",
    ),
    "new branch": (_push(before="0" * 40), "push: a new branch has no merge request yet"),
    "a tag ref": (_push(ref="refs/tags/v1"), "push: not a branch (refs/heads/…)"),
    "empty branch name": (_push(ref="refs/heads/"), "push: not a branch (refs/heads/…)"),
    "no project": (_push(project=None), "push: no usable project.path_with_namespace"),
    "a traversal project path": (
        _push(project={"path_with_namespace": "a/../b"}),
        "push: no usable project.path_with_namespace",
    ),
}


@pytest.mark.parametrize("case", sorted(PUSH_CASES), ids=sorted(PUSH_CASES))
def test_push_edge_cases(case: str) -> None:
    payload, reason = PUSH_CASES[case]
    assert _route("Push Hook", payload) == Ignored(reason)


def test_a_push_job_has_a_lane_per_branch_and_its_target_in_the_body() -> None:
    jobs = [
        _route("Push Hook", _push(ref=f"refs/heads/{b}"))
        for b in ("feature/a", "feature/b", "feature/a")
    ]
    lanes = [job[0].pull_request.number for job in jobs if isinstance(job, list)]
    assert lanes[0] == lanes[2] != lanes[1] and all(n < 0 for n in lanes)
    body = json.dumps(_push(ref="refs/heads/feature/a")).encode()
    assert push_target(body) == PushTarget("mike/diaspora", "feature/a", DIASPORA_HEAD)
    assert push_target(b"not json") is None
    assert push_target(b"[]") is None


def test_nested_group_project_paths() -> None:
    payload = _mr("open")
    payload["project"]["path_with_namespace"] = "platform/team.a/gitops-repo"
    routed = _route("Merge Request Hook", payload)
    assert isinstance(routed, list) and routed[0].pull_request.repo == "platform/team.a/gitops-repo"


def test_system_hooks_route_by_object_kind() -> None:
    assert isinstance(_route("System Hook", _mr("open")), list)
    assert isinstance(_route("System Hook", _push()), list)
    assert _route("System Hook", {"object_kind": "repository_update"}) == Ignored(
        "event 'System Hook' is not used by gitops-bot"
    )


HOSTILE: dict[str, tuple[str, Any, str]] = {
    "a list body": ("Merge Request Hook", [1, 2], "'Merge Request Hook': payload is not an object"),
    "a string body": ("Note Hook", "x", "'Note Hook': payload is not an object"),
    "an empty object": (
        "Merge Request Hook",
        {},
        "Merge Request Hook: object_kind None does not match the event",
    ),
    "a kind that does not match the header": (
        "Merge Request Hook",
        {"object_kind": "push"},
        "Merge Request Hook: object_kind 'push' does not match the event",
    ),
    "object_attributes is a list": (
        "Merge Request Hook",
        {"object_kind": "merge_request", "object_attributes": []},
        "merge_request: no usable object_attributes.action",
    ),
    "iid is a bool": (
        "Merge Request Hook",
        {**_mr("open"), "object_attributes": {**_mr("open")["object_attributes"], "iid": True}},
        "merge_request: no usable object_attributes.iid",
    ),
    "iid is huge": (
        "Merge Request Hook",
        {**_mr("open"), "object_attributes": {**_mr("open")["object_attributes"], "iid": 10**30}},
        "merge_request: no usable object_attributes.iid",
    ),
    "head sha is not hex": (
        "Merge Request Hook",
        {
            **_mr("open"),
            "object_attributes": {**_mr("open")["object_attributes"], "last_commit": {"id": "zz"}},
        },
        "merge_request.open: no usable object_attributes.last_commit.id",
    ),
    "a huge event header": ("X" * 10_000, {}, f"event {'X' * 40!r} is not used by gitops-bot"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE), ids=sorted(HOSTILE))
def test_hostile_payloads_are_ignored_with_a_reason(case: str) -> None:
    header, payload, reason = HOSTILE[case]
    assert _route(header, payload, b"{}") == Ignored(reason)


BINDINGS: dict[str, tuple[dict[str, Any], ApprovalBinding | None]] = {
    "approval": (
        _mr("approval"),
        ApprovalBinding("flightjs/flight-management", 16, "agarcia", MR_HEAD, True),
    ),
    "approved": (
        _mr("approved"),
        ApprovalBinding("flightjs/flight-management", 16, "agarcia", MR_HEAD, True),
    ),
    "unapproval": (
        _mr("unapproval"),
        ApprovalBinding("flightjs/flight-management", 16, "agarcia", MR_HEAD, False),
    ),
    "unapproved": (
        _mr("unapproved"),
        ApprovalBinding("flightjs/flight-management", 16, "agarcia", MR_HEAD, False),
    ),
    "system reset on push": (
        _mr("unapproved", system=True, system_action="approvals_reset_on_push"),
        None,
    ),
    "open": (_mr("open"), None),
    "no last commit": (
        {**_mr("approval"), "object_attributes": {"action": "approval", "iid": 1}},
        None,
    ),
    "a push": (_push(), None),
}


@pytest.mark.parametrize("case", sorted(BINDINGS), ids=sorted(BINDINGS))
def test_approval_binding(case: str) -> None:
    payload, expected = BINDINGS[case]
    assert approval_binding(copy.deepcopy(payload)) == expected
