"""The answer to a `/gitops-bot explain` comment: the approval tree, and who still has to act."""

from __future__ import annotations

from bot.core.report.format.common import APPROVAL_ICON, approval_lines
from bot.model.report import Report

EXPLAIN_MARKER = "<!-- gitops-bot:explain -->"


def _cell(value: str) -> str:
    return " ".join(value.split()).replace("<", "&lt;").replace(">", "&gt;")


def format_explain(report: Report) -> str:
    lines = [EXPLAIN_MARKER, f"### gitops-bot: approval for {report.change.head.short()}", ""]
    if report.trusted_input_error is not None:
        lines.append(
            "The base branch's configuration is broken, so its approval rules cannot be "
            f"evaluated: {_cell(report.trusted_input_error.message)}"
        )
    elif report.approval is None:
        lines.append("The base branch's `.gitops-bot.yaml` has no approval rules.")
    else:
        for depth, node in approval_lines(report.approval):
            label = node.status.label
            lines.append(
                f"{'  ' * depth}- {APPROVAL_ICON[label]} `{_cell(node.name)}` ({label}): "
                f"{_cell(node.description)}"
            )
        lines += [
            "",
            "<sub>Rules come from the base branch; reviews count when made on the head "
            "commit (unless the rule says otherwise).</sub>",
        ]
    return "\n".join(lines) + "\n"
