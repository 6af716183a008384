import pytest

from bot.model.change import ChangeRequest, Revision
from bot.model.finding import Finding, Severity
from bot.model.report import Conclusion, ExitCode, Plan, Report

CHANGE = ChangeRequest(Revision("main", "a" * 40), Revision("pr", "b" * 40))
WARN = Finding("x", Severity.WARNING, "w")
ERR = Finding("y", Severity.ERROR, "e")


@pytest.mark.parametrize(
    ("findings", "fail_on", "trusted_error", "code", "conclusion"),
    [
        ((), Severity.ERROR, None, ExitCode.CLEAN, Conclusion.SUCCESS),
        ((WARN,), Severity.ERROR, None, ExitCode.CLEAN, Conclusion.NEUTRAL),
        ((WARN,), Severity.WARNING, None, ExitCode.FINDINGS, Conclusion.FAILURE),
        ((ERR,), Severity.ERROR, None, ExitCode.FINDINGS, Conclusion.FAILURE),
        ((ERR,), None, None, ExitCode.CLEAN, Conclusion.NEUTRAL),
        ((ERR,), None, ERR, ExitCode.USAGE_OR_TRUSTED_INPUT, Conclusion.FAILURE),
    ],
    ids=[
        "clean",
        "warning-below-threshold",
        "warning-at-threshold",
        "error",
        "never",
        "broken-config",
    ],
)
def test_exit_code_and_conclusion(findings, fail_on, trusted_error, code, conclusion):
    report = Report(
        CHANGE, (), (), (), findings, fail_on=fail_on, trusted_input_error=trusted_error
    )
    assert report.exit_code() is code
    assert report.conclusion() is conclusion


@pytest.mark.parametrize(
    ("plan", "line"),
    [
        (Plan(0, 0, 0, 0, 0), "No changes to the desired state."),
        (
            Plan(0, 0, 0, 0, 0, 2),
            "No changes in the targets that rendered; 2 targets could not be diffed.",
        ),
        (
            Plan(1, 2, 0, 2, 1, 1),
            "+1 ~2 -0 resources in 2 apps; 1 Secret changed (values hidden);"
            " 1 target could not be diffed",
        ),
    ],
    ids=["nothing", "only-failures", "changes-and-failures"],
)
def test_plan_line_never_hides_undiffed_targets(plan, line):
    assert plan.line() == line
