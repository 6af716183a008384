"""The composite GitHub Action (`action.yml`), run for real by `act` on this host.

act runs the job on the host (`-P ubuntu-latest=-self-hosted`: no Docker), special-cases
`actions/checkout` as a copy of the local repository, and with `--json` reports every workflow
command, summary and output it saw. The repository is the bundled demo built as real git history
(`build_demo_repository`) plus a commit with a dozen invalid Deployments, so there are more
errors and warnings than GitHub annotates; the event is octokit's `pull_request` example with
this repository's SHAs.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.core.report.decode import decode_report
from bot.core.report.format.markdown import format_markdown
from bot.entrypoints.cli import main
from bot.entrypoints.demo import PR_BRANCH, build_demo_repository
from tests.integration.conftest import git

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ACT = ROOT / ".venv" / "bin" / "act"
WEBHOOKS = ROOT.parent / "shared" / "fixtures" / "github" / "webhook-examples.json"
# The SARIF 2.1.0 (rtm.5) JSON schema as Microsoft ships it in npm @microsoft/jest-sarif (MIT);
# no PyPI package carries it. Pinned by version and content hash.
SARIF_SCHEMA_PACKAGE = "@microsoft/jest-sarif@1.0.0-beta.0"
SARIF_SCHEMA_MEMBER = "package/lib/schemas/sarif-2.1.0-rtm.5.json"
SARIF_SCHEMA_SHA256 = "2d99159ae54a3eea97f81781cff48780548657c35949f4b7f25e99a2ba4de4f8"
BROKEN_DEPLOYMENTS = 12  # > 10: GitHub keeps 10 annotations per kind and step


def _broken_deployments() -> str:
    docs = [
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: broken-{i:02d}\n"
        f"  namespace: prod\nspec:\n  replicaz: 2\n  selector:\n    matchLabels: {{app: b{i}}}\n"
        f"  template:\n    metadata:\n      labels: {{app: b{i}}}\n    spec:\n"
        f"      containers:\n        - name: app\n          image: ghcr.io/acme/app:1.0.{i}\n"
        for i in range(BROKEN_DEPLOYMENTS)
    ]
    return "---\n".join(docs)


@dataclass(frozen=True)
class PullRequestRepo:
    path: Path
    base: str
    head: str


@pytest.fixture(scope="module")
def pr_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PullRequestRepo]:
    with ExitStack() as stack:
        demo, _base, _head = build_demo_repository(stack)
        repo = tmp_path_factory.mktemp("action") / "gitops-repo"
        shutil.copytree(demo, repo, symlinks=True)
    broken = repo / "apps" / "broken" / "deployments.yaml"
    broken.parent.mkdir(parents=True)
    broken.write_text(_broken_deployments(), encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "Add a dozen Deployments with a typo")
    yield PullRequestRepo(repo, git(repo, "rev-parse", "main"), git(repo, "rev-parse", "HEAD"))


def _event(pr: PullRequestRepo) -> dict[str, Any]:
    examples = next(e for e in json.loads(WEBHOOKS.read_text()) if e["name"] == "pull_request")
    event = copy.deepcopy(next(x for x in examples["examples"] if x["action"] == "opened"))
    event["pull_request"]["base"].update(sha=pr.base, ref="main")
    event["pull_request"]["head"].update(sha=pr.head, ref=PR_BRANCH)
    return event


def _workflow(steps: str) -> str:
    return (
        "name: gitops-bot\non: pull_request\npermissions:\n  contents: read\n"
        "jobs:\n  review:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n        with:\n          fetch-depth: 0\n" + steps
    )


@dataclass(frozen=True)
class ActRun:
    returncode: int
    events: list[dict[str, Any]]
    seconds: float

    def log(self) -> str:
        return "".join(str(e.get("msg", "")) + "\n" for e in self.events)

    def of_step(self, step_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events if (e.get("stepID") or [""])[0] == step_id]

    def annotations(self, step_id: str, level: str) -> list[dict[str, Any]]:
        """Workflow commands as act parsed them: {"kvPairs": {file, line, ...}, "arg": text}."""
        return [e for e in self.of_step(step_id) if e.get("command") == level]

    def output(self, step_id: str) -> list[str]:
        """What the step's scripts printed (not act's own lines or the scripts' text)."""
        return [str(e["msg"]).rstrip("\n") for e in self.of_step(step_id) if e.get("raw_output")]

    def summaries(self, step_id: str) -> list[str]:
        return [e["content"] for e in self.of_step(step_id) if e.get("command") == "summary"]


def run_act(repo: Path, workflow: str, event: dict[str, Any], cache: Path) -> ActRun:
    """act on the generated repository; its caches (workspace copies, tool cache) in `cache`."""
    workflows = repo / ".github" / "workflows"
    workflows.mkdir(parents=True, exist_ok=True)
    (workflows / "review.yml").write_text(workflow, encoding="utf-8")
    event_file = cache / "event.json"
    event_file.write_text(json.dumps(event), encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_"))},
        "XDG_CACHE_HOME": str(cache),
    }
    started = time.monotonic()
    proc = subprocess.run(
        [
            *(str(ACT), "pull_request", "-e", str(event_file), "-W", str(workflows / "review.yml")),
            *("-P", "ubuntu-latest=-self-hosted", "--json", "--action-offline-mode"),
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    (cache / "act.jsonl").write_text(proc.stdout + proc.stderr, encoding="utf-8")  # to debug
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return ActRun(proc.returncode, events, time.monotonic() - started)


def install_action(repo: Path, full_source: bool) -> str:
    """The action as a local path of the repository, as a workflow would `uses:` it."""
    target = repo / ".github" / "actions" / "gitops-bot"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copy2(ROOT / "action.yml", target / "action.yml")
    if full_source:  # what `uses: owner/gitops-bot@v1` gets: the whole repository
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(ROOT / name, target / name)
        ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
        for name in ("bot", "policies"):
            shutil.copytree(ROOT / name, target / name, ignore=ignore)
    return "./.github/actions/gitops-bot"


@pytest.fixture(scope="module")
def sarif_schema(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    # pytest's cache keeps the download across runs; without it (-p no:cacheprovider), a tmp dir.
    store = getattr(request.config, "cache", None)
    cache = store.mkdir("sarif-schema") if store else tmp_path_factory.mktemp("sarif-schema")
    schema = cache / "sarif-2.1.0-rtm.5.json"
    if not schema.is_file():
        subprocess.run(
            ["npm", "pack", "--silent", SARIF_SCHEMA_PACKAGE],
            cwd=cache,
            check=True,
            capture_output=True,
            timeout=300,
        )
        (tarball,) = cache.glob("microsoft-jest-sarif-*.tgz")
        with tarfile.open(tarball) as tar:
            member = tar.extractfile(SARIF_SCHEMA_MEMBER)
            assert member is not None
            schema.write_bytes(member.read())
    data = schema.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SARIF_SCHEMA_SHA256
    return json.loads(data)  # type: ignore[no-any-return]


def _expected_report(pr: PullRequestRepo, tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / "direct.json"
    argv = ["review", "--repo", str(pr.path), "--base", pr.base, "--head", pr.head]
    main([*argv, "--format", "json", "--output", str(out), "--fail-on", "never"])
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def test_act_runs_the_action_on_a_pull_request(pr_repo, sarif_schema, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    uses = install_action(pr_repo.path, full_source=False)
    steps = f"""\
      - id: bot
        uses: {uses}
        with:
          venv: {ROOT / ".venv"}
          fail-on: never
          comment: "true"
          sarif-file: {out / "gitops-bot.sarif"}
      - id: strict
        uses: {uses}
        continue-on-error: true
        with:
          venv: {ROOT / ".venv"}
          format: none
      - id: republish
        uses: {uses}
        with:
          venv: {ROOT / ".venv"}
          report: ${{{{ steps.bot.outputs.report-json }}}}
          fail-on: never
          format: none
          comment: "true"
          pull-request: "2"
          head-sha: ${{{{ github.event.pull_request.head.sha }}}}
      - env:
          FINDINGS: ${{{{ steps.bot.outputs.findings }}}}
          ERRORS: ${{{{ steps.bot.outputs.errors }}}}
          WARNINGS: ${{{{ steps.bot.outputs.warnings }}}}
          PLAN: ${{{{ steps.bot.outputs.plan }}}}
          REPORT_JSON: ${{{{ steps.bot.outputs.report-json }}}}
          STRICT_OUTCOME: ${{{{ steps.strict.outcome }}}}
          STRICT_EXIT: ${{{{ steps.strict.outputs.exit-code }}}}
        run: |
          printf '%s\\n' "$FINDINGS" "$ERRORS" "$WARNINGS" "$PLAN" "$STRICT_OUTCOME" \\
            "$STRICT_EXIT" > {out / "outputs.txt"}
          cp "$REPORT_JSON" {out / "report.json"}
"""
    run = run_act(pr_repo.path, _workflow(steps), _event(pr_repo), tmp_path)
    print(f"act took {run.seconds:.1f} s")  # the README of tests/integration quotes it
    assert run.returncode == 0, run.log()[-4000:]

    expected = _expected_report(pr_repo, tmp_path)
    errors = [f for f in expected["findings"] if f["severity"] == "error"]
    warnings = [f for f in expected["findings"] if f["severity"] == "warning"]
    assert len(errors) >= BROKEN_DEPLOYMENTS and len(warnings) > 10

    # Outputs: the counts, the plan line and the report file, as later steps see them.
    findings, n_errors, n_warnings, plan, strict_outcome, strict_exit = (
        (out / "outputs.txt").read_text().splitlines()
    )
    assert (int(findings), int(n_errors), int(n_warnings)) == (
        len(expected["findings"]),
        len(errors),
        len(warnings),
    )
    assert plan == expected["plan"]["summary"]
    assert plan.startswith(f"+{1 + BROKEN_DEPLOYMENTS} ~4 -1 resources in 5 apps")
    report = json.loads((out / "report.json").read_text())
    assert report["schema"] == "gitops-bot/report/v1"
    assert report["change"]["head"]["commit"] == pr_repo.head
    assert report["findings"] == expected["findings"]
    # fail-on from the config (error): the step failed, after publishing, with exit code 1.
    assert (strict_outcome, strict_exit) == ("failure", "1")

    # Annotations: 10 errors and 10 warnings, the first in the findings' order, then a log line.
    annotated_errors = run.annotations("bot", "error")
    annotated_warnings = run.annotations("bot", "warning")
    assert len(annotated_errors) == 10 and len(annotated_warnings) == 10
    first = errors[0]
    assert annotated_errors[0]["kvPairs"] == {
        "file": first["location"]["path"],
        "line": str(first["location"]["line"]),
        "col": str(first["location"]["column"]),
        "title": first["rule_id"],
    }
    assert annotated_errors[0]["arg"] == f"{first['message']}\n{first['hint']}"
    printed = "\n".join(run.output("bot"))
    assert f"{len(errors) - 10} errors and {len(warnings) - 10} warnings not annotated" in printed
    assert any("PR comment skipped: no token" in line for line in run.output("bot"))

    # The step summary is the PR comment: verdict, plan line, findings table.
    (summary,) = set(run.summaries("bot"))
    assert summary == format_markdown(decode_report(expected))
    assert f"\n**{expected['plan']['summary']}**\n" in summary
    assert "### Findings" in summary and "`schema-invalid`" in summary

    # `report:` publishes an existing report without reviewing (the workflow_run pattern).
    assert set(run.summaries("republish")) == {summary}
    assert not any(line.startswith("gitops-bot: fetching") for line in run.output("republish"))
    inner = [e["stepID"] for e in run.of_step("republish") if e.get("stepResult")]
    assert [step[1] for step in inner if len(step) == 2] == [
        "install",
        "publish",
        "verdict",
    ]

    # SARIF: valid against the SARIF 2.1.0 schema, one result per finding.
    sarif = json.loads((out / "gitops-bot.sarif").read_text())
    jsonschema.validate(sarif, sarif_schema)
    assert len(sarif["runs"][0]["results"]) == len(expected["findings"])


def test_act_installs_the_action_from_its_own_directory_once(pr_repo, tmp_path):
    """The default path: pip-install the action's own checkout into a virtualenv in the runner's
    tool cache (here: a fresh one); a second use in the job reuses it. (act copies the workspace
    to a new directory per run, so across runs it installs again, as a new action ref would.)"""
    uses = install_action(pr_repo.path, full_source=True)
    step = f"""\
      - id: {{name}}
        uses: {uses}
        env:
          GITOPS_BOT_KUSTOMIZE: {ROOT / ".venv" / "bin" / "kubectl"}
        with:
          fail-on: never
          format: none
"""
    steps = step.format(name="first") + step.format(name="second")
    run = run_act(pr_repo.path, _workflow(steps), _event(pr_repo), tmp_path)
    print(f"act with a fresh install took {run.seconds:.1f} s")
    assert run.returncode == 0, run.log()[-4000:]
    assert any(line.startswith("gitops-bot: installing 0.1.0 into") for line in run.output("first"))
    assert any(line.startswith("gitops-bot: reusing ") for line in run.output("second"))
    assert not any("installing" in line for line in run.output("second"))
    for step_id in ("first", "second"):
        (summary,) = set(run.summaries(step_id))
        assert summary.startswith("<!-- gitops-bot:review -->\n## ✅ gitops-bot: ")
        assert f"**+{1 + BROKEN_DEPLOYMENTS} ~4 -1 resources in 5 apps" in summary
