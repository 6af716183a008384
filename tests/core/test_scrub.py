"""No Secret value reaches a finding, whoever echoes it."""

import base64

import pytest

from bot.core.pipeline import Ports, review
from bot.core.report.scrub import scrub_findings, secret_values
from bot.model.change import ChangeRequest, Revision
from bot.model.finding import Finding, Severity
from tests.core.fakes import FakeCatalog, FakePolicyEngine, FakeRunner, FakeTree, ok

TOKEN = "s3cr3t-token-value"
SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "db"},
    "data": {"password": base64.b64encode(b"hunter22").decode()},
    "stringData": {"token": TOKEN, "x": "no"},
}


def test_values_plain_and_decoded():
    assert secret_values([SECRET]) == {TOKEN, base64.b64encode(b"hunter22").decode(), "hunter22"}
    assert secret_values([{**SECRET, "kind": "ConfigMap"}]) == frozenset()


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (f"token is {TOKEN}!", "token is <hidden>!"),
        ("password hunter22 leaked", "password <hidden> leaked"),
        ("x is no problem", "x is no problem"),
    ],
    ids=["string-data", "decoded-data", "short-values-left-alone"],
)
def test_scrub_messages_hints_and_metadata(message, expected):
    finding = Finding("r", Severity.ERROR, message, hint=message, metadata={"details": message})
    (clean,) = scrub_findings([finding], secret_values([SECRET]))
    assert (clean.message, clean.hint, clean.metadata["details"]) == (expected, expected, expected)


def test_a_policy_echoing_a_secret_cannot_leak_it_into_the_report():
    base = {
        "plain/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        "policy/p.rego": "package main\n",
    }
    head = {
        **base,
        "plain/s.yaml": f"apiVersion: v1\nkind: Secret\nmetadata: {{name: db}}\nstringData: {{token: {TOKEN}}}\n",
    }

    def echo(query, value):  # a careless policy: repeats whatever the resource holds
        return (
            {"deny": [f"found {value.get('stringData', {}).get('token', '')}"]}
            if value.get("kind") == "Secret"
            else {}
        )

    change = ChangeRequest(Revision("main", "a" * 40), Revision("pr", "b" * 40))
    ports = Ports(
        FakeRunner(lambda c, t: ok("")), FakeCatalog({"1.37": {}}), FakePolicyEngine(echo)
    )
    report = review(change, FakeTree(base, "base"), FakeTree(head, "head"), ports)
    messages = [f.message for f in report.findings]
    assert "found <hidden>" in messages
    assert not any(TOKEN in m for m in messages)
