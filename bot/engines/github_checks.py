"""Check-run payloads within GitHub's limits: text fields cut with a note that says how much was
cut (never silently), annotations in batches of 50 per request."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from github.CheckRun import CheckRun
from github.GithubObject import NotSet
from github.PaginatedList import PaginatedList
from github.Repository import Repository

from bot.engines.github_auth import GitHubError
from bot.engines.github_http import Writer
from bot.ports import CheckAnnotation, CheckReport, CheckState

MAX_OUTPUT_CHARS = 65_535  # output.summary and output.text, each
ANNOTATIONS_PER_REQUEST = 50
# Documented for annotation titles; check titles get the same cap, they show on one line.
MAX_TITLE_CHARS = 255
MAX_ANNOTATION_MESSAGE_BYTES = 64 * 1024
# Cut at a line break when there is one this close to the limit, so a table row stays whole.
_LINE_SNAP_CHARS = 2_000
_LEVELS = {
    "notice": "notice",
    "info": "notice",
    "warning": "warning",
    "failure": "failure",
    "error": "failure",
}
CONCLUSIONS = frozenset(
    {"action_required", "cancelled", "failure", "neutral", "success", "skipped", "timed_out"}
)


@dataclass(frozen=True, slots=True)
class CheckOutput:
    title: str
    summary: str
    text: str
    batches: tuple[tuple[dict[str, Any], ...], ...]  # annotation payloads, ≤50 each

    def payload(self, batch: int) -> dict[str, Any]:
        """The `output` object of one request: every request repeats title, summary and text
        (GitHub requires title and summary on each update), with that request's annotations."""
        output: dict[str, Any] = {"title": self.title, "summary": self.summary}
        if self.text:
            output["text"] = self.text
        if self.batches and batch < len(self.batches):
            output["annotations"] = list(self.batches[batch])
        return output

    @property
    def requests(self) -> int:
        return max(1, len(self.batches))


def truncate(text: str, limit: int, continued: str = "") -> str:
    """`text` if it fits in `limit` characters, else its head and "… (N more characters)".

    N counts what was cut; `continued` says where the rest went, if anywhere."""
    if len(text) <= limit:
        return text
    suffix = f" {continued}" if continued else ""
    # The note's length depends on N; the longest N (everything) bounds it.
    room = limit - len(_note(len(text), suffix))
    if room <= 0:
        raise ValueError(f"limit {limit} leaves no room for the truncation note")
    cut = text.rfind("\n", room - _LINE_SNAP_CHARS, room)
    keep = cut if cut > 0 else room
    return text[:keep] + _note(len(text) - keep, suffix)


def _note(omitted: int, suffix: str) -> str:
    return f"\n\n… ({omitted} more characters{suffix})"


def split_summary(summary: str, text: str) -> tuple[str, str]:
    """A summary over the limit continues at the top of the text; then the text is cut."""
    if len(summary) <= MAX_OUTPUT_CHARS:
        return summary, truncate(text, MAX_OUTPUT_CHARS)
    head = truncate(summary, MAX_OUTPUT_CHARS, continued="continued in the details")
    kept = head.rfind("\n\n… (")
    rest = summary[kept:].lstrip("\n")
    merged = rest + ("\n\n" + text if text else "")
    return head, truncate(merged, MAX_OUTPUT_CHARS)


def annotation_payload(annotation: CheckAnnotation) -> dict[str, Any]:
    level = _LEVELS.get(annotation.level.lower())
    if level is None:
        raise GitHubError(
            f"unknown annotation level {annotation.level!r} for {annotation.path}",
            hint="use notice, warning or failure",
        )
    start = max(1, annotation.start_line)
    payload: dict[str, Any] = {
        "path": annotation.path,
        "start_line": start,
        "end_line": max(start, annotation.end_line),
        "annotation_level": level,
        "message": _cap_bytes(annotation.message, MAX_ANNOTATION_MESSAGE_BYTES),
    }
    if annotation.title:
        payload["title"] = truncate(annotation.title, MAX_TITLE_CHARS)
    return payload


def _cap_bytes(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    # 64 bytes hold the note; "ignore" drops a character split by the cut.
    cut = data[: limit - 64].decode("utf-8", "ignore")
    return cut + _note(len(text) - len(cut), "")


def check_output(check: CheckReport) -> CheckOutput:
    """Validates the report (a conclusion exactly when completed) and shapes its output."""
    if check.state is CheckState.COMPLETED and check.conclusion not in CONCLUSIONS:
        raise GitHubError(
            f"check {check.name!r} is completed but its conclusion is {check.conclusion!r}",
            hint="a completed check needs one of: " + ", ".join(sorted(CONCLUSIONS)),
        )
    if check.state is not CheckState.COMPLETED and check.conclusion:
        raise GitHubError(
            f"check {check.name!r} is {check.state.value} but has conclusion "
            f"{check.conclusion!r}: GitHub would mark it completed",
        )
    summary, text = split_summary(check.summary or check.title or check.name, check.text)
    annotations = [annotation_payload(a) for a in check.annotations]
    batches = tuple(
        tuple(annotations[i : i + ANNOTATIONS_PER_REQUEST])
        for i in range(0, len(annotations), ANNOTATIONS_PER_REQUEST)
    )
    return CheckOutput(
        title=truncate(check.title or check.name, MAX_TITLE_CHARS),
        summary=summary,
        text=text,
        batches=batches,
    )


def publish_check_run(
    repo: Repository, check: CheckReport, output: CheckOutput, app_id: int | None, write: Writer
) -> CheckRun:
    """One check run per (name, head SHA): updated when it exists, else created; annotations
    beyond the first 50 follow in further updates."""
    existing = find_check_run(repo, check, app_id)
    completed = check.state is CheckState.COMPLETED
    fields: dict[str, Any] = {
        "status": check.state.value,
        "conclusion": check.conclusion if completed else NotSet,
        "details_url": check.details_url or NotSet,
        "output": output.payload(0),
    }
    # GitHub appends annotations on every update: re-publishing annotations onto a run that has
    # some would show each twice, so such a run is superseded by a new one (GitHub shows the
    # newest run of a name) instead.
    if existing is not None and not (check.annotations and existing.output.annotations_count):
        run = existing
        write(partial(run.edit, **fields))
    else:
        run = write(partial(repo.create_check_run, check.name, check.head_sha, **fields))
    for batch in range(1, output.requests):
        write(partial(run.edit, output=output.payload(batch)))
    return run


def find_check_run(repo: Repository, check: CheckReport, app_id: int | None) -> CheckRun | None:
    params: dict[str, Any] = {"check_name": check.name, "filter": "latest"}
    if app_id is not None:
        params["app_id"] = app_id  # another App's run cannot be updated by this one
    # PyGithub's Commit.get_check_runs() cannot filter by app_id.
    runs: PaginatedList[CheckRun] = PaginatedList(
        CheckRun,
        repo.requester,
        f"{repo.url}/commits/{check.head_sha}/check-runs",
        params,
        list_item="check_runs",
    )
    mine = [run for run in runs if run.name == check.name]
    return max(mine, key=lambda run: run.id) if mine else None
