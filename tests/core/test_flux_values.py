"""HelmRelease values: valuesFrom in order, targetPath typing, spec.values last; Secrets never
read; a missing ConfigMap is a finding on the valuesFrom entry."""

from typing import Any

import pytest

from bot.core.render.flux.values import helm_values, merge_maps, set_path, split_path
from bot.core.safe_yaml import YamlLimits
from bot.model.resource import Location, Resource, ResourceKey

LIMITS = YamlLimits(max_bytes=1 << 20)


def where(field: str) -> Location:
    index = int(field[len("spec.valuesFrom[") : -1]) if field.startswith("spec.valuesFrom[") else 0
    return Location("apps/release.yaml", 20 + index)


def config_map(name: str, data: dict[str, str], namespace: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    }


def values_of(
    spec: dict[str, Any],
    *applied: dict[str, Any],
    declared: dict[tuple[str, str], Any] | None = None,
):
    resources = tuple(Resource(ResourceKey.of(b), b, Location("x", 1), "p") for b in applied)
    return helm_values(
        spec, "web", applied=resources, declared=declared or {}, where=where, limits=LIMITS
    )


def test_merge_order_value_documents_then_inline() -> None:
    spec = {
        "valuesFrom": [
            {"kind": "ConfigMap", "name": "base"},
            {"kind": "ConfigMap", "name": "env", "valuesKey": "prod.yaml"},
        ],
        "values": {"image": {"tag": "inline"}},
    }
    result = values_of(
        spec,
        config_map(
            "base",
            {"values.yaml": "replicas: 1\nimage: {repository: web, tag: base}\nlist: [1, 2]\n"},
        ),
        config_map("env", {"prod.yaml": "replicas: 3\nlist: [9]\nimage: {pullPolicy: Always}\n"}),
    )

    assert result.values == {
        "replicas": 3,
        "image": {"repository": "web", "tag": "inline", "pullPolicy": "Always"},
        "list": [9],  # lists are replaced, not merged
    }
    assert result.findings == ()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("FALSE", False),
        ("null", None),
        ("0", 0),
        ("42", 42),
        ("-7", -7),
        ("007", "007"),  # leading zero: a string for Helm
        ("1.5", "1.5"),
        ("'42'", "42"),  # quoted: kept a string
        ('"true"', "true"),
        ("web", "web"),
    ],
)
def test_target_path_typing(raw: str, expected: Any) -> None:
    assert set_path({}, "a.b", raw) == {"a": {"b": expected}}


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("a.b.c", ["a", "b", "c"]),
        (
            "ingress.annotations.azure\\.workload\\.identity/client-id",
            ["ingress", "annotations", "azure.workload.identity/client-id"],
        ),
        (
            "service.annotations.app\\.kubernetes\\.io/name\\=\\[backend]",
            ["service", "annotations", "app.kubernetes.io/name=[backend]"],
        ),
        ("list[1].name", ["list", 1, "name"]),
    ],
)
def test_target_paths(path: str, parts: list[Any]) -> None:
    assert split_path(path) == parts


def test_target_path_into_lists() -> None:
    assert set_path({"list": [{"a": 1}]}, "list[1].name", "x") == {
        "list": [{"a": 1}, {"name": "x"}]
    }


def test_target_path_entry() -> None:
    spec = {
        "valuesFrom": [
            {"kind": "ConfigMap", "name": "host", "valuesKey": "fqdn", "targetPath": "ingress.host"}
        ]
    }
    result = values_of(spec, config_map("host", {"fqdn": "web.example.com"}))
    assert result.values == {"ingress": {"host": "web.example.com"}}


@pytest.mark.parametrize(
    ("entry", "applied", "rule", "severity", "line"),
    [
        ({"kind": "ConfigMap", "name": "gone"}, (), "flux-values-missing", "error", 20),
        ({"kind": "ConfigMap", "name": "gone", "optional": True}, (), None, None, None),
        (
            {"kind": "ConfigMap", "name": "host", "valuesKey": "nope"},
            (config_map("host", {"a": "1"}),),
            "flux-values-missing",
            "error",
            20,
        ),
        ({"kind": "Secret", "name": "creds"}, (), "flux-values-unresolved", "warning", 20),
        (
            {"kind": "Secret", "name": "creds", "optional": True},
            (),
            "flux-values-unresolved",
            "info",
            20,
        ),
        (
            {"kind": "ConfigMap", "name": "host"},
            (config_map("host", {"values.yaml": "- a list"}),),
            "flux-values-invalid",
            "error",
            20,
        ),
        ({"kind": "Unknown", "name": "x"}, (), "flux-values-invalid", "error", 20),
        (
            {"kind": "ConfigMap", "name": "host", "targetPath": "a..b"},
            (config_map("host", {"values.yaml": "x"}),),
            "flux-values-invalid",
            "error",
            20,
        ),
    ],
)
def test_reference_problems(entry, applied, rule, severity, line) -> None:
    result = values_of({"valuesFrom": [entry], "values": {"kept": True}}, *applied)

    assert result.values == {"kept": True}
    if rule is None:
        assert result.findings == ()
        return
    (finding,) = result.findings
    assert (finding.rule_id, finding.severity.label, finding.location) == (
        rule,
        severity,
        Location("apps/release.yaml", line),
    )


def test_declared_config_maps_are_used_when_not_applied() -> None:
    spec = {"valuesFrom": [{"kind": "ConfigMap", "name": "vals"}]}
    result = values_of(
        spec, declared={("web", "vals"): config_map("vals", {"values.yaml": "a: 1\n"})}
    )
    assert result.values == {"a": 1}


def test_secret_values_are_never_read() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds", "namespace": "web"},
        "stringData": {"values.yaml": "password: hunter2"},
    }
    result = values_of({"valuesFrom": [{"kind": "Secret", "name": "creds"}]}, secret)
    assert result.values == {}
    assert "hunter2" not in repr(result)


def test_merge_maps_replaces_non_maps() -> None:
    assert merge_maps({"a": {"b": 1}, "c": 1}, {"a": {"d": 2}, "c": None}) == {
        "a": {"b": 1, "d": 2},
        "c": None,
    }
