"""GitHubForge against the contract fake: every request is checked against GitHub's OpenAPI
description, and the fixture fails the test on any violation."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.engines.github_auth import GitHubError
from bot.engines.github_checks import MAX_OUTPUT_CHARS
from bot.engines.github_comments import MAX_COMMENT_CHARS
from bot.engines.github_forge import GitHubForge, _role
from bot.model.approval import Review
from bot.model.job import Forge, PullRequestRef
from bot.ports import CheckAnnotation, CheckReport, CheckState, CommentMode
from tests.contract.github_fake import FakeGitHub

REPO = "octo/gitops"
REF = PullRequestRef(Forge.GITHUB, REPO, 7, "")
MARKER = "<!-- gitops-bot:summary -->"
HEAD = "b" * 40


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    github = FakeGitHub()
    with github.mocked():
        yield github
    github.assert_no_violations()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def forge(fake: FakeGitHub, sleeps: list[float]) -> GitHubForge:
    # per_page=10: a few dozen items already span several pages.
    return GitHubForge.from_token(
        fake.token, fake.base_url, write_interval_seconds=0, sleep=sleeps.append, per_page=10
    )


def test_pull_request_open_and_merged(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_pull_request(REPO, 7, title="Bump podinfo", labels=["env/prod"], head_sha=HEAD)
    fake.add_pull_request(REPO, 8, merged=True)

    info = forge.pull_request(REF)
    merged = forge.pull_request(PullRequestRef(Forge.GITHUB, REPO, 8, ""))

    assert (info.title, info.author, info.state, info.head_sha) == (
        "Bump podinfo",
        "alice",
        "open",
        HEAD,
    )
    assert info.labels == frozenset({"env/prod"}) and info.base_ref == "main"
    assert info.url == f"https://github.com/{REPO}/pull/7"
    assert merged.state == "merged"


def test_unknown_pull_request_is_a_clear_error(fake: FakeGitHub, forge: GitHubForge) -> None:
    with pytest.raises(
        GitHubError, match=r"cannot read the pull request \(octo/gitops#7\): 404"
    ) as caught:
        forge.pull_request(REF)
    assert caught.value.status == 404 and not caught.value.retryable


def test_open_pull_requests_reads_every_page(fake: FakeGitHub, forge: GitHubForge) -> None:
    for number in range(1, 26):
        fake.add_pull_request(REPO, number)
    fake.add_pull_request(REPO, 99, state="closed")

    pulls = forge.open_pull_requests(REPO, "")

    assert sorted(p.ref.number for p in pulls) == list(range(1, 26))
    assert len(fake.calls("pulls/list")) == 3  # 10 + 10 + 5, no per-PR fetches


def test_approval_facts_over_several_pages(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_pull_request(REPO, 7, author="alice", head_sha=HEAD, labels=["team/platform"])
    commits = [(f"{i:040x}", f"dev{i % 3}", "web-flow") for i in range(23)]
    fake.add_commits(REPO, 7, [*commits, ("c" * 40, None, None)])  # unlinked: no login
    for i in range(14):
        fake.add_review(REPO, 7, f"reviewer{i}", "COMMENTED", "a" * 40)
    fake.add_review(REPO, 7, "bob", "APPROVED", HEAD)
    fake.add_review(REPO, 7, "carol", "CHANGES_REQUESTED", HEAD)
    fake.add_review(REPO, 7, "dave", "DISMISSED", "a" * 40)
    fake.add_team("octo/platform", [f"member{i}" for i in range(12)] + ["bob"])
    for user, role in {
        "alice": "write",
        "bob": "maintain",
        "carol": "triage",
        "dave": "admin",
    }.items():
        fake.set_permission(REPO, user, role)

    facts = forge.approval_facts(forge.pull_request(REF), ["octo/platform", "octo/ghosts"])

    assert facts.reviews[-3:] == (
        Review("bob", "approved", HEAD),
        Review("carol", "changes_requested", HEAD),
        Review("dave", "dismissed", "a" * 40),
    )
    assert len(facts.reviews) == 17
    assert facts.committers == {"dev0", "dev1", "dev2", "web-flow"}
    assert facts.teams["octo/platform"] == {f"member{i}" for i in range(12)} | {"bob"}
    assert facts.teams["octo/ghosts"] == frozenset()  # unknown team: fail closed
    assert facts.permissions["bob"] == "maintain" and facts.permissions["carol"] == "triage"
    assert facts.permissions["alice"] == "write" and facts.permissions["reviewer3"] == "none"
    assert (facts.author, facts.title, facts.target_branch) == ("alice", "Change #7", "main")
    assert facts.labels == {"team/platform"}
    assert len(fake.calls("pulls/list-reviews")) == 2 and len(fake.calls("pulls/list-commits")) == 3


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"permission": "write", "role_name": "maintain"}, "maintain"),
        ({"permission": "read", "role_name": "triage"}, "triage"),
        (
            {
                "permission": "write",
                "role_name": "deployer",
                "user": {"permissions": {"push": True, "pull": True}},
            },
            "write",
        ),
        ({"permission": "admin", "role_name": "owner-ish"}, "admin"),
        ({"permission": "none", "role_name": ""}, "none"),
        ({}, "none"),
    ],
    ids=["maintain", "triage", "custom-role-by-flags", "legacy-permission", "none", "empty"],
)
def test_permission_levels(data: dict[str, object], expected: str) -> None:
    assert _role(data) == expected


def test_permission_of_one_user(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.set_permission(REPO, "erin", "maintain")
    assert forge.permission(REF, "erin") == "maintain"
    assert forge.permission(REF, "stranger") == "none"


def _seed_comments(fake: FakeGitHub) -> None:
    fake.add_pull_request(REPO, 7)
    for i in range(24):
        fake.add_comment(REPO, 7, f"comment {i}", "someone")
    fake.add_comment(REPO, 7, f"{MARKER}\nquoting the bot", "mallory")  # a human: never edited


@pytest.mark.parametrize("mode", list(CommentMode), ids=[m.value for m in CommentMode])
def test_upsert_never_duplicates_the_comment(
    fake: FakeGitHub, forge: GitHubForge, mode: CommentMode
) -> None:
    _seed_comments(fake)
    urls = [forge.upsert_comment(REF, MARKER, f"{MARKER}\nrun {run}", mode) for run in range(3)]

    comments = fake.comments(REPO, 7)
    ours = [
        c for c in comments if MARKER in c["body"] and c["user"]["login"] == "github-actions[bot]"
    ]
    assert comments[24]["body"] == f"{MARKER}\nquoting the bot"
    assert urls[-1] == ours[-1]["html_url"] and ours[-1]["body"] == f"{MARKER}\nrun 2"
    writes = [r.operation_id for r in fake.requests if r.method != "GET"]
    if mode is CommentMode.UPDATE:
        assert len(ours) == 1 and len(set(urls)) == 1
        assert writes == ["issues/create-comment", "issues/update-comment", "issues/update-comment"]
    elif mode is CommentMode.DELETE_AND_REPOST:
        assert len(ours) == 1 and len(set(urls)) == 3
        assert writes.count("issues/delete-comment") == 2
    else:
        assert len(ours) == 3  # the old ones stay, folded away as outdated
        assert fake.model.minimized == {
            ours[0]["node_id"]: "OUTDATED",
            ours[1]["node_id"]: "OUTDATED",
        }
    assert len(fake.calls("issues/list-comments")) == 9  # 3 pages, every run


def test_minimize_sends_a_well_formed_mutation(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_pull_request(REPO, 7)
    forge.upsert_comment(REF, MARKER, f"{MARKER}\nold", CommentMode.UPDATE)
    forge.upsert_comment(REF, MARKER, f"{MARKER}\nnew", CommentMode.MINIMIZE_AND_REPOST)

    (graphql,) = fake.calls("graphql")
    assert "minimizeComment(input: $input)" in graphql.body["query"]
    assert graphql.body["query"].startswith("mutation Mutation($input: MinimizeCommentInput!)")
    assert graphql.body["variables"] == {
        "input": {"subjectId": fake.comments(REPO, 7)[0]["node_id"], "classifier": "OUTDATED"}
    }


def test_unchanged_comment_costs_no_write(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_pull_request(REPO, 7)
    for _ in range(2):
        forge.upsert_comment(REF, MARKER, f"{MARKER}\nsame", CommentMode.UPDATE)
    assert [r.method for r in fake.requests] == ["GET", "POST", "GET"]


def test_comment_over_the_limit_is_refused_before_any_request(
    fake: FakeGitHub, forge: GitHubForge
) -> None:
    body = MARKER + "x" * MAX_COMMENT_CHARS
    with pytest.raises(GitHubError, match="65536"):
        forge.upsert_comment(REF, MARKER, body, CommentMode.UPDATE)
    with pytest.raises(GitHubError, match="marker"):
        forge.upsert_comment(REF, MARKER, "no marker here", CommentMode.UPDATE)
    assert fake.requests == []


def _annotations(count: int) -> tuple[CheckAnnotation, ...]:
    return tuple(
        CheckAnnotation(f"apps/{i}.yaml", i + 1, i + 1, "warning", f"finding {i}", f"rule-{i}")
        for i in range(count)
    )


def test_120_annotations_take_three_requests_of_at_most_50(
    fake: FakeGitHub, forge: GitHubForge
) -> None:
    check = CheckReport(
        "gitops-bot/review",
        HEAD,
        CheckState.COMPLETED,
        "failure",
        "3 errors",
        "summary",
        annotations=_annotations(120),
    )
    forge.publish_check(REF, check)

    writes = [r for r in fake.requests if r.method != "GET"]
    assert [r.operation_id for r in writes] == ["checks/create", "checks/update", "checks/update"]
    assert [len(r.body["output"]["annotations"]) for r in writes] == [50, 50, 20]
    assert all(
        r.body["output"]["title"] == "3 errors" and r.body["output"]["summary"] == "summary"
        for r in writes
    )
    (run,) = fake.check_runs(REPO, HEAD)
    assert run["conclusion"] == "failure" and run["output"]["annotations_count"] == 120
    assert [a["message"] for a in fake.annotations(REPO, run["id"])] == [
        f"finding {i}" for i in range(120)
    ]


def test_one_check_run_per_name_and_sha(fake: FakeGitHub, forge: GitHubForge) -> None:
    forge.publish_check(
        REF, CheckReport("gitops-bot/review", HEAD, CheckState.IN_PROGRESS, title="Rendering")
    )
    forge.publish_check(REF, CheckReport("gitops-bot/approval", HEAD, CheckState.QUEUED))
    forge.publish_check(
        REF, CheckReport("gitops-bot/review", HEAD, CheckState.COMPLETED, "success", "All good")
    )

    runs = {run["name"]: run for run in fake.check_runs(REPO, HEAD)}
    assert len(fake.check_runs(REPO, HEAD)) == 2
    assert (runs["gitops-bot/review"]["status"], runs["gitops-bot/review"]["conclusion"]) == (
        "completed",
        "success",
    )
    in_progress = fake.calls("checks/create")[0].body
    assert in_progress["status"] == "in_progress" and "conclusion" not in in_progress
    lookup = fake.calls("checks/list-for-ref")[0]
    assert lookup.query["check_name"] == "gitops-bot/review"


def test_republishing_annotations_never_doubles_them(fake: FakeGitHub, forge: GitHubForge) -> None:
    check = CheckReport(
        "gitops-bot/review",
        HEAD,
        CheckState.COMPLETED,
        "failure",
        "t",
        "s",
        annotations=_annotations(3),
    )
    forge.publish_check(REF, check)
    forge.publish_check(REF, check)

    runs = sorted(fake.check_runs(REPO, HEAD), key=lambda run: run["id"])
    assert [run["output"]["annotations_count"] for run in runs] == [3, 3]  # a newer run supersedes


def test_long_summary_and_text_are_cut_with_a_note(fake: FakeGitHub, forge: GitHubForge) -> None:
    summary = "| row |\n" * 10_000  # 80,000 characters
    text = "y" * 70_000
    forge.publish_check(
        REF,
        CheckReport("gitops-bot/review", HEAD, CheckState.COMPLETED, "neutral", "t", summary, text),
    )

    output = fake.calls("checks/create")[0].body["output"]
    assert len(output["summary"]) <= MAX_OUTPUT_CHARS and len(output["text"]) <= MAX_OUTPUT_CHARS
    shown, note = output["summary"].rsplit("\n\n… (", 1)
    assert note == f"{len(summary) - len(shown)} more characters continued in the details)"
    assert shown.endswith("| row |")  # cut at a line break
    # Nothing lost silently: the summary's rest opens the text, whose own cut is counted.
    merged = summary[len(shown) :].lstrip("\n") + "\n\n" + text
    shown_text, text_note = output["text"].rsplit("\n\n… (", 1)
    assert merged.startswith(shown_text)
    assert text_note == f"{len(merged) - len(shown_text)} more characters)"


@pytest.mark.parametrize(
    ("state", "conclusion"),
    [
        (CheckState.COMPLETED, ""),
        (CheckState.IN_PROGRESS, "success"),
        (CheckState.COMPLETED, "great"),
    ],
    ids=["completed-without-conclusion", "conclusion-while-running", "unknown-conclusion"],
)
def test_conclusion_only_when_completed(
    fake: FakeGitHub, forge: GitHubForge, state: CheckState, conclusion: str
) -> None:
    with pytest.raises(GitHubError, match="conclusion"):
        forge.publish_check(REF, CheckReport("gitops-bot/review", HEAD, state, conclusion))
    assert fake.requests == []


def test_write_throttle_spaces_writes(fake: FakeGitHub, sleeps: list[float]) -> None:
    forge = GitHubForge.from_token(fake.token, write_interval_seconds=1.0, sleep=sleeps.append)
    fake.add_pull_request(REPO, 7)
    for run in range(3):
        forge.upsert_comment(REF, MARKER, f"{MARKER}\n{run}", CommentMode.UPDATE)

    assert len(sleeps) == 2 and all(0.5 < s <= 1.0 for s in sleeps)  # before writes 2 and 3
    assert forge.stats()["api_writes"] == 3


def test_stats_report_calls_and_rate_limit(fake: FakeGitHub, forge: GitHubForge) -> None:
    assert forge.stats()["rate_limit_remaining"] == -1  # nothing seen yet
    fake.add_pull_request(REPO, 7)
    forge.pull_request(REF)
    forge.upsert_comment(REF, MARKER, MARKER, CommentMode.UPDATE)

    stats = forge.stats()
    assert stats["api_calls"] == 3 and stats["api_writes"] == 1 and stats["api_retries"] == 0
    last = fake.requests[-1]
    assert stats["rate_limit_remaining"] == 5000 - len(fake.requests) and last.status == 201
    json.dumps(stats)  # /metrics serialises it
