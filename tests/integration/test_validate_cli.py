"""`gitops-bot validate` end to end: real schemas, real files, every output format."""

import json

import pytest

from bot.entrypoints.cli import main

pytestmark = pytest.mark.integration

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: two
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          prots: []
"""
WIDGET = """\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  size: 3
"""


@pytest.fixture
def manifests(tmp_path, monkeypatch):
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps/web.yaml").write_text(DEPLOYMENT)
    (tmp_path / "apps/widget.yaml").write_text(WIDGET)
    (tmp_path / "apps/README.md").write_text("not a manifest")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_text_lists_every_error_at_its_line(manifests, capsys):
    assert main(["validate", "apps"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "apps/web.yaml:6: error [schema-invalid] apps/Deployment web: spec.replicas: "
        '"two" is not of types "null", "integer"',
        "apps/web.yaml:16: error [schema-invalid] apps/Deployment web: "
        "spec.template.spec.containers[0]: Additional properties are not allowed "
        "('prots' was unexpected)",
        "apps/widget.yaml:1: warning [no-schema] example.com/Widget w: no schema for "
        "example.com/v1 Widget; it was not validated",
        "2 resources: 0 valid, 1 invalid, 1 without schema (Kubernetes 1.37, strict)",
    ]


def test_non_strict_and_schema_location(manifests, tmp_path, capsys):
    schemas = tmp_path / "catalog/example.com"
    schemas.mkdir(parents=True)
    (schemas / "widget_v1.json").write_text(
        json.dumps(
            {"type": "object", "properties": {"spec": {"properties": {"size": {"maximum": 2}}}}}
        )
    )
    code = main(["validate", "apps/widget.yaml", "--schema-location", "catalog", "--no-strict"])
    out = capsys.readouterr().out
    assert code == 1
    assert (
        "apps/widget.yaml:6: error [schema-invalid] example.com/Widget w: spec.size: "
        "3 is greater than the maximum of 2" in out
    )


@pytest.mark.parametrize("fmt", ["json", "sarif", "github"])
def test_machine_formats(manifests, capsys, fmt):
    assert main(["validate", "apps/web.yaml", "--format", fmt]) == 1
    out = capsys.readouterr().out
    if fmt == "json":
        doc = json.loads(out)
        assert [f["location"]["line"] for f in doc["findings"]] == [6, 16]
        assert doc["summary"]["invalid"] == 1
    elif fmt == "sarif":
        results = json.loads(out)["runs"][0]["results"]
        assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results] == [
            6,
            16,
        ]
    else:
        assert out.startswith("::error file=apps/web.yaml,line=6,col=1,title=schema-invalid::")


def test_missing_path_is_a_usage_error(manifests, capsys):
    assert main(["validate", "nope/"]) == 2
    assert "nope/: no such file or directory" in capsys.readouterr().err


def test_clean_files_exit_0(manifests, capsys):
    (manifests / "apps/web.yaml").write_text(
        DEPLOYMENT.replace("two", "2").replace("          prots: []\n", "")
    )
    assert (
        main(["validate", "apps", "--missing-schema", "ignore", "--kubernetes-version", "1.29"])
        == 0
    )
    assert capsys.readouterr().out.splitlines()[-1] == (
        "2 resources: 1 valid, 0 invalid, 1 without schema (Kubernetes 1.29, strict)"
    )
