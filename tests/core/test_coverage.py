import pytest

from bot.core.render.coverage import plan_targets, summarize_coverage
from bot.model.change import FileChange, FileStatus
from bot.model.finding import Finding, Severity
from bot.model.render import CoverageStatus, RenderTarget, TargetKind, TargetRender
from bot.model.resource import Location, Resource, ResourceKey


def target(target_id, *inputs):
    return RenderTarget(target_id, TargetKind.PLAIN, "", frozenset(inputs))


def changed(*paths):
    return [FileChange(p, FileStatus.MODIFIED) for p in paths]


A, B = target("plain:a", "a/1.yaml"), target("plain:b", "b/1.yaml")


@pytest.mark.parametrize(
    ("base", "head", "files", "render_all", "affected"),
    [
        ([A, B], [A, B], ["a/1.yaml"], False, {"plain:a"}),
        ([A, B], [A, B], ["README.md"], False, set()),
        ([A, B], [A, B], ["README.md"], True, {"plain:a", "plain:b"}),
        ([A], [A, B], ["b/1.yaml"], False, {"plain:b"}),
        ([A, B], [A], ["b/1.yaml"], False, {"plain:b"}),
        ([A], [A, B], ["README.md"], False, {"plain:b"}),
        ([A, B], [A], [], False, {"plain:b"}),
        (
            [target("plain:a", "a/1.yaml")],
            [target("plain:a", "a/2.yaml")],
            ["a/2.yaml"],
            False,
            {"plain:a"},
        ),
    ],
    ids=[
        "one-input",
        "unrelated-file",
        "render-all",
        "target-added",
        "target-removed",
        "target-appears-without-input-change",
        "target-absorbed-without-input-change",
        "input-set-changed",
    ],
)
def test_only_targets_with_changed_inputs_are_affected(base, head, files, render_all, affected):
    assert plan_targets(base, head, changed(*files), render_all).affected == affected


def resource(target_id, name):
    key = ResourceKey("", "ConfigMap", "", name)
    return Resource(key, {"kind": "ConfigMap"}, Location("a/1.yaml"), target_id)


ERROR = Finding("render-failed", Severity.ERROR, "boom", Location("a/1.yaml", 3))


@pytest.mark.parametrize(
    ("base", "head", "status", "severities", "diffable"),
    [
        (
            TargetRender("plain:a", (resource("plain:a", "x"),)),
            TargetRender("plain:a"),
            CoverageStatus.RENDERED,
            [],
            True,
        ),
        (
            TargetRender("plain:a"),
            TargetRender("plain:a", findings=(ERROR,)),
            CoverageStatus.FAILED,
            [Severity.ERROR],
            False,
        ),
        (
            TargetRender("plain:a", findings=(ERROR,)),
            TargetRender("plain:a"),
            CoverageStatus.FAILED,
            [Severity.WARNING],
            False,
        ),
    ],
    ids=["rendered", "head-fails-is-error", "base-fails-is-warning"],
)
def test_coverage_accounts_for_every_target(base, head, status, severities, diffable):
    plan = plan_targets([A, B], [A, B], changed("a/1.yaml"))
    entries, findings, ok = summarize_coverage(plan, {"plain:a": base}, {"plain:a": head})
    by_id = {e.target_id: e for e in entries}
    assert by_id["plain:a"].status is status
    assert by_id["plain:b"].status is CoverageStatus.UNCHANGED
    assert [f.severity for f in findings] == severities
    assert ("plain:a" in ok) is diffable


def test_skipped_targets_are_listed_and_never_rendered():
    lib = RenderTarget(
        "helm:lib",
        TargetKind.HELM,
        "lib",
        frozenset({"lib/Chart.yaml"}),
        skip_reason="library chart",
    )
    plan = plan_targets([lib], [lib], changed("lib/Chart.yaml"))
    assert plan.base_to_render == [] and plan.head_to_render == []
    entries, findings, diffable = summarize_coverage(plan, {}, {})
    assert [(e.status, e.reason) for e in entries] == [(CoverageStatus.SKIPPED, "library chart")]
    assert findings == () and diffable == ()
