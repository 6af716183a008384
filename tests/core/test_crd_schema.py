from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import pytest
import yaml

from bot.core.validate.crd_schema import (
    DRAFT_2020_12,
    MAX_DEPTH,
    CrdKind,
    CrdSchemaError,
    crd_kinds,
    openapi_to_json_schema,
)

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared/fixtures"
VALIDATION = FIXTURES / "validation"
KV = "kubectl-validate/testcases"

INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]
EMBEDDED_PROPERTIES = {
    "apiVersion": {"type": "string", "minLength": 1, "pattern": "^[^/]*(/[^/]*)?$"},
    "kind": {"type": "string", "maxLength": 63, "pattern": "^[A-Za-z]([-A-Za-z0-9]*[A-Za-z0-9])?$"},
    "metadata": {"type": "object"},
}


def convert(openapi: dict[str, Any], strict: bool) -> dict[str, Any]:
    schema = openapi_to_json_schema(openapi, strict)
    assert next(iter(schema.items())) == ("$schema", DRAFT_2020_12)
    return {k: v for k, v in schema.items() if k != "$schema"}


Validators = tuple[jsonschema.Draft202012Validator, jsonschema_rs.Validator]


def validators(schema: Any) -> Validators:
    """Both validators the bot may use; the schema must be valid for each."""
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema), jsonschema_rs.validator_for(schema)


def errors(schema: Any, instance: Any, compiled: Validators | None = None) -> list[tuple[str, str]]:
    """(instance path, failed keyword) per error; jsonschema-rs must agree on the verdict."""
    python, rust = compiled or validators(schema)
    found = sorted(
        ("/".join(str(p) for p in e.absolute_path), str(e.validator))
        for e in python.iter_errors(instance)
    )
    assert rust.is_valid(instance) == (not found)
    return found


def obj(properties: Any, **more: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, **more}


def optional_obj(properties: dict[str, Any], **more: Any) -> dict[str, Any]:
    """What an optional object field becomes: the server prunes a null, so null passes."""
    return {**obj(properties, **more), "type": ["object", "null"]}


def crd(
    schema: Any = None,
    *,
    api_version: str = "apiextensions.k8s.io/v1",
    versions: Any = None,
    **spec: Any,
) -> dict[str, Any]:
    if versions is None:
        versions = [{"name": "v1", "served": True, "storage": True}]
        if schema is not None:
            versions[0]["schema"] = {"openAPIV3Schema": schema}
    return {
        "apiVersion": api_version,
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "plural": "widgets"},
            "scope": "Namespaced",
            "versions": versions,
            **spec,
        },
    }


# ---------------------------------------------------------------- conversion rules, exact output

CONVERSIONS = [
    pytest.param(
        {"type": "string", "x-kubernetes-int-or-string": True},
        False,
        {"anyOf": INT_OR_STRING},
        id="int-or-string-drops-type",
    ),
    pytest.param(
        {"x-kubernetes-int-or-string": True, "anyOf": INT_OR_STRING, "pattern": "^[0-9]+%?$"},
        False,
        {"anyOf": INT_OR_STRING, "pattern": "^[0-9]+%?$"},
        id="int-or-string-with-its-usual-anyOf-not-doubled",
    ),
    pytest.param(
        {"x-kubernetes-int-or-string": True, "anyOf": [{"minimum": 1}, {"pattern": "^x"}]},
        False,
        {"anyOf": INT_OR_STRING, "allOf": [{"anyOf": [{"minimum": 1}, {"pattern": "^x"}]}]},
        id="int-or-string-keeps-another-anyOf-under-allOf",
    ),
    pytest.param(
        {"type": "string", "nullable": True},
        False,
        {"type": ["string", "null"]},
        id="nullable-type",
    ),
    pytest.param(
        {"type": "string", "enum": ["a", "b"], "nullable": True},
        False,
        {"type": ["string", "null"], "enum": ["a", "b", None]},
        id="nullable-enum",
    ),
    pytest.param(
        {"x-kubernetes-int-or-string": True, "nullable": True},
        False,
        {"anyOf": [*INT_OR_STRING, {"type": "null"}]},
        id="nullable-int-or-string",
    ),
    pytest.param(
        {"type": "object", "nullable": True, "oneOf": [{"required": ["a"]}, {"required": ["b"]}]},
        False,
        {
            "type": ["object", "null"],
            "if": {"type": "null"},
            "else": {"oneOf": [{"required": ["a"]}, {"required": ["b"]}]},
        },
        id="nullable-junctors-skipped-for-null",
    ),
    pytest.param(
        {"type": "array", "items": {"type": "string"}},
        False,
        {"type": "array", "items": {"type": "string"}},
        id="list-items-not-nullable",
    ),
    pytest.param(
        {"type": "array", "items": {"type": "string", "nullable": True}},
        False,
        {"type": "array", "items": {"type": ["string", "null"]}},
        id="list-items-nullable",
    ),
    pytest.param(
        obj({"a": {"type": "string"}}),
        False,
        obj({"a": {"type": ["string", "null"]}}),
        id="optional-field-null-is-pruned-so-allowed",
    ),
    pytest.param(
        obj({"a": {"type": "string"}}, required=["a"]),
        False,
        obj({"a": {"type": "string"}}, required=["a"]),
        id="required-field-without-default-rejects-null",
    ),
    pytest.param(
        obj({"a": {"type": "string", "default": "x"}}, required=["a", "a"]),
        False,
        obj({"a": {"type": ["string", "null"], "default": "x"}}, required=["a"]),
        id="required-field-with-default-null-is-defaulted",
    ),
    pytest.param(
        {"type": "object", "additionalProperties": {"type": "integer"}},
        False,
        {"type": "object", "additionalProperties": {"type": ["integer", "null"]}},
        id="map-values-like-fields",
    ),
    pytest.param(
        obj({"a": obj({"b": {"type": "integer"}})}),
        True,
        obj(
            {"a": optional_obj({"b": {"type": ["integer", "null"]}}, additionalProperties=False)},
            additionalProperties=False,
        ),
        id="strict-closes-objects-with-properties",
    ),
    pytest.param(
        obj({"a": obj({"b": {"type": "integer"}})}),
        False,
        obj({"a": optional_obj({"b": {"type": ["integer", "null"]}})}),
        id="non-strict-leaves-objects-open",
    ),
    pytest.param(
        {"type": "object"},
        True,
        {"type": "object", "additionalProperties": False},
        id="strict-object-without-properties-prunes-everything",
    ),
    pytest.param(
        {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        True,
        {"type": "object"},
        id="strict-preserve-unknown-fields-stays-open",
    ),
    pytest.param(
        obj({"a": obj({})}, **{"x-kubernetes-preserve-unknown-fields": True}),
        True,
        obj({"a": optional_obj({}, additionalProperties=False)}),
        id="strict-preserve-applies-to-its-node-only",
    ),
    pytest.param(
        {"type": "object", "additionalProperties": {"type": "string"}},
        True,
        {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
        id="strict-map-keeps-its-value-schema",
    ),
    pytest.param(
        obj({"a": {"type": "string"}}, additionalProperties=True),
        True,
        obj({"a": {"type": ["string", "null"]}}, additionalProperties=True),
        id="strict-explicit-additionalProperties-kept",
    ),
    pytest.param(
        obj(
            {"a": {"type": "string"}},
            anyOf=[{"properties": {"a": {"minLength": 2}}}, {"not": {"required": ["a"]}}],
        ),
        True,
        obj(
            {"a": {"type": ["string", "null"]}},
            additionalProperties=False,
            anyOf=[{"properties": {"a": {"minLength": 2}}}, {"not": {"required": ["a"]}}],
        ),
        id="strict-never-closes-junctor-branches",
    ),
    pytest.param(
        {
            "type": "object",
            "x-kubernetes-embedded-resource": True,
            "x-kubernetes-preserve-unknown-fields": True,
        },
        True,
        {"type": "object", "properties": EMBEDDED_PROPERTIES, "required": ["apiVersion", "kind"]},
        id="embedded-resource-preserving-unknown-fields",
    ),
    pytest.param(
        obj(
            {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            **{"x-kubernetes-embedded-resource": True},
        ),
        True,
        obj(
            {**EMBEDDED_PROPERTIES, "spec": {"type": ["object", "null"]}},
            required=["apiVersion", "kind"],
            additionalProperties=False,
        ),
        id="embedded-resource-strict",
    ),
    pytest.param(
        {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
        False,
        {"type": "integer", "exclusiveMinimum": 0},
        id="exclusiveMinimum-true",
    ),
    pytest.param(
        {"type": "number", "maximum": 1.5, "exclusiveMaximum": True, "minimum": 0},
        False,
        {"type": "number", "exclusiveMaximum": 1.5, "minimum": 0},
        id="exclusiveMaximum-true",
    ),
    pytest.param(
        {"type": "integer", "minimum": 0, "exclusiveMinimum": False},
        False,
        {"type": "integer", "minimum": 0},
        id="exclusiveMinimum-false",
    ),
    pytest.param(
        {"type": "integer", "exclusiveMaximum": True},
        False,
        {"type": "integer"},
        id="exclusive-flag-without-bound",
    ),
    pytest.param(
        {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        False,
        {"type": "array", "uniqueItems": True, "items": {"type": "string"}},
        id="list-type-set-unique",
    ),
    pytest.param(
        {
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": obj({"name": {"type": "string"}}, required=["name"]),
        },
        False,
        {"type": "array", "items": obj({"name": {"type": "string"}}, required=["name"])},
        id="list-type-map-not-expressible",
    ),
    pytest.param(
        {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": {
                    "type": "array",
                    "items": {"x-kubernetes-int-or-string": True},
                },
            },
        },
        True,
        {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": {
                    "type": ["array", "null"],
                    "items": {"anyOf": INT_OR_STRING},
                },
            },
        },
        id="nested-items-and-additionalProperties",
    ),
    pytest.param(
        {
            "type": "string",
            "title": "T",
            "description": "d",
            "format": "date-time",
            "pattern": "^a",
            "minLength": 1,
            "maxLength": 9,
            "enum": ["ab"],
            "default": "ab",
            "example": "ab",
            "externalDocs": {"url": "https://example.com"},
            "x-kubernetes-map-type": "atomic",
            "x-kubernetes-validations": [{"rule": "self != ''"}],
            "$ref": "#/definitions/nowhere",
            "patternProperties": {"x": {}},
        },
        False,
        {
            "type": "string",
            "title": "T",
            "description": "d",
            "format": "date-time",
            "pattern": "^a",
            "minLength": 1,
            "maxLength": 9,
            "enum": ["ab"],
            "default": "ab",
        },
        id="keywords-kept-kubernetes-and-unknown-dropped",
    ),
    pytest.param(
        {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 3,
            "properties": {
                "n": {"type": "number", "minimum": -1, "maximum": 1e3, "multipleOf": 0.5},
                "l": {"type": "array", "minItems": 1, "maxItems": 2, "uniqueItems": True},
            },
        },
        False,
        {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 3,
            "properties": {
                "n": {
                    "type": ["number", "null"],
                    "minimum": -1,
                    "maximum": 1e3,
                    "multipleOf": 0.5,
                },
                "l": {"type": ["array", "null"], "minItems": 1, "maxItems": 2, "uniqueItems": True},
            },
        },
        id="numeric-and-size-keywords",
    ),
]


@pytest.mark.parametrize(("openapi", "strict", "expected"), CONVERSIONS)
def test_openapi_to_json_schema(openapi: dict[str, Any], strict: bool, expected: Any) -> None:
    before = copy.deepcopy(openapi)
    schema = convert(openapi, strict)
    assert schema == expected
    assert openapi == before  # input untouched
    jsonschema.Draft202012Validator.check_schema({"$schema": DRAFT_2020_12, **schema})
    jsonschema_rs.validator_for({"$schema": DRAFT_2020_12, **schema})


# ------------------------------------------------------------- the same rules, on instances

BEHAVIOUR = [
    pytest.param({"x-kubernetes-int-or-string": True}, 8080, [], id="int-or-string-int"),
    pytest.param({"x-kubernetes-int-or-string": True}, "50%", [], id="int-or-string-str"),
    pytest.param({"x-kubernetes-int-or-string": True}, 1.5, [("", "anyOf")], id="ios-float"),
    pytest.param({"x-kubernetes-int-or-string": True}, None, [("", "anyOf")], id="ios-null"),
    pytest.param(
        obj({"p": {"x-kubernetes-int-or-string": True}}), {"p": None}, [], id="ios-field-null"
    ),
    pytest.param(
        {"type": "array", "items": {"type": "string"}}, ["a", None], [("1", "type")], id="item-null"
    ),
    pytest.param(
        obj({"a": {"type": "string"}}, required=["a"]), {"a": None}, [("a", "type")], id="req-null"
    ),
    pytest.param(
        obj({"o": obj({}, oneOf=[{"required": ["x"]}, {"required": ["y"]}])}),
        {"o": None},
        [],
        id="optional-null-skips-oneOf",
    ),
    pytest.param(
        obj({"o": obj({}, oneOf=[{"required": ["x"]}, {"required": ["y"]}])}),
        {"o": {}},
        [("o", "oneOf")],
        id="oneOf-still-applies-to-objects",
    ),
    pytest.param(
        obj({"e": {"type": "string", "enum": ["A"]}}), {"e": "B"}, [("e", "enum")], id="enum"
    ),
    pytest.param(
        obj({"a": obj({"b": {}})}),
        {"a": {"c": 1}},
        [("a", "additionalProperties")],
        id="strict-unknown",
    ),
    pytest.param(
        {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
        0,
        [("", "exclusiveMinimum")],
        id="excl-0",
    ),
    pytest.param({"type": "integer", "minimum": 0, "exclusiveMinimum": True}, 1, [], id="excl-1"),
    pytest.param(
        {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        ["a", "a"],
        [("", "uniqueItems")],
        id="set-duplicate",
    ),
    pytest.param(
        {
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["k"],
            "items": obj({"k": {"type": "string"}, "v": {"type": "string"}}),
        },
        [{"k": "a", "v": "1"}, {"k": "a", "v": "2"}],
        [],
        id="list-map-duplicate-key-not-detected",
    ),
    pytest.param(
        {
            "type": "object",
            "x-kubernetes-embedded-resource": True,
            "x-kubernetes-preserve-unknown-fields": True,
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"labels": {"a": "b"}},
            "spec": {},
        },
        [],
        id="embedded-ok",
    ),
    pytest.param(
        {
            "type": "object",
            "x-kubernetes-embedded-resource": True,
            "x-kubernetes-preserve-unknown-fields": True,
        },
        {"apiVersion": "a/b/c", "metadata": []},
        [("", "required"), ("apiVersion", "pattern"), ("metadata", "type")],
        id="embedded-bad",
    ),
]


@pytest.mark.parametrize(("openapi", "instance", "expected"), BEHAVIOUR)
def test_converted_schema_judges_instances(
    openapi: dict[str, Any], instance: Any, expected: list[tuple[str, str]]
) -> None:
    assert errors(openapi_to_json_schema(openapi, strict=True), instance) == expected


# ------------------------------------------------------------------------------ crd_kinds

WIDGET_SPEC = obj({"size": {"type": "integer"}})


def test_crd_kinds_builds_the_resource_schema() -> None:
    (kind,) = crd_kinds(crd(obj({"spec": WIDGET_SPEC}, required=["spec"])), strict=True)
    assert kind == CrdKind(
        group="example.com",
        version="v1",
        kind="Widget",
        schema={
            "$schema": DRAFT_2020_12,
            "type": "object",
            "properties": {
                "apiVersion": {"type": "string", "const": "example.com/v1"},
                "kind": {"type": "string", "const": "Widget"},
                "metadata": {"type": "object"},
                "status": {},
                "spec": {
                    "type": "object",
                    "properties": {"size": {"type": ["integer", "null"]}},
                    "additionalProperties": False,
                },
            },
            "required": ["spec", "apiVersion", "kind"],
            "additionalProperties": False,
        },
        served=True,
        source="CRD widgets.example.com",
        cel_rules=0,
        problem="",
    )


ROOT_CASES = [
    pytest.param(
        {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w", "labels": {"a": "b"}},
            "spec": {"size": 1},
        },
        [],
        id="valid-metadata-is-free",
    ),
    pytest.param(
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {}, "status": {"x": 1}},
        [],
        id="undeclared-status-allowed",
    ),
    pytest.param(
        {"apiVersion": "example.com/v2", "kind": "Gadget"},
        [("apiVersion", "const"), ("kind", "const")],
        id="other-group-version-kind",
    ),
    pytest.param({"apiVersion": "example.com/v1"}, [("", "required")], id="kind-missing"),
    pytest.param(
        {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"size": "1"}, "extra": 1},
        [("", "additionalProperties"), ("spec/size", "type")],
        id="unknown-root-field-and-wrong-type",
    ),
]


@pytest.mark.parametrize(("body", "expected"), ROOT_CASES)
def test_resource_schema_root(body: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    (kind,) = crd_kinds(crd(obj({"spec": WIDGET_SPEC})), strict=True)
    assert errors(kind.schema, body) == expected


def test_declared_status_is_kept() -> None:
    schema = obj({"status": obj({"ready": {"type": "boolean"}})})
    (kind,) = crd_kinds(crd(schema), strict=False)
    assert kind.schema is not None
    status = optional_obj({"ready": {"type": ["boolean", "null"]}})
    assert kind.schema["properties"]["status"] == status


def test_cel_rules_are_counted_and_dropped() -> None:
    rule = {"rule": "self > 0", "message": "positive"}
    schema = obj(
        {
            "spec": obj(
                {
                    "a": {"type": "integer", "x-kubernetes-validations": [rule, rule]},
                    "l": {
                        "type": "array",
                        "items": {"type": "integer", "x-kubernetes-validations": [rule]},
                    },
                },
                **{"x-kubernetes-validations": [rule]},
            )
        },
        **{"x-kubernetes-validations": [rule]},
    )
    (kind,) = crd_kinds(crd(schema), strict=False)
    assert kind.cel_rules == 5
    assert "x-kubernetes-validations" not in json.dumps(kind.schema)


def test_versions_one_kind_each_with_served_flag() -> None:
    spec = obj({"spec": obj({"a": {"type": "string"}})})
    versions = [
        {
            "name": "v1alpha1",
            "served": False,
            "storage": False,
            "schema": {"openAPIV3Schema": obj({})},
        },
        {"name": "v1beta1", "served": True, "storage": False},
        {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": spec}},
    ]
    kinds = crd_kinds(crd(versions=versions), strict=False)
    assert [(k.version, k.served, k.schema is not None, k.problem) for k in kinds] == [
        ("v1alpha1", False, True, ""),
        ("v1beta1", True, False, ""),  # no schema: anything goes on the server
        ("v1", True, True, ""),
    ]
    assert [k.schema["properties"]["apiVersion"]["const"] for k in kinds if k.schema] == [
        "example.com/v1alpha1",
        "example.com/v1",
    ]


V1BETA1_SCHEMA = obj({"spec": obj({"a": {"type": "string"}})})


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            {"version": "v1", "validation": {"openAPIV3Schema": V1BETA1_SCHEMA}, "versions": None},
            [("v1", True, "validation")],
            id="spec.version",
        ),
        pytest.param(
            {
                "validation": {"openAPIV3Schema": V1BETA1_SCHEMA},
                "versions": [
                    {"name": "v1", "served": True, "storage": True},
                    {"name": "v2", "served": False, "storage": False},
                ],
            },
            [("v1", True, "validation"), ("v2", False, "validation")],
            id="versions-without-own-schema",
        ),
        pytest.param(
            {
                "validation": {"openAPIV3Schema": V1BETA1_SCHEMA},
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "schema": {"openAPIV3Schema": obj({"own": {"type": "string"}})},
                    }
                ],
            },
            [("v1", True, "own")],
            id="own-schema-wins",
        ),
    ],
)
def test_v1beta1_validation_fallback(spec: dict[str, Any], expected: list[Any]) -> None:
    body = crd(api_version="apiextensions.k8s.io/v1beta1", **spec)
    if spec.get("versions") is None:
        del body["spec"]["versions"]
    got = []
    for k in crd_kinds(body, strict=False):
        assert k.schema is not None
        fields = set(k.schema["properties"]) - {"apiVersion", "kind", "metadata", "status"}
        got.append((k.version, k.served, "own" if fields == {"own"} else "validation"))
    assert got == expected


@pytest.mark.parametrize(
    ("api_version", "preserve", "closed"),
    [
        pytest.param("apiextensions.k8s.io/v1", None, True, id="v1-prunes"),
        pytest.param("apiextensions.k8s.io/v1", True, False, id="v1-preserveUnknownFields"),
        pytest.param("apiextensions.k8s.io/v1beta1", None, False, id="v1beta1-keeps-by-default"),
        pytest.param("apiextensions.k8s.io/v1beta1", False, True, id="v1beta1-opted-in"),
    ],
)
def test_strict_only_where_the_server_prunes(
    api_version: str, preserve: bool | None, closed: bool
) -> None:
    extra = {} if preserve is None else {"preserveUnknownFields": preserve}
    body = crd(obj({"spec": WIDGET_SPEC}), api_version=api_version, **extra)
    (kind,) = crd_kinds(body, strict=True)
    resource = {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"typo": 1}}
    assert errors(kind.schema, resource) == ([("spec", "additionalProperties")] if closed else [])


def nested(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        node = {"type": "object", "properties": {"x": node}}
    return node


SCHEMA_AT = "spec.versions[0].schema.openAPIV3Schema"
MALFORMED = [
    pytest.param({"spec": None}, "spec.group is missing", id="no-spec"),
    pytest.param(
        {"spec": {"group": "example.com", "names": "Widget"}},
        "spec.names.kind is missing",
        id="no-kind",
    ),
    pytest.param(
        {"spec": {"group": "example.com", "names": {"kind": "Widget"}}},
        "spec.versions is missing",
        id="no-versions",
    ),
    pytest.param(
        crd(versions=["v1"]), "spec.versions[0].name is missing", id="version-not-mapping"
    ),
    pytest.param(
        crd(versions=[{"served": True}]), "spec.versions[0].name is missing", id="version-name"
    ),
    pytest.param(
        crd(versions=[{"name": "v1", "schema": "x"}]),
        "spec.versions[0].schema is not a mapping",
        id="schema-str",
    ),
    pytest.param(
        crd("object"), f"{SCHEMA_AT}: a schema must be a mapping, not str", id="openapi-str"
    ),
    pytest.param(
        crd({"type": "array"}),
        f"{SCHEMA_AT}.type: the schema of a resource must be of type object",
        id="root-array",
    ),
    pytest.param(
        crd(obj(["spec"])),
        f"{SCHEMA_AT}.properties: must map field names to schemas",
        id="properties-list",
    ),
    pytest.param(
        crd(obj({"spec": 5})),
        f"{SCHEMA_AT}.properties.spec: a schema must be a mapping, not int",
        id="field-int",
    ),
    pytest.param(
        crd(obj({1: {}})),
        f"{SCHEMA_AT}.properties: must map field names to schemas",
        id="field-name-int",
    ),
    pytest.param(
        crd(obj({"spec": obj({"message": {"type": "strign"}})})),
        f'{SCHEMA_AT}.properties.spec.properties.message.type: unsupported "strign": use one of '
        '"array", "boolean", "integer", "number", "object", "string"',
        id="type-typo",
    ),
    pytest.param(
        crd(obj({"a": {"type": ["string", "null"]}})),
        f"{SCHEMA_AT}.properties.a.type: unsupported ['string', 'null']: use one of "
        '"array", "boolean", "integer", "number", "object", "string"',
        id="type-list",
    ),
    pytest.param(
        crd(obj({"a": {"pattern": "(["}})),
        f"{SCHEMA_AT}.properties.a.pattern: must be a valid regular expression, not '(['",
        id="bad-regex",
    ),
    pytest.param(
        crd(obj({"a": {"minLength": -1}})),
        f"{SCHEMA_AT}.properties.a.minLength: must be a non-negative integer, not -1",
        id="negative",
    ),
    pytest.param(
        crd(obj({"a": {"maximum": "9"}})),
        f"{SCHEMA_AT}.properties.a.maximum: must be a number, not '9'",
        id="max-str",
    ),
    pytest.param(
        crd(obj({"a": {"maximum": float("nan")}})),
        f"{SCHEMA_AT}.properties.a.maximum: must be a number, not nan",
        id="max-nan",
    ),
    pytest.param(
        crd(obj({"a": {"multipleOf": 0}})),
        f"{SCHEMA_AT}.properties.a.multipleOf: must be a number greater than 0, not 0",
        id="multipleOf-0",
    ),
    pytest.param(
        crd(obj({}, required="spec")),
        f"{SCHEMA_AT}.required: must be names, not 'spec'",
        id="required-str",
    ),
    pytest.param(
        crd(obj({"a": {"enum": "A"}})),
        f"{SCHEMA_AT}.properties.a.enum: must be a list, not 'A'",
        id="enum-str",
    ),
    pytest.param(
        crd(obj({"a": {"exclusiveMinimum": 0}})),
        f"{SCHEMA_AT}.properties.a.exclusiveMinimum: must be true or false, not 0",
        id="exclusive-number",
    ),
    pytest.param(
        crd(obj({"a": {"type": "array", "items": [{}]}})),
        f"{SCHEMA_AT}.properties.a.items: a schema must be a mapping, not list",
        id="items-list",
    ),
    pytest.param(
        crd(obj({}, allOf={"required": ["a"]})),
        f"{SCHEMA_AT}.allOf: must be a list",
        id="allOf-mapping",
    ),
    pytest.param(
        crd(obj({}, anyOf=[{}, 3])),
        f"{SCHEMA_AT}.anyOf[1]: a schema must be a mapping, not int",
        id="anyOf-item",
    ),
    pytest.param(
        crd(obj({}, additionalProperties="yes")),
        f"{SCHEMA_AT}.additionalProperties: a schema must be a mapping, not str",
        id="additionalProperties-str",
    ),
    pytest.param(
        crd(obj({}, **{"x-kubernetes-validations": "self > 0"})),
        f"{SCHEMA_AT}.x-kubernetes-validations: must be a list",
        id="cel-str",
    ),
    pytest.param(
        crd(nested(MAX_DEPTH + 1)),
        f"{SCHEMA_AT}{'.properties.x' * (MAX_DEPTH + 1)}: schemas nested deeper than 200 levels",
        id="too-deep",
    ),
    pytest.param(
        crd(nested(10_000)),
        f"{SCHEMA_AT}{'.properties.x' * (MAX_DEPTH + 1)}: schemas nested deeper than 200 levels",
        id="absurdly-deep",
    ),
]


@pytest.mark.parametrize(("body", "problem"), MALFORMED)
def test_malformed_crds_become_problems(body: dict[str, Any], problem: str) -> None:
    kinds = crd_kinds(body, strict=True)
    assert [(k.schema, k.cel_rules, k.problem) for k in kinds] == [(None, 0, problem)]


def test_depth_limit_is_inclusive() -> None:
    (kind,) = crd_kinds(crd(nested(MAX_DEPTH)), strict=True)
    assert kind.problem == ""
    assert kind.schema is not None


def test_one_bad_version_does_not_spoil_the_others() -> None:
    versions = [
        {
            "name": "v1",
            "served": True,
            "schema": {"openAPIV3Schema": obj({"a": {"type": "strng"}})},
        },
        {
            "name": "v2",
            "served": True,
            "schema": {"openAPIV3Schema": obj({"a": {"type": "string"}})},
        },
    ]
    v1, v2 = crd_kinds(crd(versions=versions), strict=True)
    assert (v1.version, v1.schema, v1.problem.split(":")[0]) == (
        "v1",
        None,
        "spec.versions[0].schema.openAPIV3Schema.properties.a.type",
    )
    assert (v2.version, v2.problem, v2.schema is not None) == ("v2", "", True)


def test_openapi_to_json_schema_raises_a_located_error() -> None:
    with pytest.raises(CrdSchemaError) as caught:
        openapi_to_json_schema(obj({"a": obj({"b": {"type": "str"}})}), strict=False)
    assert caught.value.path == ("properties", "a", "properties", "b", "type")
    assert str(caught.value).startswith('properties.a.properties.b.type: unsupported "str"')


def test_not_a_crd_yields_a_problem_not_an_exception() -> None:
    (pdb,) = load_objects(VALIDATION / KV / "crds/not-a-crd-should-be-ignored.yaml")
    assert pdb["kind"] == "PodDisruptionBudget"
    assert [k.problem for k in crd_kinds(pdb, strict=True)] == ["spec.group is missing"]


# ------------------------------------------------------------------------ real fixtures

CRD_FILES = [
    f"{KV}/crds/cert-manager.crds.yaml",
    f"{KV}/crds/jobset.yaml",
    f"{KV}/crds/cel_basic.yaml",
    f"{KV}/crds/not-a-crd-should-be-ignored.yaml",
    "kubeconform/fixtures/crd_schema.yaml",
    "kubeconform/fixtures/registry/sagemaker.aws.amazon.com_trainingjobs.yaml",
]


@cache
def load_objects(path: Path) -> tuple[Any, ...]:
    """Cached: callers must not mutate (crd_kinds does not)."""
    if not path.is_file():
        pytest.fail(f"fixture missing: {path} (see /work/shared/fixtures/README.md)", pytrace=False)
    return tuple(d for d in yaml.safe_load_all(path.read_text()) if d is not None)


def is_crd(body: Any) -> bool:
    return isinstance(body, dict) and body.get("kind") == "CustomResourceDefinition"


@cache
def fixture_kinds(strict: bool) -> dict[tuple[str, str, str], CrdKind]:
    kinds = {}
    for name in CRD_FILES:
        for body in filter(is_crd, load_objects(VALIDATION / name)):
            kinds.update({(k.group, k.version, k.kind): k for k in crd_kinds(body, strict)})
    return kinds


def test_fixture_crds_found() -> None:
    per_file = {
        name: [
            k.kind for b in load_objects(VALIDATION / name) if is_crd(b) for k in crd_kinds(b, True)
        ]
        for name in CRD_FILES
    }
    assert per_file == {
        f"{KV}/crds/cert-manager.crds.yaml": [
            "CertificateRequest",
            "Certificate",
            "Challenge",
            "ClusterIssuer",
            "Issuer",
            "Order",
        ],
        f"{KV}/crds/jobset.yaml": ["JobSet"],
        f"{KV}/crds/cel_basic.yaml": ["CELBasic"],
        f"{KV}/crds/not-a-crd-should-be-ignored.yaml": [],
        "kubeconform/fixtures/crd_schema.yaml": ["TrainingJob"],
        "kubeconform/fixtures/registry/sagemaker.aws.amazon.com_trainingjobs.yaml": ["TrainingJob"],
    }


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])
def test_fixture_crds_convert_and_compile(strict: bool) -> None:
    kinds = fixture_kinds(strict)
    assert {(k.version, k.problem, k.served) for k in kinds.values()} == {
        ("v1", "", True),
        ("v1alpha1", "", True),
    }
    assert {gvk: k.cel_rules for gvk, k in kinds.items() if k.cel_rules} == {
        ("batch.x-k8s.io", "v1alpha1", "JobSet"): 1,
        ("stable.example.com", "v1", "CELBasic"): 2,
    }
    for gvk in kinds:
        fixture_validators(strict, gvk)  # checks and compiles with both validators


def documents(path: Path) -> Iterator[tuple[str | None, Any]]:
    """(API-server status from the document's leading comment, object) per document."""
    if not path.is_file():
        pytest.fail(f"fixture missing: {path} (see /work/shared/fixtures/README.md)", pytrace=False)
    for text in re.split(r"^---[ \t]*$", path.read_text(), flags=re.MULTILINE):
        comment = []
        for line in text.strip().splitlines():
            if not line.startswith("#"):
                break
            comment.append(line[1:])
        recorded = "\n".join(comment).strip()
        status = json.loads(recorded)["status"] if recorded.startswith("{") else None
        body = yaml.safe_load(text)
        if body is not None:
            yield status, body


def document(name: str, index: int) -> tuple[str | None, dict[str, Any]]:
    status, body = list(documents(VALIDATION / name))[index]
    return status, body


@cache
def fixture_validators(strict: bool, gvk: tuple[str, str, str]) -> Validators:
    return validators(fixture_kinds(strict)[gvk].schema)


def verdict(body: dict[str, Any], strict: bool) -> list[tuple[str, str]]:
    group, _, version = body["apiVersion"].rpartition("/")
    gvk = (group, version, body["kind"])
    return errors(None, body, fixture_validators(strict, gvk))


# Manifests with a recorded API-server verdict that JSON Schema can reach: ours must agree.
DECIDED = [
    pytest.param(f"{KV}/manifests/jobset.yaml", 0, "Success", id="jobset"),
    pytest.param(
        f"{KV}/manifests/multiple_resources.yaml", 0, "Success", id="multiple_resources-0"
    ),
]

# Manifests the API server rejects for reasons JSON Schema cannot express: we must say valid.
UNDECIDABLE = [
    pytest.param(
        f"{KV}/manifests/error_cel_basic.yaml",
        "cel",
        "CEL rule `self > 0` on .value (x-kubernetes-validations) is not evaluated",
        id="error_cel_basic",
    ),
    pytest.param(
        f"{KV}/manifests/error_cel_basic_multiple.yaml",
        "cel",
        "CEL rule on the root (`self.other_value % self.value == 0`) is not evaluated",
        id="error_cel_basic_multiple",
    ),
    pytest.param(
        f"{KV}/manifests/error_x_list_map_default.yaml",
        "list-map",
        "list-type map: the items' keys (containerPort, protocol) collide only after the server "
        "defaults protocol to TCP; key uniqueness and defaulting are not JSON Schema",
        id="error_x_list_map_default",
    ),
]

FLUX = "../repos/flux-local-testdata"
FLUX_CERTS_1 = f"{FLUX}/cluster/apps/prod/certificates.yaml"
FLUX_CERTS_2 = f"{FLUX}/cluster2/apps/networking/ingress-nginx/certificates/certificates.yaml"

# Real custom resources without a recorded API verdict; their source says they are fine.
EXPECTED_VALID = [
    pytest.param(
        "kubeconform/fixtures/test_crd.yaml",
        "kubeconform acceptance.bats: fails only for its missing schema",
        id="kubeconform-test_crd",
    ),
    pytest.param(
        FLUX_CERTS_1,
        "flux-local test cluster (unsubstituted ${VARS} are still strings)",
        id="flux-local-certificates",
    ),
    pytest.param(
        FLUX_CERTS_2,
        "flux-local test cluster",
        id="flux-local-certificate-2",
    ),
]


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])
@pytest.mark.parametrize(("name", "index", "status"), DECIDED)
def test_decided_fixture_verdicts(name: str, index: int, status: str, strict: bool) -> None:
    recorded, body = document(name, index)
    assert recorded == status
    assert verdict(body, strict) == []


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])
@pytest.mark.parametrize(("name", "gap", "reason"), UNDECIDABLE)
def test_undecidable_fixture_verdicts(name: str, gap: str, reason: str, strict: bool) -> None:
    recorded, body = document(name, 0)
    assert recorded == "Failure", reason
    assert verdict(body, strict) == [], reason
    group, _, version = body["apiVersion"].rpartition("/")
    if gap == "cel":
        assert fixture_kinds(strict)[(group, version, body["kind"])].cel_rules > 0
    else:  # as written, the items differ: only the server's defaulting makes them collide
        items = body["map_list"]
        assert len({json.dumps(i, sort_keys=True) for i in items}) == len(items)


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])
@pytest.mark.parametrize(("name", "reason"), EXPECTED_VALID)
def test_real_resources_without_recorded_verdict(name: str, reason: str, strict: bool) -> None:
    bodies = [b for _, b in documents(VALIDATION / name)]
    assert bodies, reason
    for body in bodies:
        assert verdict(body, strict) == [], reason


def test_crd_with_a_typo_is_rejected_like_the_api_server() -> None:
    status, body = document(f"{KV}/manifests/error_crd_typo.yaml", 0)
    assert status == "Failure"
    assert [(k.kind, k.schema, k.problem) for k in crd_kinds(body, strict=True)] == [
        (
            "CustomResourceDefinition",
            None,
            f'{SCHEMA_AT}.properties.spec.properties.message.type: unsupported "strign": use one '
            'of "array", "boolean", "integer", "number", "object", "string"',
        )
    ]


def test_every_fixture_custom_resource_is_in_a_table() -> None:
    """No kubectl-validate manifest of a fixture CRD's group is left out of the tables above."""
    groups = {group for group, _, _ in fixture_kinds(True)}
    listed = {(p.values[0], p.values[1]) for p in DECIDED} | {(p.values[0], 0) for p in UNDECIDABLE}
    found = set()
    for path in sorted((VALIDATION / KV / "manifests").glob("*.yaml")):
        for index, (_, body) in enumerate(documents(path)):
            if isinstance(body, dict) and str(body.get("apiVersion")).rpartition("/")[0] in groups:
                found.add((f"{KV}/manifests/{path.name}", index))
    assert found == listed


# Mutations of real manifests: what JSON Schema does catch (no API oracle; expected by reading).
def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(body: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node: Any = body
        for part in parents:
            node = node[part]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value

    return mutate


_DELETE = object()
JOBSET = f"{KV}/manifests/jobset.yaml"
CERTS = FLUX_CERTS_2
CEL = f"{KV}/manifests/error_cel_basic.yaml"
TRAINING = "kubeconform/fixtures/test_crd.yaml"

MUTATIONS = [
    pytest.param(
        JOBSET,
        _set("spec.jobs.0.netwrok", {}),
        [("spec/jobs/0", "additionalProperties")],
        [],
        id="jobset-typo",
    ),
    pytest.param(
        JOBSET,
        _set("spec.jobs.0.replicas", "3"),
        [("spec/jobs/0/replicas", "type")],
        None,
        id="jobset-type",
    ),
    pytest.param(
        JOBSET,
        _set("spec.jobs.0.network", _DELETE),
        [("spec/jobs/0", "required")],
        None,
        id="jobset-required",
    ),
    pytest.param(
        JOBSET,
        _set("spec.jobs.0.network.enableDNSHostnames", None),
        [],
        None,
        id="jobset-null-pruned",
    ),
    pytest.param(
        JOBSET,
        _set("spec.jobs.0.template.metadata.labels", {"a": "b"}),
        [],
        None,
        id="jobset-template-labels",
    ),
    pytest.param(
        JOBSET,
        _set(
            "spec.jobs.0.template.spec.template.spec.containers.0.ports", [{"containerPort": "80"}]
        ),
        [("spec/jobs/0/template/spec/template/spec/containers/0/ports/0/containerPort", "type")],
        None,
        id="jobset-pod-port",
    ),
    pytest.param(
        CERTS,
        _set("spec.dnsNames", "example.io"),
        [("spec/dnsNames", "type")],
        None,
        id="cert-list-as-string",
    ),
    pytest.param(
        CERTS,
        _set("spec.privateKey", {"algorithm": "RSB"}),
        [("spec/privateKey/algorithm", "enum")],
        None,
        id="cert-enum",
    ),
    pytest.param(
        CERTS,
        _set("spec.issuerRef.knd", "Issuer"),
        [("spec/issuerRef", "additionalProperties")],
        [],
        id="cert-typo",
    ),
    pytest.param(CEL, _set("value", "3"), [("value", "type")], None, id="cel-crd-type"),
    pytest.param(
        CEL,
        _set("map_list", [{"containerPort": "x"}]),
        [("map_list/0/containerPort", "type")],
        None,
        id="cel-crd-list",
    ),
    pytest.param(TRAINING, _set("spec", _DELETE), [("", "required")], None, id="v1beta1-required"),
    pytest.param(TRAINING, _set("spec.regoin", "x"), [], None, id="v1beta1-keeps-unknown-fields"),
]


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])
@pytest.mark.parametrize(("name", "mutate", "expected", "lenient"), MUTATIONS)
def test_mutated_real_resources(
    name: str,
    mutate: Callable[[dict[str, Any]], None],
    expected: list[tuple[str, str]],
    lenient: list[tuple[str, str]] | None,
    strict: bool,
) -> None:
    """`lenient`: what non-strict mode says, when it differs."""
    _, body = document(name, 0)
    mutate(body)
    want = expected if strict or lenient is None else lenient
    assert verdict(body, strict) == want
