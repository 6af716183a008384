"""Workflow-command escaping: whatever a finding says, the runner reads back exactly that.

`parse_like_the_runner` follows actions/runner's ActionCommand.TryParseV2: the command ends at
the first `::` after the leading one, properties split on `,` and then on the first `=`, and
values are unescaped (%0D, %0A, %3A, %2C, then %25; data: %0D, %0A, %25).
"""

import pytest

from bot.core.report.format.github import format_github
from bot.model.finding import Finding, Severity
from bot.model.resource import Location

_PROPERTY = (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%"))
_DATA = (("%0D", "\r"), ("%0A", "\n"), ("%25", "%"))


def _unescape(text: str, table: tuple[tuple[str, str], ...]) -> str:
    for escaped, raw in table:
        text = text.replace(escaped, raw)
    return text


def parse_like_the_runner(line: str) -> tuple[str, dict[str, str], str]:
    assert line.startswith("::")
    end = line.index("::", 2)
    command, _, props = line[2:end].partition(" ")
    properties = {}
    for pair in filter(None, props.split(",")):
        key, _, value = pair.partition("=")
        properties[key] = _unescape(value, _PROPERTY)
    return command, properties, _unescape(line[end + 2 :], _DATA)


CASES = [
    ("plain", "msg", "rule-id", "a.yaml"),
    ("percent", "100% sure, 50%25 not", "rule%id", "dir%20x/a.yaml"),
    ("carriage-return", "one\rtwo\r\n", "r\rt", "a\r.yaml"),
    ("newline", "first\nsecond\n\nfourth", "r\nt", "a\nb.yaml"),
    ("colon", "spec: x: y", "policy:deny", "C:/repo/a.yaml"),
    ("double-colon", "::error::injected", "a::b", "x::y.yaml"),
    ("comma", "a, b,c", "deny,warn", "dir,1/b,c.yaml"),
    ("equals", "k=v", "t=1", "a=b.yaml"),
    ("escapes-as-text", "literal %0A and %3A and %2C", "%2C", "%3A.yaml"),
    ("everything", "%\r\n:,=::%25", "%\r\n:,=", "%\r\n:,=.yaml"),
]


@pytest.mark.parametrize(
    ("message", "title", "path"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_the_runner_reads_back_message_title_and_file(message, title, path):
    finding = Finding(title, Severity.WARNING, message, Location(path, 3, 5))
    output = format_github([finding])
    assert output.endswith("\n") and output.count("\n") == 1  # one command, one line
    command, properties, data = parse_like_the_runner(output.rstrip("\n"))
    assert command == "warning"
    assert properties == {"file": path, "line": "3", "col": "5", "title": title}
    assert data == message


@pytest.mark.parametrize(
    ("severity", "command"),
    [(Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "notice")],
    ids=["error", "warning", "info"],
)
def test_hint_and_no_location(severity, command):
    finding = Finding("config-invalid", severity, "bad: value", None, hint="fix, then\nretry")
    (line,) = format_github([finding]).splitlines()
    assert parse_like_the_runner(line) == (
        command,
        {"title": "config-invalid"},
        "bad: value\nfix, then\nretry",
    )
