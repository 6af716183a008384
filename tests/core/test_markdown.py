from bot.core.report.format.common import COMMENT_MARKER
from bot.core.report.format.markdown import format_markdown
from bot.model.change import ChangeRequest, Revision
from bot.model.diff import ChangeKind, FieldChange, ResourceDiff
from bot.model.finding import Finding, Severity
from bot.model.report import Report
from bot.model.resource import Location, ResourceKey

CHANGE = ChangeRequest(Revision("main", "a" * 40), Revision("pr", "b" * 40))


def diff(i: int, size: int = 2000) -> ResourceDiff:
    key = ResourceKey("apps", "Deployment", "prod", f"app-{i:04d}")
    body = "\n".join(f"+  line {n}" for n in range(size // 12))
    return ResourceDiff(
        key,
        ChangeKind.MODIFIED,
        f"kustomize:apps/{i % 7}",
        Location("x.yaml"),
        (FieldChange("spec.replicas", ChangeKind.MODIFIED),),
        body,
    )


def report(diffs=(), findings=()) -> Report:
    return Report(CHANGE, (), (), tuple(diffs), tuple(findings))


def test_marker_and_plan_line_come_first():
    text = format_markdown(report([diff(1)]))
    lines = text.splitlines()
    assert lines[0] == COMMENT_MARKER
    assert lines[3] == "**+0 ~1 -0 resource in 1 app**"


def test_huge_report_stays_under_the_limit_and_says_what_it_cut():
    text = format_markdown(report([diff(i) for i in range(500)]))
    assert len(text) <= 65_536
    shown = text.count("#### ~ ")
    assert 0 < shown < 500
    assert f"Truncated: {500 - shown} more resource diffs not shown" in text
    assert text.count("<details>") == text.count("</details>")


def test_small_report_is_not_truncated():
    text = format_markdown(report([diff(i, 200) for i in range(5)]))
    assert text.count("#### ~ ") == 5
    assert "Truncated" not in text


def test_hostile_text_cannot_break_the_table_or_the_fence():
    finding = Finding(
        "render-failed", Severity.ERROR, "a | b\n<script>x</script>", Location("k.yaml", 3)
    )
    fenced = ResourceDiff(
        ResourceKey("", "ConfigMap", "", "c"),
        ChangeKind.ADDED,
        "t",
        Location("c.yaml"),
        (),
        "+data: ```\n+  x",
    )
    text = format_markdown(report([fenced], [finding]))
    assert "| ❌ | `render-failed` | `k.yaml:3` | a \\| b &lt;script&gt;x&lt;/script&gt; |" in text
    assert "````diff\n+data: ```\n+  x\n````" in text


def test_findings_table_is_capped():
    findings = [
        Finding("x", Severity.WARNING, f"w{i}", Location("a.yaml", i + 1)) for i in range(80)
    ]
    text = format_markdown(report(findings=findings))
    assert "…and 30 more" in text
    assert text.count("| ⚠️ |") == 50
