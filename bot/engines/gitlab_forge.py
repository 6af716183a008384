"""ForgeClient for GitLab (gitlab.com or self-managed, `GITOPS_BOT_GITLAB_URL`), on python-gitlab.

A project is addressed by its path (`group/sub/project`); objects are lazy, so reading an MR's
approvals costs one request. Lists follow every page (100 per page).

- Approvals carry no SHA on GitLab: each is bound to the head the MR had when its approval event
  arrived, as recorded by the web process (bot/engines/gitlab_approvals.py). None recorded: ""
  (never the head, so it only counts where a rule keeps approvals across pushes).
- The summary is one MR note found by its hidden marker among the bot's own notes. GitLab takes
  1,000,000 characters; the bot keeps GitHub's 65,536 so both forges show the same comment.
  MINIMIZE_AND_REPOST is a GitHub feature: on GitLab it updates in place.
- Checks are commit statuses named after the check. GitLab refuses a transition to the state a
  status already has ("Cannot transition status via :run from :running"); that is success here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import gitlab
import requests
from gitlab.exceptions import GitlabError
from gitlab.v4.objects import Project, ProjectMergeRequest

from bot.engines.gitlab_approvals import ApprovalBindings
from bot.engines.gitlab_values import (
    MAX_DESCRIPTION_CHARS,
    Person,
    commit_usernames,
    description,
    permission_of,
    person,
    pull_request_info,
    status_state,
)
from bot.model.approval import ForgeFacts, Review
from bot.model.errors import GitOpsBotError
from bot.model.job import Forge, PullRequestRef
from bot.ports import CheckReport, CommentMode, PullRequestInfo

log = logging.getLogger(__name__)

MAX_NOTE_CHARS = 65_536  # GitHub's comment limit, kept on GitLab (which allows 1,000,000)
STATUS_CONFLICT_RETRIES = 3
MAX_REMEMBERED_NOTES = 1024
_SAME_STATE = "Cannot transition status"


class GitLabError(GitOpsBotError):
    """A GitLab API call failed. `retryable`: trying the job again later may succeed."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class GitLabForge:
    def __init__(
        self,
        url: str,
        token: str,
        *,
        bindings: ApprovalBindings | None = None,
        per_page: int = 100,
        timeout_seconds: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._url = url.rstrip("/")
        self._token = token
        self._bindings = bindings
        self._sleep = sleep
        self._per_page = per_page
        self._gl = gitlab.Gitlab(
            self._url,
            private_token=token,
            per_page=per_page,
            timeout=timeout_seconds,
            retry_transient_errors=True,
            user_agent="gitops-bot",
        )
        self._me: str | None = None
        self._note_urls: dict[str, str] = {}  # PR key → its summary note, for status links

    def __repr__(self) -> str:
        return f"GitLabForge(url={self._url!r})"

    def close(self) -> None:
        self._gl.session.close()

    def clone_url(self, ref: PullRequestRef) -> str:
        """For GitMirror: the project's HTTPS URL (the token goes in a header, never here)."""
        return f"{self._url}/{ref.repo}.git"

    # -- reads -----------------------------------------------------------------------------

    def pull_request(self, ref: PullRequestRef) -> PullRequestInfo:
        with self._errors("read the merge request", ref):
            data = self._mr(ref, lazy=False).attributes
        refs = data.get("diff_refs") or {}
        head = refs.get("head_sha") or data.get("sha")
        if not refs.get("base_sha") or not head:
            raise GitLabError(
                f"GitLab: {ref.repo}!{ref.number} has no diff refs yet (still being prepared)",
                retryable=True,
            )
        # start_sha is the target branch's tip (trusted inputs come from there); GitLab's
        # base_sha is the merge base, which the worker computes itself from the mirror.
        base = refs.get("start_sha") or refs["base_sha"]
        return pull_request_info(ref, data, base_sha=str(base), head_sha=str(head))

    def open_pull_requests(self, repo: str, installation: str = "") -> list[PullRequestInfo]:
        """Open MRs; list items carry no diff_refs, so base_sha is "" (the worker fetches each
        MR it works on)."""
        return self.open_merge_requests(repo)

    def open_merge_requests(self, repo: str, source_branch: str = "") -> list[PullRequestInfo]:
        where = PullRequestRef(Forge.GITLAB, repo, 0)
        params = {"state": "opened", **({"source_branch": source_branch} if source_branch else {})}
        with self._errors("list open merge requests", where):
            items = self._project(repo).mergerequests.list(iterator=True, **params)
            return [
                pull_request_info(
                    PullRequestRef(Forge.GITLAB, repo, int(mr.iid)),
                    mr.attributes,
                    base_sha="",
                    head_sha=str(mr.attributes.get("sha") or ""),
                )
                for mr in items
            ]

    def changed_paths(self, ref: PullRequestRef) -> list[str]:
        """Old and new path of every file the MR changes (all pages of its diffs)."""
        path = f"/projects/{_id(ref.repo)}/merge_requests/{ref.number}/diffs"
        with self._errors("list the merge request's diffs", ref):
            paths: set[str] = set()
            for diff in self._gl.http_list(path, iterator=True, per_page=self._per_page):
                paths.update(p for p in (diff.get("old_path"), diff.get("new_path")) if p)
            return sorted(paths)

    def approval_facts(self, pr: PullRequestInfo, teams: Sequence[str]) -> ForgeFacts:
        ref = pr.ref
        with self._errors("read approvals, commits and members", ref):
            mr = self._mr(ref, lazy=False)
            approvals = mr.approvals.get().attributes.get("approved_by") or []
            approvers = [p for p in (person(a.get("user")) for a in approvals) if p is not None]
            heads = self._bindings.heads(ref.repo, ref.number) if self._bindings else {}
            reviews = tuple(
                Review(p.username, "approved", heads.get(p.username, "")) for p in approvers
            )
            author = person(mr.attributes.get("author"))
            people = {p.username: p for p in [*approvers, *([author] if author else [])]}
            detailed = [self._with_email(p) for p in people.values()]
            commits = [c.attributes for c in mr.commits(per_page=self._per_page)]
            project = self._project(ref.repo)
            permissions = {p.username: self._access(project, p.user_id) for p in detailed}
            members = {team: self._group_members(team) for team in teams}
        return ForgeFacts(
            author=pr.author,
            reviews=reviews,
            labels=pr.labels,
            title=pr.title,
            target_branch=pr.base_ref,
            committers=commit_usernames(commits, detailed),
            teams=members,
            permissions=permissions,
        )

    def permission(self, ref: PullRequestRef, user: str) -> str:
        with self._errors(f"read the access level of {user}", ref):
            found = [
                u for u in self._gl.users.list(username=user, get_all=False) if u.username == user
            ]
            if not found:
                return "none"
            return self._access(self._project(ref.repo), int(found[0].id))

    def _access(self, project: Project, user_id: int) -> str:
        """The member's effective access level (inherited from groups included)."""
        try:
            member = project.members_all.get(user_id)
        except GitlabError as exc:
            if exc.response_code == 404:
                return "none"
            raise
        return permission_of(member.attributes.get("access_level"), member.attributes.get("state"))

    def _with_email(self, who: Person) -> Person:
        """`public_email` (GET /users/:id) lets commits be matched to the user."""
        try:
            user = self._gl.users.get(who.user_id).attributes
        except GitlabError as exc:
            if exc.response_code != 404:
                raise
            return who  # a deleted account: matched by name only
        email = user.get("public_email")
        return Person(who.user_id, who.username, who.name, email if isinstance(email, str) else "")

    def _group_members(self, group: str) -> frozenset[str]:
        """Direct members (Guest and up, active) of the group whose full path the rules name.
        Inherited members are left out: a parent group's members are not a subgroup's team."""
        try:
            members = self._gl.groups.get(group, lazy=True).members.list(iterator=True)
            return frozenset(
                str(m.username)
                for m in members
                if permission_of(m.attributes.get("access_level"), m.attributes.get("state"))
                != "none"
            )
        except GitlabError as exc:
            if exc.response_code not in (403, 404):
                raise
            # Fail closed: nobody counts as a member of a group the bot cannot see.
            log.warning("group %s is unknown or not visible to the bot's token", group)
            return frozenset()

    # -- writes ----------------------------------------------------------------------------

    def upsert_comment(self, ref: PullRequestRef, marker: str, body: str, mode: CommentMode) -> str:
        if not marker.strip() or marker not in body:
            raise GitLabError(
                "the note body must contain its marker, or the next run cannot find it"
            )
        if len(body) > MAX_NOTE_CHARS:
            raise GitLabError(
                f"the note has {len(body)} characters; the bot posts at most {MAX_NOTE_CHARS}"
            )
        with self._errors("publish the note", ref):
            notes = self._mr(ref).notes
            ours = self._our_notes(
                notes.list(iterator=True, sort="asc", order_by="created_at"), marker
            )
            live = ours[-1] if ours else None
            if live is not None and mode is not CommentMode.DELETE_AND_REPOST:
                if live.body != body:  # an unchanged note costs no write
                    live.body = body
                    live.save()
                note_id = int(live.id)
            else:
                for old in ours:  # old first, then the new one: a retry converges
                    notes.delete(old.id)
                note_id = int(notes.create({"body": body}).id)
        url = f"{self._url}/{ref.repo}/-/merge_requests/{ref.number}#note_{note_id}"
        self._note_urls.pop(ref.key, None)
        self._note_urls[ref.key] = url
        while len(self._note_urls) > MAX_REMEMBERED_NOTES:  # a long-lived worker: oldest first
            self._note_urls.pop(next(iter(self._note_urls)))
        return url

    def _our_notes(self, notes: Iterable[Any], marker: str) -> list[Any]:
        me = self._whoami()
        return [
            n
            for n in notes
            if not n.attributes.get("system")
            and marker in (n.attributes.get("body") or "")
            and (n.attributes.get("author") or {}).get("username") == me
        ]

    def _whoami(self) -> str:
        """The token's user: only its notes are the bot's (a human may quote the marker)."""
        if self._me is None:
            data = self._gl.http_get("/user")
            name = data.get("username") if isinstance(data, dict) else None
            if not isinstance(name, str):
                raise GitLabError("GitLab: GET /user did not name the token's user")
            self._me = name
        return self._me

    def publish_check(self, ref: PullRequestRef, check: CheckReport) -> None:
        target = self._note_urls.get(ref.key) or check.details_url
        target = target or f"{self._url}/{ref.repo}/-/merge_requests/{ref.number}"
        data = {
            "state": status_state(check),
            "name": check.name,
            "description": description(check),
            **({"target_url": target} if len(target) <= MAX_DESCRIPTION_CHARS else {}),
        }
        with self._errors(f"publish the status {check.name!r}", ref):
            commit = self._project(ref.repo).commits.get(check.head_sha, lazy=True)
            for attempt in range(STATUS_CONFLICT_RETRIES + 1):
                try:
                    commit.statuses.create(data)
                    return
                except GitlabError as exc:
                    if exc.response_code == 400 and _SAME_STATE in str(exc.error_message):
                        return  # already in that state
                    if exc.response_code != 409 or attempt == STATUS_CONFLICT_RETRIES:
                        raise
                    self._sleep(1.0 + attempt)  # another update of this SHA is in progress

    # -- plumbing --------------------------------------------------------------------------

    def _project(self, repo: str) -> Project:
        return self._gl.projects.get(repo, lazy=True)

    def _mr(self, ref: PullRequestRef, *, lazy: bool = True) -> ProjectMergeRequest:
        return self._project(ref.repo).mergerequests.get(ref.number, lazy=lazy)

    @contextmanager
    def _errors(self, action: str, ref: PullRequestRef) -> Iterator[None]:
        where = f"{ref.repo}!{ref.number}" if ref.number > 0 else ref.repo
        try:
            yield
        except GitlabError as exc:
            status = exc.response_code
            message = self._clean(str(exc.error_message))[:300]
            raise GitLabError(
                f"GitLab: cannot {action} ({where}): {status or ''} {message}".rstrip(),
                status=status,
                retryable=status is None or status >= 500 or status in (401, 409, 429),
            ) from None
        except requests.RequestException as exc:
            # from None: the exception holds the request, its PRIVATE-TOKEN header included.
            raise GitLabError(
                f"GitLab: cannot {action} ({where}): {type(exc).__name__}", retryable=True
            ) from None

    def _clean(self, text: str) -> str:
        return text.replace(self._token, "[REDACTED]") if self._token else text


def _id(repo: str) -> str:
    return quote(repo, safe="")
