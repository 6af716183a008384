"""The one summary comment per pull request, found again by its hidden marker.

The newest of the bot's comments that carries the marker is the live one; in
minimize-and-repost mode the older ones keep their marker, folded away as outdated, and are
never looked at again. The old comment is handled before the new one is posted, so a job that
fails in between and is retried converges on exactly one live comment.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from github.Issue import Issue
from github.IssueComment import IssueComment

from bot.engines.github_auth import GitHubError
from bot.engines.github_http import Writer
from bot.ports import CommentMode

MAX_COMMENT_CHARS = 65_536


def check_comment(marker: str, body: str) -> None:
    """Refuses, before any request, a body GitHub would reject or the next run could not find."""
    if not marker.strip() or marker not in body:
        raise GitHubError(
            "the comment body must contain its marker, or the next run cannot find it",
            hint="start the body with the hidden marker",
        )
    if len(body) > MAX_COMMENT_CHARS:
        raise GitHubError(
            f"the comment has {len(body)} characters; GitHub takes at most {MAX_COMMENT_CHARS}",
            hint="keep the summary short and move long diffs to the check run text",
        )


def upsert_comment(
    issue: Issue,
    marker: str,
    body: str,
    mode: CommentMode,
    *,
    is_ours: Callable[[IssueComment], bool],
    write: Writer,
) -> str:
    """Creates or replaces the live comment; returns its URL."""
    live = find_comment(issue, marker, is_ours)
    if mode is CommentMode.UPDATE and live is not None:
        if live.body != body:  # an unchanged comment costs no write
            write(partial(live.edit, body))
        return live.html_url
    if live is not None and mode is CommentMode.DELETE_AND_REPOST:
        write(live.delete)
    elif live is not None and mode is CommentMode.MINIMIZE_AND_REPOST:
        write(partial(live.minimize, "OUTDATED"))
    return write(partial(issue.create_comment, body)).html_url


def find_comment(
    issue: Issue, marker: str, is_ours: Callable[[IssueComment], bool]
) -> IssueComment | None:
    """The newest comment of the bot's that carries the marker, over all pages. A comment by
    anyone else that quotes the marker is never the bot's to edit."""
    found = None
    for comment in issue.get_comments():
        if marker in (comment.body or "") and is_ours(comment):
            found = comment
    return found
