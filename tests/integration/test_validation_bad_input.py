"""Schema validation under bad input: broken custom schemas and CRDs, huge resources, a resource
with 10^5 errors, and a pull request adding a CRD with an invalid custom resource (real CLI).

Whatever the input, validation ends in bounded time with findings that name the file and line;
a broken extra schema never stops the resource from being validated against Kubernetes.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from bot.core.memory_tree import InMemoryTree
from bot.core.validate.files import validate_files
from bot.engines.schema_catalog import JsonSchemaCatalog
from bot.model.finding import Finding, Severity
from bot.model.repo_config import (
    ClusterConfig,
    CustomSchema,
    RenderConfig,
    RepoConfig,
    ValidationConfig,
)
from bot.model.resource import Location
from bot.model.validation import ValidationSummary
from tests.integration.conftest import CliRun, Files, PullRequest

pytestmark = pytest.mark.integration

MakePR = Callable[[Files, Files], PullRequest]
RunCli = Callable[..., CliRun]
CATALOG = JsonSchemaCatalog()
MIB = 1024 * 1024
BOUND_S = 30.0  # generous: these must end, not be fast (the bench measures speed)


def validate(
    files: Mapping[str, bytes],
    schemas: Mapping[str, bytes] | None = None,
    *,
    max_file_bytes: int = RenderConfig().max_file_bytes,
    **validation: Any,
) -> tuple[list[Finding], ValidationSummary]:
    config = RepoConfig(
        render=RenderConfig(max_file_bytes=max_file_bytes),
        clusters=(ClusterConfig("test", "1.37"),),
        validation=ValidationConfig(**validation),
    )
    findings, summary = validate_files(
        InMemoryTree(files), CATALOG, config, InMemoryTree(schemas or {})
    )
    assert summary is not None
    return findings, summary


def rules(findings: list[Finding]) -> list[tuple[str, str]]:
    return sorted((f.rule_id, f.location.path if f.location else "") for f in findings)


def configmap(name: str, extra_meta: str = "") -> str:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{extra_meta}data:\n  k: v\n"
    )


# --- a custom schema whose $refs loop ---------------------------------------------------------
# jsonschema-rs compiles such a schema into one that accepts everything: it must be refused.

LOOPS = {
    "root-refers-to-itself": {"$ref": "#"},
    "defs-cycle": {
        "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
        "$ref": "#/$defs/a",
    },
    "through-allOf": {"$defs": {"a": {"allOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"},
    "through-anchor": {"$defs": {"a": {"$anchor": "x", "anyOf": [{"$ref": "#x"}]}}, "$ref": "#x"},
    "through-not": {"not": {"$ref": "#"}},
    "draft-07-definitions": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "definitions": {"a": {"$ref": "#/definitions/a"}},
        "$ref": "#/definitions/a",
    },
}


@pytest.mark.parametrize("schema", LOOPS.values(), ids=LOOPS.keys())
def test_ref_loop_in_custom_schema_is_unusable(schema: dict[str, Any]) -> None:
    files = {
        # metadata.bogus: invalid for Kubernetes (strict), whatever the custom schema says
        "apps/a.yaml": configmap("a", "  bogus: 1\n").encode(),
        "apps/b.yaml": configmap("b").encode(),
    }
    custom = (CustomSchema("schemas/loop.json", kind="ConfigMap"),)
    schemas = {"schemas/loop.json": json.dumps(schema).encode()}
    findings, summary = validate(files, schemas, custom_schemas=custom)
    assert rules(findings) == [
        ("schema-invalid", "apps/a.yaml"),
        ("schema-unusable", "schemas/loop.json"),  # once, though two resources match
    ], findings
    unusable = next(f for f in findings if f.rule_id == "schema-unusable")
    assert "schemas/loop.json" in unusable.message
    assert "loops without descending into the instance" in unusable.message
    assert unusable.severity is Severity.ERROR
    invalid = next(f for f in findings if f.rule_id == "schema-invalid")
    assert invalid.location == Location("apps/a.yaml", 5)
    assert "Kubernetes" in invalid.hint
    assert (summary.resources, summary.invalid) == (2, 1)


def test_recursion_through_properties_is_not_a_loop() -> None:
    tree = {"type": "object", "properties": {"data": {"$ref": "#/$defs/node"}}}
    schema = {"$defs": {"node": tree}, "$ref": "#/$defs/node"}
    files = {"apps/a.yaml": configmap("a").encode()}
    custom = (CustomSchema("schemas/tree.json", kind="ConfigMap"),)
    findings, _ = validate(
        files, {"schemas/tree.json": json.dumps(schema).encode()}, custom_schemas=custom
    )
    assert findings == []


# --- huge resources ---------------------------------------------------------------------------


def big_configmap(total_bytes: int) -> bytes:
    head = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n"
    value = b"x" * 1000
    count = total_bytes // len(b"  k0000000: %s\n" % value) + 1
    return head + b"".join(b"  k%07d: %s\n" % (i, value) for i in range(count))


def test_50_mb_configmap_is_validated_when_the_cap_allows() -> None:
    content = big_configmap(50 * 1000 * 1000)
    assert 50 * 1000 * 1000 < len(content) < 64 * MIB
    started = time.perf_counter()
    findings, summary = validate({"big.yaml": content}, max_file_bytes=64 * MIB)
    elapsed = time.perf_counter() - started
    print(f"\n{len(content) / MIB:.1f} MiB ConfigMap validated in {elapsed:.2f} s")
    assert findings == []
    assert (summary.resources, summary.invalid) == (1, 0)
    assert elapsed < BOUND_S


def test_50_mb_configmap_is_refused_by_the_default_cap() -> None:
    content = big_configmap(50 * 1000 * 1000)
    started = time.perf_counter()
    findings, summary = validate({"big.yaml": content, "ok.yaml": configmap("ok").encode()})
    elapsed = time.perf_counter() - started
    print(f"\n{len(content) / MIB:.1f} MiB file refused in {elapsed:.3f} s")
    assert rules(findings) == [("file-too-large", "big.yaml")]
    (finding,) = findings
    assert finding.severity is Severity.ERROR
    assert finding.location == Location("big.yaml", 1)
    assert f"{RenderConfig().max_file_bytes}-byte limit" in finding.message
    assert summary.resources == 1  # the other file is still validated
    assert elapsed < BOUND_S


def test_100000_invalid_list_items_give_a_bounded_number_of_findings() -> None:
    ports = b"".join(b"    - port: p%d\n" % i for i in range(100_000))
    service = b"apiVersion: v1\nkind: Service\nmetadata:\n  name: wide\nspec:\n  ports:\n" + ports
    started = time.perf_counter()
    findings, summary = validate({"svc.yaml": service})
    elapsed = time.perf_counter() - started
    print(f"\nService with 100,000 invalid ports ({len(service) / MIB:.1f} MiB): {elapsed:.2f} s")
    limit = ValidationConfig().max_errors_per_resource
    assert [f.rule_id for f in findings] == ["schema-invalid"] * limit
    assert [f.location for f in findings] == [Location("svc.yaml", 7 + i) for i in range(limit)]
    assert [f.metadata["path"] for f in findings] == [f"spec.ports[{i}].port" for i in range(limit)]
    assert all("not shown" not in f.message for f in findings[:-1])
    assert findings[-1].message.endswith("(more errors in this resource not shown)")
    assert (summary.resources, summary.invalid) == (1, 1)
    assert elapsed < BOUND_S


class CountingCatalog:
    """The real catalog, counting how often each version's list of served kinds is asked for."""

    def __init__(self) -> None:
        self.kinds_read: Counter[str] = Counter()

    def kubernetes_versions(self) -> tuple[str, ...]:
        return CATALOG.kubernetes_versions()

    def kubernetes_kinds(self, version: str) -> frozenset[tuple[str, str, str]]:
        self.kinds_read[version] += 1
        return CATALOG.kubernetes_kinds(version)

    def kubernetes_schema(self, *args: Any) -> Any:
        return CATALOG.kubernetes_schema(*args)

    def compile(self, schema: Mapping[str, Any]) -> Any:
        return CATALOG.compile(schema)


def test_many_custom_resources_do_not_rescan_every_version() -> None:
    """BUG (bot/core/validate/lifecycle.py, judge_api): for a kind that no bundled version
    serves (every custom resource), the set of built-in API groups is rebuilt from the kinds of
    all 13 bundled versions, once per resource: ~0.2 ms each, which takes the validation stage
    from ~120,000 to ~38,000 resources/s on bench/validate.py. It must be built once per run."""
    crd = CRD.replace("@FIELD@", "                  type: string").encode()
    widgets = "".join(WIDGET.replace("name: w", f"name: w{i}") + "---\n" for i in range(200))
    files = {"crds/widget.yaml": crd, "apps/widgets.yaml": widgets.encode()}
    catalog = CountingCatalog()
    config = RepoConfig(clusters=(ClusterConfig("test", "1.37"),))
    findings, summary = validate_files(InMemoryTree(files), catalog, config, InMemoryTree({}))
    assert findings == []
    assert summary is not None and summary.resources == 201
    others = {v: n for v, n in catalog.kinds_read.items() if v != "1.37"}
    assert max(others.values(), default=0) <= 1, others


# --- a CRD with a broken schema ---------------------------------------------------------------

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                message:
@FIELD@
"""
WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  message: hi\n"
FIELD_PATH = "spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.message"
BROKEN = {
    "type-strign": ("                  type: strign", ".type", 'unsupported "strign"'),
    "pattern-not-a-regex": (
        "                  type: string\n                  pattern: '(unclosed'",
        ".pattern",
        "must be a valid regular expression",
    ),
    "items-not-a-mapping": (
        "                  type: array\n                  items: [string]",
        ".items",
        "a schema must be a mapping, not list",
    ),
}


@pytest.mark.parametrize(("field", "where", "problem"), BROKEN.values(), ids=BROKEN.keys())
def test_crd_with_broken_schema(field: str, where: str, problem: str) -> None:
    files = {
        "crds/widget.yaml": CRD.replace("@FIELD@", field).encode(),
        "apps/widget.yaml": WIDGET.encode(),
    }
    findings, summary = validate(files)
    assert set(rules(findings)) == {
        ("crd-invalid", "crds/widget.yaml"),
        ("no-schema", "apps/widget.yaml"),
    }, findings
    crd = next(f for f in findings if f.rule_id == "crd-invalid")
    assert crd.severity is Severity.ERROR
    assert crd.location == Location("crds/widget.yaml", 1)
    assert crd.message.startswith("CRD widgets.example.com version v1: ")
    assert f"{FIELD_PATH}{where}: " in crd.message
    assert problem in crd.message
    custom = next(f for f in findings if f.rule_id == "no-schema")
    assert custom.severity is Severity.WARNING
    assert custom.location == Location("apps/widget.yaml", 1)
    assert summary.without_schema == 1


@pytest.mark.parametrize("with_custom_resource", [False, True], ids=["crd-alone", "with-its-cr"])
def test_broken_crd_is_reported_once(with_custom_resource: bool) -> None:
    """BUG (bot/core/validate/schemas.py, SchemaSources.add_crds): a resource without a schema
    makes the Validator scan the head tree for CRDs, which indexes the rendered CRD a second
    time and appends its crd-invalid finding again."""
    files = {"crds/widget.yaml": CRD.replace("@FIELD@", BROKEN["type-strign"][0]).encode()}
    if with_custom_resource:
        files["apps/widget.yaml"] = WIDGET.encode()
    findings, _ = validate(files)
    assert [f.rule_id for f in findings].count("crd-invalid") == 1, findings


# --- a pull request through the real CLI ------------------------------------------------------

PR_CRD = CRD.replace(
    "@FIELD@",
    "                  type: string\n                size:\n                  type: integer",
)
PR_WIDGET = """\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
  namespace: demo
spec:
  message: hello
  size: large
  shape: round
"""


def test_pull_request_adding_a_crd_and_an_invalid_custom_resource(
    make_pr: MakePR, run_cli: RunCli
) -> None:
    base = {
        "apps/settings.yaml": configmap("settings").replace("  name:", "  namespace: demo\n  name:")
    }
    pr = make_pr(base, {"crds/widget.yaml": PR_CRD, "apps/widget.yaml": PR_WIDGET})
    run = run_cli(pr)
    assert run.exit_code == 1
    found = [
        (f["rule_id"], f["severity"], f["location"]["path"], f["location"]["line"], f["metadata"])
        for f in run.findings()
    ]
    assert found == [
        ("schema-invalid", "error", "apps/widget.yaml", 8, {"path": "spec.size"}),
        ("schema-invalid", "error", "apps/widget.yaml", 9, {"path": "spec"}),
    ], run.text
    size, shape = run.findings()
    assert '"large" is not of types "null", "integer"' in size["message"]
    assert "'shape' was unexpected" in shape["message"]
    assert all("CRD widgets.example.com" in f["hint"] for f in run.findings())
    assert run.report["validation"]["crd_kinds"] == 1
    assert run.report["validation"]["invalid"] == 1
    assert run.coverage() == {"plain:apps": "rendered", "plain:crds": "rendered"}
