import json

from bot.core.report.format.github import format_github
from bot.core.report.format.sarif import format_sarif
from bot.model.finding import Finding, Severity
from bot.model.resource import Location

FINDINGS = [
    Finding(
        "schema-invalid",
        Severity.ERROR,
        "spec.replicas: 'x' is not integer",
        Location("a.yaml", 7, 3),
    ),
    Finding(
        "no-schema", Severity.WARNING, "100% unknown,\nsecond line", Location("dir,1/b:c.yaml", 2)
    ),
    Finding("config-invalid", Severity.INFO, "no place", None, hint="do this"),
]


def test_sarif_results_rules_and_locations():
    doc = json.loads(format_sarif(FINDINGS, "0.1.0"))
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [
        "config-invalid",
        "no-schema",
        "schema-invalid",
    ]
    first = run["results"][0]
    assert (first["ruleId"], first["ruleIndex"], first["level"]) == ("schema-invalid", 2, "error")
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "a.yaml"},
        "region": {"startLine": 7, "startColumn": 3},
    }
    assert run["results"][2]["level"] == "note"
    assert "locations" not in run["results"][2]
    assert run["results"][2]["message"]["text"] == "no place (do this)"


def test_github_annotations_escape_like_the_runner():
    assert format_github(FINDINGS).splitlines() == [
        "::error file=a.yaml,line=7,col=3,title=schema-invalid::spec.replicas: 'x' is not integer",
        "::warning file=dir%2C1/b%3Ac.yaml,line=2,col=1,title=no-schema"
        "::100%25 unknown,%0Asecond line",
        "::notice title=config-invalid::no place%0Ado this",
    ]
