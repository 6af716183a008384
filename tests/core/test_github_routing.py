"""route_github over every real example of the events the bot routes (GitHub's own webhook
examples), plus the variants the examples lack (commands on PRs, edited base, hostile fields)."""

import copy
import json
from pathlib import Path

import pytest

from bot.core.webhooks.github import merge_group_target, route_github
from bot.core.webhooks.routing import Ignored
from bot.model.job import Forge, Job, JobAction, PullRequestRef

FIXTURES = Path(__file__).parents[2] / "../shared/fixtures"
EXAMPLES = {
    e["name"]: e["examples"]
    for e in json.loads((FIXTURES / "github/webhook-examples.json").read_text(encoding="utf-8"))
}
SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
GROUP_SHA = "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d"
HELLO = "Codertocat/Hello-World"
DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958"


def review(number, installation, action=JobAction.REVIEW, sha=SHA, repo=HELLO, suffix=""):
    return (action, repo, number, installation, sha, suffix)


def ignored(reason_part):
    return reason_part


# (event, index in webhook-examples.json) -> expected jobs, or a part of the Ignored reason.
EXPECTED = {
    ("pull_request", 0): [review(2, "")],  # the older shape: no installation
    ("pull_request", 1): ignored("pull_request.assigned does not change"),
    ("pull_request", 2): ignored("pull_request.assigned does not change"),
    ("pull_request", 3): [review(2, "1", JobAction.CANCEL)],
    ("pull_request", 4): [review(2, "1", JobAction.CANCEL)],
    ("pull_request", 5): ignored("pull_request.converted_to_draft"),
    ("pull_request", 6): ignored("pull_request.converted_to_draft"),
    ("pull_request", 7): ignored("pull_request.converted_to_draft"),
    ("pull_request", 8): ignored("pull_request.labeled"),
    ("pull_request", 9): ignored("pull_request.labeled"),
    ("pull_request", 10): ignored("pull_request.locked"),
    ("pull_request", 11): ignored("pull_request.locked"),
    ("pull_request", 12): [review(2, "1")],
    ("pull_request", 13): [review(2, "1")],
    ("pull_request", 14): [review(2, "1")],
    ("pull_request", 15): [review(2, "")],
    ("pull_request", 16): [review(2, "1")],
    ("pull_request", 17): [review(2, "")],
    ("pull_request", 18): [review(2, "1")],
    ("pull_request", 19): [review(2, "1")],
    ("pull_request", 20): ignored("pull_request.review_request_removed"),
    ("pull_request", 21): ignored("pull_request.review_requested"),
    ("pull_request", 22): [review(2, "1")],
    ("pull_request", 23): ignored("pull_request.unassigned"),
    ("pull_request", 24): ignored("pull_request.unassigned"),
    ("pull_request", 25): ignored("pull_request.unlabeled"),
    ("pull_request", 26): ignored("pull_request.unlabeled"),
    ("pull_request", 27): ignored("pull_request.unlocked"),
    ("pull_request", 28): ignored("pull_request.unlocked"),
    ("pull_request_review", 0): [review(2, "", JobAction.APPROVAL)],
    ("pull_request_review", 1): [review(2, "1", JobAction.APPROVAL)],
    ("pull_request_review", 2): [review(2, "1", JobAction.APPROVAL)],
    ("pull_request_review", 3): [review(2, "1", JobAction.APPROVAL)],
    ("check_run", 0): ignored("check_run.created: only rerequested"),
    ("check_run", 1): ignored("check_run.completed: only rerequested"),
    ("check_run", 2): ignored("check_run.completed: only rerequested"),
    ("check_run", 3): ignored("check_run.completed: only rerequested"),
    ("check_run", 4): ignored("check_run.created: only rerequested"),
    ("check_run", 5): ignored("check_run.created: only rerequested"),
    ("check_run", 6): ignored("check_run.requested_action: only rerequested"),
    ("check_run", 7): ignored("check_run.rerequested: no pull request"),  # empty list (forks)
    ("check_run", 8): ignored("check_run.rerequested: no pull request"),
    ("check_suite", 0): ignored("check_suite.completed: only rerequested"),
    ("check_suite", 1): ignored("check_suite.completed: only rerequested"),
    ("check_suite", 2): ignored("check_suite.completed: only rerequested"),
    ("check_suite", 3): ignored("check_suite.completed: only rerequested"),
    ("check_suite", 4): ignored("check_suite.requested: only rerequested"),
    ("check_suite", 5): ignored("check_suite.requested: only rerequested"),
    ("check_suite", 6): ignored("check_suite.requested: only rerequested"),
    ("check_suite", 7): [review(2, "957387", suffix="#2")],
    ("check_suite", 8): [review(2, "957387", suffix="#2")],
    ("issue_comment", 0): ignored("on an issue, not a pull request"),
    ("issue_comment", 1): ignored("on an issue, not a pull request"),
    ("issue_comment", 2): ignored("on an issue, not a pull request"),
    ("issue_comment", 3): ignored("on an issue, not a pull request"),
    ("issue_comment", 4): ignored("on an issue, not a pull request"),
    ("issue_comment", 5): ignored("issue_comment.deleted"),
    ("issue_comment", 6): ignored("issue_comment.deleted"),
    ("issue_comment", 7): ignored("issue_comment.edited"),
    ("issue_comment", 8): ignored("issue_comment.edited"),
    # The group's head ref names PR 104: lane -104, the group's head SHA.
    ("merge_group", 0): [review(-104, "1", sha=GROUP_SHA, repo="octo-org/octo-repo")],
    ("merge_group", 1): [review(-104, "1", sha=GROUP_SHA, repo="octo-org/octo-repo")],
    **{("installation", i): ignored("the reconciler picks up") for i in range(7)},
    **{("installation_repositories", i): ignored("the reconciler picks up") for i in range(3)},
    **{("ping", i): ignored("pong") for i in range(4)},
}


def route(event, payload, delivery=DELIVERY):
    body = json.dumps(payload).encode()
    return route_github(event, delivery, payload, 1234.5, body)


def test_the_table_covers_every_example_of_the_routed_events():
    listed = {(event, i) for event in {e for e, _ in EXPECTED} for i in range(len(EXAMPLES[event]))}
    assert listed == set(EXPECTED)


@pytest.mark.parametrize(("event", "index"), sorted(EXPECTED), ids=str)
def test_every_example_routes_as_documented(event, index):
    payload = EXAMPLES[event][index]
    expected = EXPECTED[(event, index)]
    routed = route(event, payload)
    if isinstance(expected, str):
        assert isinstance(routed, Ignored), routed
        assert expected in routed.reason
        return
    assert isinstance(routed, list)
    body = json.dumps(payload).encode()
    assert routed == [
        Job(
            delivery_id=DELIVERY + suffix,
            pull_request=PullRequestRef(Forge.GITHUB, repo, number, installation),
            action=action,
            event=f"{event}.{payload['action']}",
            head_sha=sha,
            body=body,
            received_at=1234.5,
        )
        for action, repo, number, installation, sha, suffix in expected
    ]


def _pr_comment(body, login="octocat", user_type="User"):
    payload = copy.deepcopy(EXAMPLES["issue_comment"][3])
    payload["issue"]["pull_request"] = {"url": "https://api.github.com/repos/x/y/pulls/1"}
    payload["comment"]["body"] = body
    payload["comment"]["user"]["login"] = login
    payload["comment"]["user"]["type"] = user_type
    return payload


@pytest.mark.parametrize(
    ("body", "action"),
    [
        ("/gitops-bot review", JobAction.REVIEW),
        ("  /gitops-bot   review  \nplease", JobAction.REVIEW),
        ("/GitOps-Bot Explain", JobAction.EXPLAIN),
        ("\n\n/gitops-bot explain\n", JobAction.EXPLAIN),
    ],
    ids=["review", "review-spaced", "explain-case", "explain-blank-lines"],
)
def test_commands_on_a_pull_request(body, action):
    [job] = route("issue_comment", _pr_comment(body))
    assert job.action is action
    assert job.requested_by == "octocat"  # the worker checks this user's permission
    assert job.head_sha == ""  # the worker asks the forge for the head
    assert job.pull_request == PullRequestRef(Forge.GITHUB, HELLO, 1, "1")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (_pr_comment("please /gitops-bot review"), "without a /gitops-bot command"),
        (_pr_comment("/gitops-bot reviewer"), "without a /gitops-bot command"),
        (_pr_comment("/gitops-bot review", login="my-app[bot]"), "from a bot"),
        (_pr_comment("/gitops-bot review", user_type="Bot"), "from a bot"),
        (_pr_comment("/gitops-bot review", login="bad login!"), "from a bot or an unknown user"),
        (_pr_comment("<!-- gitops-bot:review -->\n/gitops-bot review"), "without a /gitops"),
    ],
    ids=["not-first", "other-word", "bot-login", "bot-type", "bad-login", "own-comment"],
)
def test_comments_that_are_not_commands(payload, reason):
    routed = route("issue_comment", payload)
    assert isinstance(routed, Ignored)
    assert reason in routed.reason


def test_edited_pull_request_is_reviewed_only_when_its_base_changed():
    payload = copy.deepcopy(EXAMPLES["pull_request"][12])
    payload["action"] = "edited"
    payload["changes"] = {"title": {"from": "old"}}
    assert isinstance(route("pull_request", payload), Ignored)
    payload["changes"] = {"base": {"ref": {"from": "develop"}, "sha": {"from": "0" * 40}}}
    [job] = route("pull_request", payload)
    assert job.action is JobAction.REVIEW
    assert job.event == "pull_request.edited"


def test_check_run_rerequested_makes_one_job_per_listed_pull_request():
    payload = copy.deepcopy(EXAMPLES["check_run"][7])
    sha = payload["check_run"]["head_sha"]
    payload["check_run"]["pull_requests"] = [{"number": 7}, {"number": 3}, {"number": 7}, "junk"]
    jobs = route("check_run", payload)
    assert [(j.pull_request.number, j.delivery_id, j.head_sha) for j in jobs] == [
        (3, DELIVERY + "#3", sha),
        (7, DELIVERY + "#7", sha),
    ]


def test_merge_group_destroyed_cancels_its_lane_and_odd_head_refs_get_a_lane_too():
    payload = copy.deepcopy(EXAMPLES["merge_group"][0])
    payload["action"] = "destroyed"
    [job] = route("merge_group", payload)
    assert (job.action, job.pull_request.number) == (JobAction.CANCEL, -104)
    payload["action"] = "checks_requested"
    payload["merge_group"]["head_ref"] = "refs/heads/some-other-layout"
    [job] = route("merge_group", payload)
    assert job.pull_request.number < 0
    assert job.pull_request.number == route("merge_group", payload)[0].pull_request.number


def test_merge_group_target_reads_the_base_from_the_raw_body():
    body = json.dumps(EXAMPLES["merge_group"][0]).encode()
    target = merge_group_target(body)
    assert target is not None
    assert (target.base_ref, target.base_sha[:7], target.head_sha) == ("main", "380387f", GROUP_SHA)
    assert merge_group_target(b"[" * 100_000) is None
    assert merge_group_target(b"{}") is None


WRONG = [None, True, 0, -1, 1.5, "", "x" * 100_000, [], {}, [[[]]], "2", 2**80]


def _set(payload, path, value):
    node = payload
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value


FIELDS = {
    ("pull_request", 12): [
        ("action",),
        ("number",),
        ("pull_request",),
        ("pull_request", "number"),
        ("pull_request", "head"),
        ("pull_request", "head", "sha"),
        ("repository",),
        ("repository", "full_name"),
        ("installation",),
        ("installation", "id"),
    ],
    ("pull_request_review", 2): [
        ("action",),
        ("pull_request", "number"),
        ("pull_request", "head", "sha"),
        ("repository", "full_name"),
    ],
    ("check_suite", 7): [
        ("action",),
        ("check_suite",),
        ("check_suite", "head_sha"),
        ("check_suite", "pull_requests"),
        ("repository", "full_name"),
    ],
    ("merge_group", 0): [
        ("action",),
        ("merge_group",),
        ("merge_group", "head_sha"),
        ("merge_group", "base_sha"),
        ("merge_group", "head_ref"),
    ],
}


@pytest.mark.parametrize(
    ("example", "path", "value"),
    [(ex, p, v) for ex, paths in FIELDS.items() for p in paths for v in WRONG],
    ids=lambda v: str(v)[:30],
)
def test_wrong_types_never_raise_and_never_make_a_malformed_job(example, path, value):
    payload = copy.deepcopy(EXAMPLES[example[0]][example[1]])
    _set(payload, path, value)
    routed = route(example[0], payload)
    if isinstance(routed, Ignored):
        assert routed.reason
        return
    for job in routed:
        assert job.pull_request.number != 0
        assert "/" in job.pull_request.repo
        assert job.action is JobAction.CANCEL or len(job.head_sha) in (40, 64)
        assert job.pull_request.installation in ("", "1", "957387")


@pytest.mark.parametrize("payload", [None, [], "x", 3, [{"action": "opened"}]])
def test_a_payload_that_is_not_an_object_is_ignored(payload):
    routed = route_github("pull_request", DELIVERY, payload, 0.0, b"")
    assert isinstance(routed, Ignored)
    assert "not an object" in routed.reason


def test_unknown_events_are_ignored():
    routed = route("star", EXAMPLES["star"][0])
    assert isinstance(routed, Ignored)
    assert "not used by gitops-bot" in routed.reason
