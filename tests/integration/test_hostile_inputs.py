"""Hostile and broken pull requests, end to end: real git repos, real tools, the real CLI.

Every bad input must become a finding with its file and line, and must not stop the rest of the
repository from rendering: each PR also changes a healthy plain-YAML folder whose diff must
appear in the report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.core.report.format.json_report import format_json, report_to_dict
from bot.model.report import Report
from tests.integration.conftest import (
    CliRun,
    Files,
    PullRequest,
    RecordingRunner,
    Symlink,
    review_commits,
)

pytestmark = pytest.mark.integration

MakePR = Callable[[Files, Files], PullRequest]
RunCli = Callable[..., CliRun]


def configmap(name: str, value: str, namespace: str = "demo") -> str:
    return (
        "apiVersion: v1\n"
        "kind: ConfigMap\n"
        "metadata:\n"
        f"  name: {name}\n"
        f"  namespace: {namespace}\n"
        "data:\n"
        f'  value: "{value}"\n'
    )


# The healthy part of every PR: one plain folder whose ConfigMap value goes from 1 to 2.
HEALTHY_BASE: Files = {"healthy/settings.yaml": configmap("settings", "1")}
HEALTHY_HEAD: Files = {"healthy/settings.yaml": configmap("settings", "2")}
HEALTHY_DIFF = {
    "target": "plain:healthy",
    "resource": {"group": "", "kind": "ConfigMap", "namespace": "demo", "name": "settings"},
    "change": "modified",
    "origin": {"path": "healthy/settings.yaml", "line": 1, "column": 1},
    "fields": [{"path": "data.value", "change": "modified"}],
}


def assert_healthy_folder_rendered(report: dict[str, Any]) -> None:
    healthy = [d for d in report["diffs"] if d["target"] == "plain:healthy"]
    assert [{k: d[k] for k in HEALTHY_DIFF} for d in healthy] == [HEALTHY_DIFF]
    assert {c["target"]: c["status"] for c in report["coverage"]}["plain:healthy"] == "rendered"


def pr_with(make_pr: MakePR, base: Files, head: Files) -> PullRequest:
    return make_pr({**HEALTHY_BASE, **base}, {**HEALTHY_HEAD, **head})


def where(finding: dict[str, Any]) -> tuple[str, str, int]:
    location = finding["location"]
    return finding["rule_id"], location["path"], location["line"]


def as_json(report: Report) -> tuple[dict[str, Any], str]:
    return report_to_dict(report), format_json(report)


# --- malformed YAML ---

APP_HEADER = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: "1"\n'

MALFORMED = [
    pytest.param(APP_HEADER + ' b: "2"\n', 7, id="bad-indentation"),
    pytest.param(APP_HEADER + '\tb: "2"\n', 7, id="tab-indentation"),
    pytest.param(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app\ndata:\n  a: '1'\n",
        4,  # opens on line 3; libyaml stops at `data:` on line 4 (and names line 3)
        id="unclosed-flow-mapping",
    ),
    pytest.param(APP_HEADER + "  b: !!int abc\n", 7, id="bad-explicit-tag"),
    pytest.param(
        APP_HEADER
        + "---\n"
        + APP_HEADER.replace("name: app", "name: two")
        + "  x: [1, 2\n  y: 3\n",
        15,  # the flow sequence opens on line 14; libyaml stops at `y:` on line 15
        id="error-in-second-document",
    ),
    pytest.param(
        # The quote opens on line 7; libyaml only notices at the end of the stream (line 9, past
        # the last line of this 8-line file): the finding must point where the quote opens.
        APP_HEADER + '  b: "2\n  c: 3\n',
        7,
        id="unterminated-quote",
    ),
]


@pytest.mark.parametrize(("content", "line"), MALFORMED)
def test_malformed_yaml_is_a_finding_at_its_line(
    make_pr: MakePR, run_cli: RunCli, content: str, line: int
) -> None:
    pr = pr_with(
        make_pr,
        {"apps/app.yaml": APP_HEADER, "apps/other.yaml": configmap("other", "x")},
        {"apps/app.yaml": content},
    )
    run = run_cli(pr)

    assert [where(f) for f in run.findings()] == [("yaml-malformed", "apps/app.yaml", line)]
    (finding,) = run.findings()
    assert finding["severity"] == "error"
    assert finding["message"].startswith("invalid YAML: ")
    assert run.coverage()["plain:apps"] == "failed"
    assert run.diffs("plain:apps") == []
    assert run.exit_code == 1
    assert_healthy_folder_rendered(run.report)


def test_duplicate_keys_are_rejected_like_kustomize_does(make_pr: MakePR, run_cli: RunCli) -> None:
    """A duplicated mapping key is an error, never silently resolved to its last value.

    kustomize (and so Flux's kustomize-controller, and kubectl) refuse the file:
    `yaml: unmarshal errors: line 7: mapping key "a" already defined at line 6`. The bot shows
    a clean diff (`data.a: "2"`) for a manifest that would never be applied.
    """
    pr = pr_with(
        make_pr, {"apps/app.yaml": APP_HEADER}, {"apps/app.yaml": APP_HEADER + '  a: "2"\n'}
    )
    run = run_cli(pr)

    assert [where(f) for f in run.findings()] == [("yaml-duplicate-key", "apps/app.yaml", 7)]
    assert run.diffs("plain:apps") == []
    assert_healthy_folder_rendered(run.report)


# --- parser bombs ---

BILLION_LAUGHS = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n"
    '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"  {name}: &{name} [{','.join([f'*{prev}'] * 9)}]\n"
        for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
    )
)  # 9^9 ≈ 3.9e8 leaves from 14 lines

DEEP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n  x: " + "[" * 100_000


@pytest.mark.parametrize(
    ("content", "rule_id", "line"),
    [
        # Rejected where the expanded size first passes the node budget: at `g: &g` (9^7 nodes).
        pytest.param(BILLION_LAUGHS, "yaml-alias-bomb", 12, id="billion-laughs"),
        pytest.param(DEEP, "yaml-too-deep", 6, id="100000-deep-flow-sequence"),
    ],
)
def test_parser_bombs_are_refused_fast(
    make_pr: MakePR, run_cli: RunCli, content: str, rule_id: str, line: int
) -> None:
    pr = pr_with(make_pr, {}, {"bombs/bomb.yaml": content})
    started = time.monotonic()
    run = run_cli(pr)
    elapsed = time.monotonic() - started

    assert elapsed < 5, f"review took {elapsed:.1f} s"
    assert [where(f) for f in run.findings()] == [(rule_id, "bombs/bomb.yaml", line)]
    assert run.coverage()["plain:bombs"] == "failed"
    assert run.exit_code == 1
    assert_healthy_folder_rendered(run.report)


# --- size cap ---


def test_file_over_the_size_cap_is_not_read(make_pr: MakePR, run_cli: RunCli) -> None:
    big = configmap("big", "x" * 5000)
    pr = pr_with(
        make_pr,
        {".gitops-bot.yaml": "render:\n  max_file_bytes: 1000\n"},
        {"big/data.yaml": big},
    )
    run = run_cli(pr)

    assert [where(f) for f in run.findings()] == [("file-too-large", "big/data.yaml", 1)]
    (finding,) = run.findings()
    assert f"big/data.yaml is {len(big)} bytes, over the 1000-byte limit" in finding["message"]
    assert "x" * 100 not in run.text
    assert run.coverage()["plain:big"] == "failed"
    assert_healthy_folder_rendered(run.report)


def test_base_size_cap_wins_over_the_prs_own_config(make_pr: MakePR, run_cli: RunCli) -> None:
    pr = pr_with(
        make_pr,
        {".gitops-bot.yaml": "render:\n  max_file_bytes: 1000\n"},
        {
            ".gitops-bot.yaml": "render:\n  max_file_bytes: 10000000\n",
            "big/data.yaml": configmap("big", "x" * 5000),
        },
    )
    run = run_cli(pr)

    assert [where(f) for f in run.findings()] == [("file-too-large", "big/data.yaml", 1)]
    assert any("This change edits .gitops-bot.yaml" in n for n in run.report["notes"])


# --- kustomize: remote bases, path escapes, plugins ---

KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
OK_KUSTOMIZE_BASE: Files = {
    "ok/kustomization.yaml": KUSTOMIZATION + "resources:\n  - cm.yaml\n",
    "ok/cm.yaml": configmap("ok", "1"),
}
OK_KUSTOMIZE_HEAD: Files = {"ok/cm.yaml": configmap("ok", "2")}


def assert_ok_kustomize_rendered(report: dict[str, Any]) -> None:
    (diff,) = [d for d in report["diffs"] if d["target"] == "kustomize:ok"]
    assert diff["resource"] == {"group": "", "kind": "ConfigMap", "namespace": "demo", "name": "ok"}
    assert diff["fields"] == [{"path": "data.value", "change": "modified"}]


def test_remote_bases_are_refused_before_kustomize_runs(
    make_pr: MakePR, recording_runner: RecordingRunner
) -> None:
    remote = (
        KUSTOMIZATION
        + "resources:\n"  # line 3
        + "  - github.com/org/repo//x?ref=v1\n"  # 4
        + "  - https://example.com/x.yaml\n"  # 5
        + "  - git@github.com:org/repo.git//base?ref=main\n"  # 6
        + "  - ssh://git@gitlab.com/org/repo.git\n"  # 7
        + "  - local.yaml\n"  # 8
        + "patches:\n"  # 9
        + "  - path: https://example.com/patch.yaml\n"  # 10
    )
    pr = pr_with(
        make_pr,
        {**OK_KUSTOMIZE_BASE, "remote/local.yaml": configmap("local", "1")},
        {
            **OK_KUSTOMIZE_HEAD,
            "remote/kustomization.yaml": remote,
            # a remote base one level down, reached through a local overlay
            "overlay/kustomization.yaml": KUSTOMIZATION + "resources:\n  - ../nested\n",
            "nested/kustomization.yaml": KUSTOMIZATION
            + "resources:\n  - https://github.com/org/repo/deploy?ref=v2\n",
        },
    )
    report, _ = as_json(review_commits(pr.repo, pr.base, pr.head, recording_runner))

    assert sorted(where(f) for f in report["findings"]) == [
        ("remote-base-not-allowed", "nested/kustomization.yaml", 4),
        *[("remote-base-not-allowed", "remote/kustomization.yaml", n) for n in (4, 5, 6, 7, 10)],
    ]
    coverage = {c["target"]: c["status"] for c in report["coverage"]}
    assert coverage["kustomize:remote"] == "failed"
    assert coverage["kustomize:overlay"] == "failed"
    assert "kustomize:nested" not in coverage  # rendered as part of the overlay
    # kustomize ran for the healthy kustomization only (base and head), never for the others
    assert recording_runner.targets() == ["ok", "ok"]
    assert_ok_kustomize_rendered(report)
    assert_healthy_folder_rendered(report)


def test_symlinks_and_paths_out_of_the_repo(
    make_pr: MakePR, recording_runner: RecordingRunner
) -> None:
    passwd = Path("/etc/passwd").read_text(encoding="utf-8")
    assert passwd.startswith("root:"), "the leak check below needs a readable /etc/passwd"
    pr = pr_with(
        make_pr,
        {**OK_KUSTOMIZE_BASE, "leaky/ok.yaml": configmap("leaky", "1")},
        {
            **OK_KUSTOMIZE_HEAD,
            "leaky/leak.yaml": Symlink("/etc/passwd"),
            "leaky/relative.yaml": Symlink("../../../../../../../../etc/passwd"),
            "escape/kustomization.yaml": KUSTOMIZATION + "resources:\n  - ../../../../etc\n",
            "linked/etc": Symlink("/etc"),
            "linked/kustomization.yaml": KUSTOMIZATION + "resources:\n  - etc\n",
        },
    )
    report, text = as_json(review_commits(pr.repo, pr.base, pr.head, recording_runner))

    assert sorted(where(f) for f in report["findings"]) == [
        ("path-escapes-repo", "escape/kustomization.yaml", 4),
        ("path-escapes-repo", "leaky/leak.yaml", 1),
        ("path-escapes-repo", "leaky/relative.yaml", 1),
        ("path-escapes-repo", "linked/kustomization.yaml", 4),
    ]
    coverage = {c["target"]: c["status"] for c in report["coverage"]}
    assert coverage["plain:leaky"] == "failed"
    assert coverage["kustomize:escape"] == "failed"
    assert coverage["kustomize:linked"] == "failed"
    assert recording_runner.targets() == ["ok", "ok"]
    assert "root:" not in text
    assert passwd.splitlines()[0] not in text
    assert_ok_kustomize_rendered(report)
    assert_healthy_folder_rendered(report)


def test_file_reached_through_an_escaping_directory_symlink(
    make_pr: MakePR, recording_runner: RecordingRunner
) -> None:
    """`linked/etc/passwd` where the directory `linked/etc -> /etc` is refused statically.

    The escaping component is a parent directory, not the referenced entry itself: the scan
    must resolve every component, block the target at the line naming the path, and never run
    kustomize for it.
    """
    pr = pr_with(
        make_pr,
        {},
        {
            "linked/etc": Symlink("/etc"),
            "linked/kustomization.yaml": KUSTOMIZATION + "resources:\n  - etc/passwd\n",
        },
    )
    report, text = as_json(review_commits(pr.repo, pr.base, pr.head, recording_runner))

    assert "root:" not in text  # the escaping link is never followed
    assert [where(f) for f in report["findings"]] == [
        ("path-escapes-repo", "linked/kustomization.yaml", 4)
    ]
    assert recording_runner.targets() == []
    assert_healthy_folder_rendered(report)


EXEC_FUNCTION = """\
apiVersion: example.com/v1
kind: Generator
metadata:
  name: gen
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: ./generate.sh
"""
CONTAINER_FUNCTION = """\
apiVersion: example.com/v1
kind: Transformer
metadata:
  name: tx
  annotations:
    config.kubernetes.io/function: |
      container:
        image: example.com/evil:latest
"""
GO_PLUGIN = "apiVersion: someteam.example.com/v1\nkind: ChartInflator\nmetadata:\n  name: inflate\n"


@pytest.mark.parametrize(
    ("field", "config", "needs"),
    [
        pytest.param("generators", EXEC_FUNCTION, "a KRM function", id="exec-krm-generator"),
        pytest.param("transformers", CONTAINER_FUNCTION, "a KRM function", id="container-krm"),
        pytest.param("generators", GO_PLUGIN, "--enable-alpha-plugins", id="legacy-plugin"),
        pytest.param("validators", EXEC_FUNCTION, "a KRM function", id="exec-krm-validator"),
    ],
)
def test_kustomize_plugins_are_refused(
    make_pr: MakePR,
    recording_runner: RecordingRunner,
    tmp_path: Path,
    field: str,
    config: str,
    needs: str,
) -> None:
    marker = tmp_path / "plugin-ran"
    pr = pr_with(
        make_pr,
        OK_KUSTOMIZE_BASE,
        {
            **OK_KUSTOMIZE_HEAD,
            "krm/kustomization.yaml": KUSTOMIZATION
            + "resources:\n  - cm.yaml\n"  # lines 3-4
            + f"{field}:\n  - plugin.yaml\n",  # lines 5-6
            "krm/cm.yaml": configmap("krm", "1"),
            "krm/plugin.yaml": config,
            "krm/generate.sh": f"#!/bin/sh\ntouch {marker}\n",
        },
    )
    report, _ = as_json(review_commits(pr.repo, pr.base, pr.head, recording_runner))

    assert [where(f) for f in report["findings"]] == [
        ("plugin-not-allowed", "krm/kustomization.yaml", 6)
    ]
    assert needs in report["findings"][0]["message"]
    assert {c["target"]: c["status"] for c in report["coverage"]}["kustomize:krm"] == "failed"
    assert recording_runner.targets() == ["ok", "ok"]
    assert not marker.exists()
    assert_ok_kustomize_rendered(report)
    assert_healthy_folder_rendered(report)


@pytest.mark.parametrize(
    ("files", "kustomization", "target"),
    [
        pytest.param(
            {"self/kustomization.yaml": KUSTOMIZATION + "resources:\n  - .\n  - cm.yaml\n"},
            "self/kustomization.yaml",
            "kustomize:self",
            id="kustomization-includes-itself",
        ),
        pytest.param(
            {
                "a/kustomization.yaml": KUSTOMIZATION + "resources:\n  - ../b\n  - cm.yaml\n",
                "b/kustomization.yaml": KUSTOMIZATION + "resources:\n  - ../a\n",
            },
            "a/kustomization.yaml",
            "kustomize:a",
            id="two-kustomizations-include-each-other",
        ),
    ],
)
def test_kustomization_cycles_are_not_silently_dropped(
    make_pr: MakePR, run_cli: RunCli, files: Files, kustomization: str, target: str
) -> None:
    """A kustomization referenced only from inside its own cycle is still a target.

    Otherwise a dir that references itself (or two that reference each other) would vanish from
    the coverage table with no finding and exit 0, while kustomize itself fails with
    "cycle detected: candidate root ... contains visited root".
    """
    cm_dir = kustomization.split("/", maxsplit=1)[0]
    pr = pr_with(make_pr, {}, {**files, f"{cm_dir}/cm.yaml": configmap(cm_dir, "1")})
    run = run_cli(pr)

    assert run.coverage().get(target) == "failed"
    assert ("render-failed", kustomization, 1) in [where(f) for f in run.findings()]
    assert run.exit_code == 1
    assert_healthy_folder_rendered(run.report)


# --- renderer binaries ---


def test_hanging_renderer_is_stopped(
    make_pr: MakePR, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = tmp_path / "bin" / "slow-kustomize"
    slow.parent.mkdir()
    slow.write_text("#!/bin/sh\nsleep 60\n")
    slow.chmod(0o755)
    monkeypatch.setenv("GITOPS_BOT_KUSTOMIZE", str(slow))
    pr = pr_with(
        make_pr,
        {".gitops-bot.yaml": "render:\n  timeout_seconds: 1\n"},
        {
            "slow/kustomization.yaml": KUSTOMIZATION + "resources:\n  - cm.yaml\n",
            "slow/cm.yaml": configmap("slow", "1"),
        },
    )
    started = time.monotonic()
    run = run_cli(pr)
    elapsed = time.monotonic() - started

    assert elapsed < 6, f"review took {elapsed:.1f} s with a 1 s render timeout"
    assert [where(f) for f in run.findings()] == [("render-timeout", "slow/kustomization.yaml", 1)]
    assert "kustomize did not finish within 1 s" in run.findings()[0]["message"]
    assert run.coverage()["kustomize:slow"] == "failed"
    assert run.exit_code == 1
    assert_healthy_folder_rendered(run.report)


CHART_BASE: Files = {
    "charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    "charts/app/values.yaml": "replicas: 1\n",
    "charts/app/templates/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
        "data:\n  replicas: {{ .Values.replicas | quote }}\n"
    ),
}


@pytest.mark.parametrize(
    ("env_var", "base", "head", "location"),
    [
        pytest.param(
            "GITOPS_BOT_HELM",
            CHART_BASE,
            {"charts/app/values.yaml": "replicas: 2\n"},
            "charts/app/Chart.yaml",
            id="helm",
        ),
        pytest.param(
            "GITOPS_BOT_KUSTOMIZE",
            OK_KUSTOMIZE_BASE,
            OK_KUSTOMIZE_HEAD,
            "ok/kustomization.yaml",
            id="kustomize",
        ),
    ],
)
def test_missing_renderer_names_its_env_var(
    make_pr: MakePR,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    env_var: str,
    base: Files,
    head: Files,
    location: str,
) -> None:
    monkeypatch.setenv(env_var, "/nonexistent/tool")
    run = run_cli(pr_with(make_pr, base, head))

    assert [where(f) for f in run.findings()] == [("tool-missing", location, 1)]
    message = run.findings()[0]["message"]
    assert env_var in message
    assert "/nonexistent/tool" in message
    assert run.exit_code == 1
    assert_healthy_folder_rendered(run.report)


def test_helm_chart_renders_when_helm_is_present(make_pr: MakePR, run_cli: RunCli) -> None:
    """The control for the case above: the same chart change renders and diffs."""
    run = run_cli(pr_with(make_pr, CHART_BASE, {"charts/app/values.yaml": "replicas: 2\n"}))

    # The chart sets no namespace: only the built-in library's default-namespace warning.
    assert [(f["rule_id"], f["severity"]) for f in run.findings()] == [
        ("default-namespace", "warning")
    ]
    (diff,) = run.diffs("helm:charts/app")
    assert diff["resource"] == {"group": "", "kind": "ConfigMap", "namespace": "", "name": "app"}
    assert diff["fields"] == [{"path": "data.replicas", "change": "modified"}]
    assert diff["origin"]["path"] == "charts/app/templates/cm.yaml"


# --- unknown kinds ---


def foobar(size: int) -> str:
    return (
        "apiVersion: example.com/v1\nkind: FooBar\nmetadata:\n  name: thing\n"
        f"  namespace: demo\nspec:\n  size: {size}\n"
    )


@pytest.mark.parametrize(
    ("base", "head", "target", "path"),
    [
        pytest.param(
            {"custom/thing.yaml": foobar(1)},
            {"custom/thing.yaml": foobar(2)},
            "plain:custom",
            "custom/thing.yaml",
            id="plain-folder",
        ),
        pytest.param(
            {
                "kcustom/kustomization.yaml": KUSTOMIZATION + "resources:\n  - thing.yaml\n",
                "kcustom/thing.yaml": foobar(1),
            },
            {"kcustom/thing.yaml": foobar(2)},
            "kustomize:kcustom",
            "kcustom/thing.yaml",
            id="kustomize",
        ),
    ],
)
def test_unknown_kinds_render_and_diff_normally(
    make_pr: MakePR, run_cli: RunCli, base: Files, head: Files, target: str, path: str
) -> None:
    run = run_cli(pr_with(make_pr, base, head))

    # Unknown kinds render and diff; validation lists them as unvalidated, as a warning only.
    assert [(f["rule_id"], f["severity"]) for f in run.findings()] == [("no-schema", "warning")]
    assert run.exit_code == 0
    (diff,) = run.diffs(target)
    assert diff["resource"] == {
        "group": "example.com",
        "kind": "FooBar",
        "namespace": "demo",
        "name": "thing",
    }
    assert diff["change"] == "modified"
    assert diff["fields"] == [{"path": "spec.size", "change": "modified"}]
    assert diff["origin"] == {"path": path, "line": 1, "column": 1}
    assert_healthy_folder_rendered(run.report)


# --- trusted configuration ---

BROKEN_CONFIGS = [
    pytest.param("render:\n\ttimeout_seconds: 5\n", 2, "invalid YAML", id="tab-in-yaml"),
    pytest.param(
        "render:\n  timeout_seconds: 5\n  ignore: [a, b\ndiff: {}\n",
        4,
        "invalid YAML",
        id="unclosed-flow-sequence",
    ),
    pytest.param(
        "version: 1\nrender_everything: true\n",
        2,
        "unknown key 'render_everything'",
        id="unknown-top-level-key",
    ),
    pytest.param(
        "render:\n  timeout_seconds: 5\n  max_bytes: 10\n",
        3,
        "render.max_bytes: unknown key 'max_bytes'",
        id="unknown-nested-key",
    ),
    pytest.param(
        "render:\n  timeout_seconds: -1\n",
        2,
        "render.timeout_seconds: must be a positive number",
        id="bad-value",
    ),
]


@pytest.mark.parametrize(("config", "line", "message"), BROKEN_CONFIGS)
def test_broken_config_on_the_base_fails_with_file_and_line(
    make_pr: MakePR, run_cli: RunCli, config: str, line: int, message: str
) -> None:
    run = run_cli(pr_with(make_pr, {".gitops-bot.yaml": config}, {}))

    assert run.exit_code == 2
    assert [where(f) for f in run.findings()] == [("config-invalid", ".gitops-bot.yaml", line)]
    (finding,) = run.findings()
    assert finding["severity"] == "error"
    assert finding["message"].startswith(".gitops-bot.yaml: ")
    assert message in finding["message"]
    assert run.report["conclusion"] == "failure"
    # The review stops before rendering: nothing is claimed about the desired state.
    assert run.report["coverage"] == []
    assert run.report["diffs"] == []


@pytest.mark.parametrize(
    "base_config",
    [
        pytest.param(None, id="no-config-on-base"),
        pytest.param("render:\n  timeout_seconds: 30\n", id="valid-config-on-base"),
    ],
)
@pytest.mark.parametrize(("config", "line", "message"), BROKEN_CONFIGS[::2])
def test_broken_config_only_on_the_head_is_ignored(
    make_pr: MakePR,
    run_cli: RunCli,
    base_config: str | None,
    config: str,
    line: int,
    message: str,
) -> None:
    base: Files = {".gitops-bot.yaml": base_config} if base_config else {}
    pr = pr_with(make_pr, base, {".gitops-bot.yaml": config})
    run = run_cli(pr)

    assert run.exit_code == 0
    assert run.findings() == []
    source = f".gitops-bot.yaml@{pr.base[:7]}" if base_config else "defaults"
    assert run.report["notes"][0].startswith(f"Configuration: {source}")
    assert (
        "This change edits .gitops-bot.yaml; it was reviewed with the base revision's version "
        "(changes take effect after merge)."
    ) in run.report["notes"]
    assert {
        "path": ".gitops-bot.yaml",
        "status": "added" if base_config is None else "modified",
    } in (run.report["changed_files"])
    assert_healthy_folder_rendered(run.report)


# --- exit codes ---

MIXED_DOC = configmap("mixed", "1") + "---\nnot: a kubernetes object\n"


@pytest.mark.parametrize(
    ("base", "head", "flags", "exit_code", "rules"),
    [
        pytest.param({}, {}, (), 0, [], id="clean"),
        pytest.param(
            {}, {"bad/x.yaml": APP_HEADER + ' b: "2"\n'}, (), 1, ["yaml-malformed"], id="error"
        ),
        pytest.param(
            {},
            {"bad/x.yaml": APP_HEADER + ' b: "2"\n'},
            ("--fail-on", "never"),
            0,
            ["yaml-malformed"],
            id="error-fail-on-never",
        ),
        pytest.param(
            {".gitops-bot.yaml": "fail_on: never\n"},
            {"bad/x.yaml": APP_HEADER + ' b: "2"\n'},
            (),
            0,
            ["yaml-malformed"],
            id="error-config-fail-on-never",
        ),
        pytest.param(
            {}, {"mixed/x.yaml": MIXED_DOC}, (), 0, ["not-a-kubernetes-object"], id="warning"
        ),
        pytest.param(
            {},
            {"mixed/x.yaml": MIXED_DOC},
            ("--fail-on", "warning"),
            1,
            ["not-a-kubernetes-object"],
            id="warning-fail-on-warning",
        ),
    ],
)
def test_exit_codes(
    make_pr: MakePR,
    run_cli: RunCli,
    base: Files,
    head: Files,
    flags: tuple[str, ...],
    exit_code: int,
    rules: list[str],
) -> None:
    run = run_cli(pr_with(make_pr, base, head), *flags)

    assert [f["rule_id"] for f in run.findings()] == rules
    assert run.exit_code == exit_code
    assert_healthy_folder_rendered(run.report)
