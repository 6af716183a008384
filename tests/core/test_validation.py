"""The validation stage over fake schemas: rules, merging across versions, places."""

import pytest
import yaml

from bot.core.tree_view import TreeView
from bot.core.validate.stage import validate_head
from bot.model.finding import Severity
from bot.model.repo_config import ClusterConfig, CustomSchema, RepoConfig, ValidationConfig
from bot.model.resource import Location, Resource, ResourceKey, SourceDocument
from tests.core.fakes import FakeCatalog, FakeTree

DEPLOYMENT = {
    "type": "object",
    "required": ["spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"replicas": {"type": "integer"}},
        },
    },
}
OPEN = {"type": "object"}
CATALOG_KINDS = {
    "1.30": {
        ("apps", "v1", "Deployment"): DEPLOYMENT,
        ("autoscaling", "v2", "HorizontalPodAutoscaler"): OPEN,
        ("autoscaling", "v2beta2", "HorizontalPodAutoscaler"): OPEN,
        ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"): OPEN,
    },
    "1.31": {
        ("apps", "v1", "Deployment"): {**DEPLOYMENT, "required": ["spec", "metadata"]},
        ("autoscaling", "v2", "HorizontalPodAutoscaler"): OPEN,
        ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"): OPEN,
    },
}
WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "names": {"kind": "Widget", "plural": "widgets"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}
                        },
                    }
                },
            }
        ],
    },
}


def resource(body, path="apps/app.yaml", lines=None):
    return Resource(
        ResourceKey.of(body),
        body,
        Location(path, 1),
        "plain:apps",
        (SourceDocument(path, 1, lines or {}),),
    )


DEFAULT = RepoConfig()


def run(resources, config=DEFAULT, trusted_files=None, head_files=None):
    catalog = FakeCatalog(CATALOG_KINDS)
    trusted = TreeView(FakeTree(trusted_files or {}), 1 << 20)
    head = TreeView(FakeTree(head_files or {}), 1 << 20)
    return validate_head(resources, catalog, config, trusted, head)


def deployment(**spec):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": spec,
    }


def brief(findings):
    return [(f.rule_id, f.severity, f.location.line if f.location else None) for f in findings]


def test_valid_resource_has_no_findings():
    findings, summary = run([resource(deployment(replicas=2))])
    assert findings == []
    assert (summary.resources, summary.invalid, summary.kubernetes_versions) == (1, 0, ("1.31",))


def test_every_error_is_reported_at_its_line_with_the_field_path():
    body = deployment(replicas="two", surprise=True)
    findings, summary = run([resource(body, lines={"spec.replicas": 7, "spec": 6})])
    assert brief(findings) == [
        ("schema-invalid", Severity.ERROR, 6),
        ("schema-invalid", Severity.ERROR, 7),
    ]
    by_path = {f.metadata["path"]: f.message for f in findings}
    assert by_path["spec"].startswith("apps/Deployment web: spec: Additional properties")
    assert (
        by_path["spec.replicas"]
        == "apps/Deployment web: spec.replicas: 'two' is not of type 'integer'"
    )
    assert summary.invalid == 1


def test_non_strict_allows_unknown_fields():
    config = RepoConfig(validation=ValidationConfig(strict=False))
    findings, _ = run([resource(deployment(replicas=1, surprise=True))], config)
    assert findings == []


def test_findings_name_the_versions_they_apply_to():
    config = RepoConfig(clusters=(ClusterConfig("old", "1.30"), ClusterConfig("new", "1.31")))
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {}}
    findings, summary = run([resource(body)], config)
    assert summary.kubernetes_versions == ("1.30", "1.31")
    assert [f.message for f in findings] == [
        "apps/Deployment : (the object): 'metadata' is a required property (Kubernetes 1.31)"
    ]


@pytest.mark.parametrize(
    ("api_version", "clusters", "rules"),
    [
        ("autoscaling/v2beta2", ("1.30",), ["api-deprecated"]),
        ("autoscaling/v2beta2", ("1.31",), ["api-removed"]),
        ("extensions/v1beta1", ("1.31",), ["api-removed"]),
    ],
    ids=["deprecated", "removed", "legacy"],
)
def test_api_lifecycle_findings(api_version, clusters, rules):
    config = RepoConfig(clusters=tuple(ClusterConfig(v, v) for v in clusters))
    kind = "Deployment" if api_version.startswith("extensions") else "HorizontalPodAutoscaler"
    body = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}
    findings, _ = run([resource(body, lines={"apiVersion": 1})], config)
    assert [f.rule_id for f in findings] == rules


def test_unknown_kind_is_counted_and_reported_per_config():
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    findings, summary = run([resource(widget)])
    assert [(f.rule_id, f.severity) for f in findings] == [("no-schema", Severity.WARNING)]
    assert summary.without_schema == 1
    quiet = RepoConfig(validation=ValidationConfig(missing_schema=None))
    findings, summary = run([resource(widget)], quiet)
    assert findings == [] and summary.without_schema == 1


def test_custom_resource_validated_by_a_crd_of_the_same_change():
    bad = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": "L"},
    }
    findings, summary = run([resource(WIDGET_CRD, "crds/widget.yaml"), resource(bad)])
    assert [f.rule_id for f in findings] == ["schema-invalid"]
    assert "spec.size" in findings[0].message
    assert summary.crd_kinds == 1


def test_crd_found_in_an_unrendered_file_of_the_head_tree():
    good = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": 3},
    }
    head = {"charts/widgets/crds/widget.yaml": yaml.safe_dump(WIDGET_CRD)}
    findings, summary = run([resource(good)], head_files=head)
    assert findings == []
    assert summary.crd_kinds == 1


def test_schema_dirs_and_custom_schemas_come_from_the_trusted_tree():
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": 3},
    }
    trusted = {
        "schemas/example.com/widget_v1.json": '{"type": "object", "required": ["status"]}',
        "schemas/cm.json": '{"type": "object", "required": ["data"]}',
        "schemas/broken.json": "{not json",
    }
    config = RepoConfig(
        validation=ValidationConfig(
            schema_dirs=("schemas",),
            custom_schemas=(
                CustomSchema("schemas/cm.json", kind="Widget"),
                CustomSchema("schemas/broken.json", paths=("apps/*",)),
            ),
        )
    )
    findings, _ = run([resource(widget)], config, trusted_files=trusted)
    assert sorted((f.rule_id, f.message) for f in findings) == [
        ("schema-invalid", "example.com/Widget w: (the object): 'data' is a required property"),
        ("schema-invalid", "example.com/Widget w: (the object): 'status' is a required property"),
        (
            "schema-unusable",
            "schema file schemas/broken.json is not valid JSON: Expecting property name enclosed"
            " in double quotes: line 1 column 2 (char 1)",
        ),
    ]
    unusable = next(f for f in findings if f.rule_id == "schema-unusable")
    assert unusable.location == Location("schemas/broken.json", 1)


def test_unsupported_kubernetes_version_is_a_finding():
    config = RepoConfig(clusters=(ClusterConfig("ancient", "1.12"),))
    findings, summary = run([resource(deployment())], config)
    assert [f.rule_id for f in findings] == ["kubernetes-version-unsupported"]
    assert summary is None


def test_disabled_validation_returns_nothing():
    findings, summary = run(
        [resource(deployment(replicas="x"))], RepoConfig(validation=ValidationConfig(enabled=False))
    )
    assert (findings, summary) == ([], None)
