"""GitLabForge against the fake GitLab: every request documented, every MR and note answer valid
under GitLab's own schemas (checked at teardown)."""

from __future__ import annotations

from collections.abc import Iterator

import gitlab
import pytest
import requests

from bot.core.approval.decide import decide_approval
from bot.core.approval.rules import parse_approval
from bot.core.config.reader import ConfigReader
from bot.core.safe_yaml import load_yaml_documents
from bot.core.webhooks.gitlab import ApprovalBinding
from bot.engines.gitlab_approvals import MemoryApprovalBindings
from bot.engines.gitlab_forge import MAX_NOTE_CHARS, GitLabError, GitLabForge
from bot.model.approval import ApprovalFacts, ForgeFacts, RuleStatus
from bot.model.job import Forge, PullRequestRef
from bot.ports import CheckReport, CheckState, CommentMode, PullRequestInfo
from tests.contract.gitlab_fake import VIOLATION_STATUS, FakeGitLab

PROJECT = "platform/gitops/clusters"
REF = PullRequestRef(Forge.GITLAB, PROJECT, 7)
MARKER = "<!-- gitops-bot:summary -->"
REVIEW = "gitops-bot/review"


@pytest.fixture
def fake() -> Iterator[FakeGitLab]:
    gl = FakeGitLab(max_per_page=2)  # every list takes several pages
    gl.add_merge_request(PROJECT, 7, title="Bump podinfo", labels=["prod"], author="alice")
    with gl.mocked():
        yield gl
    gl.assert_clean()


@pytest.fixture
def bindings() -> MemoryApprovalBindings:
    return MemoryApprovalBindings()


@pytest.fixture
def forge(fake: FakeGitLab, bindings: MemoryApprovalBindings) -> GitLabForge:
    return GitLabForge(
        fake.base_url, fake.token, bindings=bindings, per_page=2, sleep=lambda _: None
    )


# -- merge requests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected"),
    [("opened", "open"), ("closed", "closed"), ("merged", "merged"), ("locked", "closed")],
)
def test_pull_request(fake: FakeGitLab, forge: GitLabForge, state: str, expected: str) -> None:
    mr = fake.model.projects[PROJECT].mrs[7]
    mr.state, mr.draft = state, True
    info = forge.pull_request(REF)
    assert info == PullRequestInfo(
        ref=REF,
        title="Bump podinfo",
        author="alice",
        state=expected,
        draft=True,
        base_ref="main",
        base_sha=mr.base_sha,
        head_ref="feature-7",
        head_sha=mr.head_sha,
        labels=frozenset({"prod"}),
        url=f"{fake.base_url}/{PROJECT}/-/merge_requests/7",
    )
    assert [c.template for c in fake.requests] == [
        "/projects/:id/merge_requests/:merge_request_iid"
    ]
    assert fake.requests[0].path == "/projects/platform%2Fgitops%2Fclusters/merge_requests/7"


def test_an_mr_still_being_prepared_is_retryable(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.model.projects[PROJECT].mrs[7].base_sha = ""
    with pytest.raises(GitLabError, match="still being prepared") as raised:
        forge.pull_request(REF)
    assert raised.value.retryable


def test_self_managed_instance_under_a_path() -> None:
    gl = FakeGitLab(base_url="https://git.example.org/gitlab")
    gl.add_merge_request(PROJECT, 3)
    with gl.mocked():
        info = GitLabForge("https://git.example.org/gitlab/", gl.token).pull_request(
            PullRequestRef(Forge.GITLAB, PROJECT, 3)
        )
    assert info.url == f"https://git.example.org/gitlab/{PROJECT}/-/merge_requests/3"
    gl.assert_clean()


def test_open_pull_requests_reads_every_page(fake: FakeGitLab, forge: GitLabForge) -> None:
    for iid in range(8, 13):
        fake.add_merge_request(PROJECT, iid, state="merged" if iid == 10 else "opened")
    infos = forge.open_pull_requests(PROJECT, "")
    assert sorted(i.ref.number for i in infos) == [7, 8, 9, 11, 12]
    assert all(i.base_sha == "" and len(i.head_sha) == 40 and i.state == "open" for i in infos)
    pages = fake.calls("GET", "/projects/:id/merge_requests")
    assert [c.query.get("page", "1") for c in pages] == ["1", "2", "3"]
    assert all(c.query["state"] == "opened" for c in pages)


def test_open_merge_requests_of_a_source_branch(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.add_merge_request(PROJECT, 8, source_branch="renovate/podinfo")
    fake.add_merge_request(PROJECT, 9, source_branch="renovate/podinfo", state="closed")
    infos = forge.open_merge_requests(PROJECT, source_branch="renovate/podinfo")
    assert [i.ref.number for i in infos] == [8]


def test_changed_paths_reads_every_page(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.model.projects[PROJECT].mrs[7].diffs = [
        ("apps/a.yaml", "apps/a.yaml"),
        ("apps/b.yaml", "apps/c.yaml"),
        ("README.md", "README.md"),
    ]
    assert forge.changed_paths(REF) == ["README.md", "apps/a.yaml", "apps/b.yaml", "apps/c.yaml"]
    assert len(fake.calls("GET", "/projects/:id/merge_requests/:merge_request_iid/diffs")) == 2


# -- approvals ---------------------------------------------------------------------------------

GATE = """\
approval:
  rules:
    - name: two-platform-approvals
      requires: {count: 2, permissions: [write], ignore_committers: true}
"""


def _gate_status(facts: ForgeFacts, head: str) -> RuleStatus:
    doc = load_yaml_documents(GATE, ".gitops-bot.yaml").documents[0]
    config = parse_approval(ConfigReader(doc.field_lines), doc.data["approval"])
    assert config is not None
    approval = ApprovalFacts(
        head_sha=head,
        author=facts.author,
        changed_files=("clusters/prod/app.yaml",),
        reviews=facts.reviews,
        committers=facts.committers,
        permissions=facts.permissions,
        teams=facts.teams,
    )
    return decide_approval(config, approval, False).status


def _bind(bindings: MemoryApprovalBindings, user: str, sha: str, approved: bool = True) -> None:
    bindings.apply(ApprovalBinding(PROJECT, 7, user, sha, approved), 0.0)


def test_approvals_bind_to_the_recorded_head_and_a_push_invalidates_them(
    fake: FakeGitLab, forge: GitLabForge, bindings: MemoryApprovalBindings
) -> None:
    first = fake.model.projects[PROJECT].mrs[7].head_sha
    for user in ("bob", "carol"):
        fake.approve(PROJECT, 7, user)
        fake.set_access(PROJECT, user, 30)
        _bind(bindings, user, first)
    facts = forge.approval_facts(forge.pull_request(REF), [])
    assert {(r.user, r.state, r.commit_sha) for r in facts.reviews} == {
        ("bob", "approved", first),
        ("carol", "approved", first),
    }
    assert _gate_status(facts, first) is RuleStatus.APPROVED

    fake.push(PROJECT, 7, "f" * 40)  # GitLab keeps both approvals (no reset on push here)
    pr = forge.pull_request(REF)
    after = forge.approval_facts(pr, [])
    assert {r.commit_sha for r in after.reviews} == {first} != {pr.head_sha}
    assert _gate_status(after, pr.head_sha) is RuleStatus.PENDING

    _bind(bindings, "bob", pr.head_sha)  # bob approves again on the new head
    _bind(bindings, "carol", first, approved=False)  # carol withdrew
    final = forge.approval_facts(pr, [])
    assert {(r.user, r.commit_sha) for r in final.reviews} == {("bob", pr.head_sha), ("carol", "")}


def test_an_approval_without_a_record_is_bound_to_no_commit(
    fake: FakeGitLab, forge: GitLabForge
) -> None:
    fake.approve(PROJECT, 7, "bob")
    facts = forge.approval_facts(forge.pull_request(REF), [])
    assert [(r.user, r.commit_sha) for r in facts.reviews] == [("bob", "")]


def test_committers_are_matched_to_usernames(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.add_user("bob", "Bob Builder", public_email="bob@corp.example")
    fake.add_user("carol", "Carol Danvers")
    fake.add_user("dave", "Dave Null")
    for user in ("bob", "carol", "dave"):
        fake.approve(PROJECT, 7, user)
    fake.add_commit(PROJECT, 7, "Someone", "BOB@corp.example")  # public email, any case
    fake.add_commit(PROJECT, 7, "carol danvers", "c@laptop.local")  # display name
    fake.add_commit(
        PROJECT,
        7,
        "X",
        "x@example.com",
        committer=("Y", "42-erin@users.noreply.gitlab.example.com"),
    )
    fake.add_commit(PROJECT, 7, "Nobody", "nobody@example.com")
    facts = forge.approval_facts(forge.pull_request(REF), [])
    # alice wrote the fixture's first commit; dave committed nothing.
    assert facts.committers == frozenset({"alice", "bob", "carol", "erin"})
    assert len(fake.calls("GET", "/projects/:id/merge_requests/:merge_request_iid/commits")) == 3


@pytest.mark.parametrize(
    ("level", "state", "permission"),
    [
        (50, "active", "admin"),
        (40, "active", "maintain"),
        (30, "active", "write"),
        (20, "active", "read"),
        (15, "active", "read"),
        (10, "active", "read"),
        (5, "active", "none"),
        (None, "active", "none"),
        (40, "blocked", "none"),
    ],
)
def test_access_levels(
    fake: FakeGitLab, forge: GitLabForge, level: int | None, state: str, permission: str
) -> None:
    user = fake.add_user("bob")
    user.state = state
    if level is not None:
        fake.set_access(PROJECT, "bob", level)
    fake.approve(PROJECT, 7, "bob")
    assert forge.permission(REF, "bob") == permission
    assert forge.approval_facts(forge.pull_request(REF), []).permissions["bob"] == permission


def test_permission_of_an_unknown_user_is_none(forge: GitLabForge) -> None:
    assert forge.permission(REF, "ghost") == "none"


def test_groups_are_teams(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.add_group("platform/sre", {"bob": 30, "carol": 50, "dave": 10, "eve": 5})
    fake.model.users["dave"].state = "blocked"
    facts = forge.approval_facts(forge.pull_request(REF), ["platform/sre", "platform/unknown"])
    assert facts.teams == {
        "platform/sre": frozenset({"bob", "carol"}),
        "platform/unknown": frozenset(),
    }
    assert len(fake.calls("GET", "/groups/:id/members")) == 3  # two pages, and the unknown group


# -- the summary note --------------------------------------------------------------------------


def _body(text: str) -> str:
    return f"{MARKER}\n{text}"


def test_upsert_creates_then_updates_in_place(fake: FakeGitLab, forge: GitLabForge) -> None:
    for i in range(5):
        fake.add_note(PROJECT, 7, f"chatter {i}", "alice")
    url = forge.upsert_comment(REF, MARKER, _body("one"), CommentMode.UPDATE)
    for i in range(5):
        fake.add_note(PROJECT, 7, f"more chatter {i}", "alice")
    assert forge.upsert_comment(REF, MARKER, _body("two"), CommentMode.UPDATE) == url
    assert forge.upsert_comment(REF, MARKER, _body("two"), CommentMode.UPDATE) == url
    ours = [n for n in fake.notes(PROJECT, 7) if MARKER in n["body"]]
    assert [n["body"] for n in ours] == [_body("two")]
    assert url == f"{fake.base_url}/{PROJECT}/-/merge_requests/7#note_{ours[0]['id']}"
    notes = "/projects/:id/merge_requests/:merge_request_iid/notes"
    assert len(fake.calls("POST", notes)) == 1
    assert len(fake.calls("PUT", notes + "/:note_id")) == 1  # the unchanged body cost no write
    assert max(int(c.query.get("page", "1")) for c in fake.calls("GET", notes)) == 6


def test_upsert_leaves_a_human_note_with_the_marker_alone(
    fake: FakeGitLab, forge: GitLabForge
) -> None:
    quoted = fake.add_note(PROJECT, 7, _body("quoted by a human"), "alice")
    forge.upsert_comment(REF, MARKER, _body("mine"), CommentMode.UPDATE)
    assert [n["body"] for n in fake.notes(PROJECT, 7)] == [quoted["body"], _body("mine")]


def test_delete_and_repost(fake: FakeGitLab, forge: GitLabForge) -> None:
    first = forge.upsert_comment(REF, MARKER, _body("one"), CommentMode.UPDATE)
    second = forge.upsert_comment(REF, MARKER, _body("two"), CommentMode.DELETE_AND_REPOST)
    assert first != second
    assert [n["body"] for n in fake.notes(PROJECT, 7)] == [_body("two")]


def test_minimize_and_repost_updates_in_place_on_gitlab(
    fake: FakeGitLab, forge: GitLabForge
) -> None:
    first = forge.upsert_comment(REF, MARKER, _body("one"), CommentMode.UPDATE)
    assert forge.upsert_comment(REF, MARKER, _body("two"), CommentMode.MINIMIZE_AND_REPOST) == first
    assert [n["body"] for n in fake.notes(PROJECT, 7)] == [_body("two")]


def test_note_size_and_marker_are_checked_before_any_request(
    fake: FakeGitLab, forge: GitLabForge
) -> None:
    with pytest.raises(GitLabError, match="at most 65536"):
        forge.upsert_comment(REF, MARKER, _body("x" * MAX_NOTE_CHARS), CommentMode.UPDATE)
    with pytest.raises(GitLabError, match="marker"):
        forge.upsert_comment(REF, MARKER, "no marker", CommentMode.UPDATE)
    assert fake.requests == []
    exact = _body("y" * (MAX_NOTE_CHARS - len(_body(""))))
    forge.upsert_comment(REF, MARKER, exact, CommentMode.UPDATE)
    assert fake.notes(PROJECT, 7)[0]["body"] == exact


# -- commit statuses ---------------------------------------------------------------------------


def _check(
    state: CheckState, conclusion: str = "", title: str = "Rendering", sha: str = ""
) -> CheckReport:
    head = sha or "0" * 40
    return CheckReport(
        REVIEW, head, state, conclusion=conclusion, title=title, details_url="https://bot.example/d"
    )


@pytest.mark.parametrize(
    ("state", "conclusion", "expected"),
    [
        (CheckState.QUEUED, "", "pending"),
        (CheckState.IN_PROGRESS, "", "running"),
        (CheckState.COMPLETED, "success", "success"),
        (CheckState.COMPLETED, "failure", "failed"),
        (CheckState.COMPLETED, "neutral", "success"),
        (CheckState.COMPLETED, "cancelled", "canceled"),
        (CheckState.COMPLETED, "timed_out", "failed"),
    ],
)
def test_status_states(
    fake: FakeGitLab, forge: GitLabForge, state: CheckState, conclusion: str, expected: str
) -> None:
    head = fake.model.projects[PROJECT].mrs[7].head_sha
    forge.publish_check(REF, _check(state, conclusion, sha=head))
    (status,) = fake.statuses(PROJECT, head)
    assert (status["name"], status["status"], status["description"]) == (
        REVIEW,
        expected,
        "Rendering",
    )
    assert status["target_url"] == "https://bot.example/d"  # no note yet: the check's own link


def test_pending_running_success_and_the_link_to_the_note(
    fake: FakeGitLab, forge: GitLabForge
) -> None:
    head = fake.model.projects[PROJECT].mrs[7].head_sha
    forge.publish_check(REF, _check(CheckState.QUEUED, sha=head))
    forge.publish_check(REF, _check(CheckState.IN_PROGRESS, sha=head))
    forge.publish_check(REF, _check(CheckState.IN_PROGRESS, sha=head))  # GitLab: 400, same state
    url = forge.upsert_comment(REF, MARKER, _body("done"), CommentMode.UPDATE)
    forge.publish_check(REF, _check(CheckState.COMPLETED, "success", sha=head))
    forge.publish_check(
        REF, CheckReport("gitops-bot/approval", head, CheckState.COMPLETED, "failure", "Rejected")
    )
    statuses = fake.statuses(PROJECT, head)
    assert [(s["name"], s["status"]) for s in statuses] == [
        (REVIEW, "success"),
        ("gitops-bot/approval", "failed"),
    ]
    assert {s["target_url"] for s in statuses} == {url}
    assert [c.status for c in fake.calls("POST", "/projects/:id/statuses/:sha")] == [
        201,
        201,
        400,
        201,
        201,
    ]


def test_description_is_capped_at_255_characters(fake: FakeGitLab, forge: GitLabForge) -> None:
    head = fake.model.projects[PROJECT].mrs[7].head_sha
    forge.publish_check(REF, _check(CheckState.COMPLETED, "failure", title="word " * 100, sha=head))
    forge.publish_check(
        REF,
        CheckReport(
            "gitops-bot/approval",
            head,
            CheckState.COMPLETED,
            "success",
            summary="\n\nfirst line\nsecond",
        ),
    )
    long_status, summary_status = fake.statuses(PROJECT, head)
    assert len(long_status["description"]) == 255 and long_status["description"].endswith("…")
    assert summary_status["description"] == "first line"


def test_an_overlong_link_is_left_out(fake: FakeGitLab, forge: GitLabForge) -> None:
    head = fake.model.projects[PROJECT].mrs[7].head_sha
    check = CheckReport(
        REVIEW, head, CheckState.QUEUED, details_url="https://bot.example/" + "x" * 300
    )
    forge.publish_check(REF, check)
    assert fake.statuses(PROJECT, head)[0]["target_url"] is None


def test_a_conflicting_status_update_is_retried(fake: FakeGitLab, forge: GitLabForge) -> None:
    head = fake.model.projects[PROJECT].mrs[7].head_sha
    fake.fail_next("POST", r"/statuses/", 409, {"message": "409 Conflict"}, times=2)
    forge.publish_check(REF, _check(CheckState.QUEUED, sha=head))
    assert [c.status for c in fake.calls("POST", "/projects/:id/statuses/:sha")] == [409, 409, 201]


def test_a_status_on_an_unknown_commit_fails(forge: GitLabForge) -> None:
    with pytest.raises(GitLabError, match="404") as raised:
        forge.publish_check(REF, _check(CheckState.QUEUED, sha="a" * 40))
    assert not raised.value.retryable


# -- errors and secrets ------------------------------------------------------------------------


def test_a_wrong_token_is_an_error_that_never_shows_it(fake: FakeGitLab) -> None:
    secret = "glpat-very-secret-value-123456"
    forge = GitLabForge(fake.base_url, secret)
    with pytest.raises(GitLabError) as raised:
        forge.pull_request(REF)
    assert raised.value.status == 401 and raised.value.retryable
    assert secret not in str(raised.value) and secret not in repr(forge)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_connection_error_is_retryable_and_never_shows_the_token() -> None:
    secret = "glpat-very-secret-value-123456"
    forge = GitLabForge("http://127.0.0.1:9", secret, timeout_seconds=2)
    forge._gl.retry_transient_errors = False  # one attempt is enough to see the error
    with pytest.raises(GitLabError) as raised:
        forge.pull_request(REF)
    assert raised.value.retryable and secret not in str(raised.value)
    assert "ConnectionError" in str(raised.value)


# -- the contract can fail ---------------------------------------------------------------------


def test_the_fake_rejects_an_undocumented_endpoint() -> None:
    gl = FakeGitLab()
    gl.add_merge_request(PROJECT, 7)
    with gl.mocked():
        client = gitlab.Gitlab(gl.base_url, private_token=gl.token)
        mr = client.projects.get(PROJECT, lazy=True).mergerequests.get(7, lazy=True)
        with pytest.raises(gitlab.exceptions.GitlabListError) as raised:
            mr.diffs.list(get_all=False)  # python-gitlab's "diffs" are /versions: not in the index
    assert raised.value.response_code == VIOLATION_STATUS
    (violation,) = gl.violations
    assert "/merge_requests/7/versions: no documented GitLab endpoint" in violation
    with pytest.raises(AssertionError, match="contract was broken"):
        gl.assert_clean()


def test_the_fake_rejects_an_undocumented_parameter() -> None:
    gl = FakeGitLab()
    with gl.mocked():
        response = requests.get(
            f"{gl.base_url}/api/v4/projects/1/merge_requests",
            params={"state": "opened", "with_secrets": "true"},
            headers={"PRIVATE-TOKEN": gl.token},
            timeout=5,
        )
    assert response.status_code == VIOLATION_STATUS
    assert "parameters ['with_secrets'] are not documented" in gl.violations[0]


def test_the_fake_checks_its_answers_against_gitlabs_schemas() -> None:
    gl = FakeGitLab()
    mr = gl.add_merge_request(PROJECT, 7)
    mr.title = None  # type: ignore[assignment]
    with gl.mocked():
        GitLabForge(gl.base_url, gl.token).pull_request(REF)
    assert any(
        "merge_request.json: title: None is not of type 'string'" in e
        for e in gl.model.schema_errors
    )
    with pytest.raises(AssertionError, match="contract was broken"):
        gl.assert_clean()


def test_the_fake_over_real_http() -> None:
    gl = FakeGitLab(max_per_page=1)
    gl.add_merge_request(PROJECT, 7)
    gl.add_merge_request(PROJECT, 8)
    with gl.serving():
        forge = GitLabForge(gl.base_url, gl.token)
        assert gl.base_url.startswith("http://127.0.0.1:")
        assert forge.pull_request(REF).head_sha == gl.model.projects[PROJECT].mrs[7].head_sha
        assert sorted(i.ref.number for i in forge.open_pull_requests(PROJECT, "")) == [7, 8]
        forge.upsert_comment(REF, MARKER, _body("over http"), CommentMode.UPDATE)
    assert [n["body"] for n in gl.notes(PROJECT, 7)] == [_body("over http")]
    gl.assert_clean()
