"""JsonSchemaCatalog: kubernetes-validate's schema files and custom schemas, on jsonschema-rs."""

from __future__ import annotations

import copy
import http.server
import importlib.resources
import json
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from bot.engines.schema_catalog import MAX_DEPTH, MAX_MESSAGE, JsonSchemaCatalog
from bot.model.errors import SchemaCompileError
from bot.ports import SchemaViolation, Violations

CATALOG = JsonSchemaCatalog()


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "prod", "labels": {"app": "web"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx:1.27",
                            "ports": [{"name": "http", "containerPort": 80}],
                            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                        }
                    ]
                },
            },
        },
    }


def service(target_port: Any = "http") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": target_port}]},
    }


def schema(kind: str, strict: bool = True, version: str = "1.31") -> Any:
    group, _, api_version = {
        "Deployment": ("apps", "", "apps/v1"),
        "Service": ("", "", "v1"),
        "ConfigMap": ("", "", "v1"),
    }[kind]
    compiled = CATALOG.kubernetes_schema(version, group, api_version, kind, strict)
    assert compiled is not None
    return compiled


def found(violations: Violations) -> set[tuple[tuple[str | int, ...], str]]:
    return {(v.path, v.keyword) for v in violations.items}


# --- versions and kinds -------------------------------------------------------------------


def test_versions_are_the_bundled_minors_oldest_first() -> None:
    versions = CATALOG.kubernetes_versions()
    assert versions[0] == "1.25"
    assert versions[-1] == "1.37"
    assert [int(v.split(".")[1]) for v in versions] == list(range(25, 38))


@pytest.mark.parametrize(
    ("version", "gvk", "present"),
    [
        ("1.31", ("apps", "v1", "Deployment"), True),
        ("1.31", ("", "v1", "ConfigMap"), True),
        ("1.31", ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"), True),
        # Removed in 1.26: served by the 1.25 bundle, gone from 1.31.
        ("1.25", ("autoscaling", "v2beta2", "HorizontalPodAutoscaler"), True),
        ("1.31", ("autoscaling", "v2beta2", "HorizontalPodAutoscaler"), False),
        ("1.25", ("flowcontrol.apiserver.k8s.io", "v1beta1", "FlowSchema"), True),
        ("1.31", ("flowcontrol.apiserver.k8s.io", "v1beta1", "FlowSchema"), False),
        # PodSecurityPolicy was removed in 1.25 itself: no bundle has it.
        ("1.25", ("policy", "v1beta1", "PodSecurityPolicy"), False),
        # DeleteOptions/WatchEvent claim every group-version in the OpenAPI; they are no resources.
        ("1.31", ("apps", "v1", "DeleteOptions"), False),
        ("1.31", ("policy", "v1beta1", "WatchEvent"), False),
    ],
    ids=lambda v: "/".join(v) if isinstance(v, tuple) else str(v),
)
def test_kinds(version: str, gvk: tuple[str, str, str], present: bool) -> None:
    assert (gvk in CATALOG.kubernetes_kinds(version)) is present
    group, api_version, kind = gvk
    compiled = CATALOG.kubernetes_schema(version, group, api_version, kind, strict=True)
    assert (compiled is not None) is present


def test_kinds_are_cached() -> None:
    assert CATALOG.kubernetes_kinds("1.31") is JsonSchemaCatalog().kubernetes_kinds("1.31")


@pytest.mark.parametrize("version", ["1.24", "1.38", "v1.31", "1.31.0", ""])
def test_unknown_version_is_a_value_error(version: str) -> None:
    with pytest.raises(ValueError, match="no bundled Kubernetes schemas"):
        CATALOG.kubernetes_kinds(version)
    with pytest.raises(ValueError, match="no bundled Kubernetes schemas"):
        CATALOG.kubernetes_schema(version, "", "v1", "ConfigMap", strict=False)


# --- Kubernetes validation ----------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.25", "1.31", "1.37"])
@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lax"])
def test_valid_deployment_has_no_violations(version: str, strict: bool) -> None:
    assert schema("Deployment", strict, version).violations(deployment(), 10) == Violations(())


def test_invalid_deployment_reports_every_problem() -> None:
    manifest = deployment()
    manifest["spec"]["replicas"] = "3"
    del manifest["spec"]["selector"]
    manifest["spec"]["template"]["spec"]["containers"][0]["imagee"] = "nginx"

    strict = schema("Deployment").violations(manifest, 10)
    assert found(strict) == {
        (("spec", "replicas"), "type"),
        (("spec",), "required"),
        (("spec", "template", "spec", "containers", 0), "additionalProperties"),
    }
    assert len(strict.items) == 3
    assert not strict.more
    messages = {v.keyword: v.message for v in strict.items}
    assert messages["additionalProperties"] == (
        "Additional properties are not allowed ('imagee' was unexpected)"
    )
    assert "selector" in messages["required"]
    assert '"3"' in messages["type"]

    lax = schema("Deployment", strict=False).violations(manifest, 10)
    assert found(lax) == {(("spec", "replicas"), "type"), (("spec",), "required")}


def with_port(value: Any) -> dict[str, Any]:
    return service(value)


def with_container(**fields: Any) -> dict[str, Any]:
    manifest = deployment()
    manifest["spec"]["template"]["spec"]["containers"][0].update(fields)
    return manifest


def with_resources(**quantities: Any) -> dict[str, Any]:
    return with_container(resources={"limits": quantities, "requests": quantities})


def with_strategy(**rolling: Any) -> dict[str, Any]:
    manifest = deployment()
    manifest["spec"]["strategy"]["rollingUpdate"] = rolling
    return manifest


def with_metadata(**fields: Any) -> dict[str, Any]:
    manifest = deployment()
    manifest["metadata"].update(fields)
    return manifest


ACCEPTED = {
    "targetPort-name": ("Service", with_port("http")),
    "targetPort-number": ("Service", with_port(8080)),
    "targetPort-null": ("Service", with_port(None)),
    "maxSurge-percent-and-int": ("Deployment", with_strategy(maxSurge="25%", maxUnavailable=1)),
    "maxSurge-null": ("Deployment", with_strategy(maxSurge=None, maxUnavailable=None)),
    "quantity-int": ("Deployment", with_resources(cpu=1, memory=1073741824)),
    "quantity-float": ("Deployment", with_resources(cpu=0.5)),
    "quantity-string": ("Deployment", with_resources(cpu="500m", memory="1Gi")),
    "quantity-null": ("Deployment", with_resources(cpu=None)),
    "null-array": ("Deployment", with_container(args=None, command=None, env=None)),
    "null-string": ("Deployment", with_container(imagePullPolicy=None, workingDir=None)),
    "null-labels": ("Deployment", with_metadata(labels=None, annotations={"a": None})),
    "null-namespace": ("Deployment", with_metadata(namespace=None)),
    "configmap-null-data": (
        "ConfigMap",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": None},
    ),
}


@pytest.mark.parametrize(("kind", "manifest"), ACCEPTED.values(), ids=ACCEPTED.keys())
def test_kubernetes_leniency_is_kept(kind: str, manifest: dict[str, Any]) -> None:
    assert schema(kind).violations(manifest, 10) == Violations(())


REJECTED = {
    "targetPort-float": ("Service", with_port(1.5), ("spec", "ports", 0, "targetPort"), "anyOf"),
    "targetPort-bool": ("Service", with_port(True), ("spec", "ports", 0, "targetPort"), "anyOf"),
    "quantity-bool": (
        "Deployment",
        with_container(resources={"limits": {"cpu": True}}),
        ("spec", "template", "spec", "containers", 0, "resources", "limits", "cpu"),
        "anyOf",
    ),
    "wrong-apiVersion": (
        "Deployment",
        {**deployment(), "apiVersion": "apps/v1beta1"},
        ("apiVersion",),
        "enum",
    ),
    "labels-int": (
        "Deployment",
        with_metadata(labels={"a": 1}),
        ("metadata", "labels", "a"),
        "type",
    ),
}


@pytest.mark.parametrize(
    ("kind", "manifest", "path", "keyword"), REJECTED.values(), ids=REJECTED.keys()
)
def test_kubernetes_rejections(
    kind: str, manifest: Any, path: tuple[Any, ...], keyword: str
) -> None:
    assert found(schema(kind).violations(manifest, 10)) == {(path, keyword)}


def configmap_with_ints(count: int) -> dict[str, Any]:
    data = {f"k{i:02}": i for i in range(count)}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data}


@pytest.mark.parametrize(
    ("errors", "limit", "expected", "more"),
    [(10, 3, 3, True), (10, 10, 10, False), (10, 11, 10, False), (1, 0, 0, True), (0, 0, 0, False)],
    ids=["capped", "exactly-limit", "under-limit", "limit-zero", "valid-limit-zero"],
)
def test_limit_caps_and_says_more(errors: int, limit: int, expected: int, more: bool) -> None:
    result = schema("ConfigMap").violations(configmap_with_ints(errors), limit)
    assert len(result.items) == expected
    assert result.more is more
    assert all(v.keyword == "type" and v.path[0] == "data" for v in result.items)


# --- instances jsonschema-rs cannot take ----------------------------------------------------


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"x": value}
    return value


def cyclic() -> Any:
    value: dict[str, Any] = {}
    value["x"] = value
    return value


ODD = {
    "deep": (nested(MAX_DEPTH + 10), ("metadata", "labels", *["x"] * (MAX_DEPTH - 2)), "depth"),
    "cyclic": (cyclic(), ("metadata", "labels", *["x"] * (MAX_DEPTH - 2)), "depth"),
    "very-deep": (nested(100_000), ("metadata", "labels", *["x"] * (MAX_DEPTH - 2)), "depth"),
    "set": ({"a": {1, 2}}, ("metadata", "labels", "a"), "type"),
    "bytes": ({"a": b"x"}, ("metadata", "labels", "a"), "type"),
    "int-key": ({1: "a"}, ("metadata", "labels", 1), "propertyNames"),
}


@pytest.mark.parametrize(("labels", "path", "keyword"), ODD.values(), ids=ODD.keys())
def test_odd_instances_are_one_violation(labels: Any, path: tuple[Any, ...], keyword: str) -> None:
    result = schema("Deployment").violations(with_metadata(labels=labels), 10)
    assert len(result.items) == 1
    assert result.items[0].path == path
    assert result.items[0].keyword == keyword
    assert result.items[0].message.endswith("not validated")


def test_depth_up_to_the_limit_is_validated() -> None:
    compiled = CATALOG.compile({"type": "object"})
    assert compiled.violations(nested(MAX_DEPTH), 5) == Violations(())
    assert compiled.violations(nested(MAX_DEPTH + 1), 5).items[0].keyword == "depth"


def test_deep_and_cyclic_instances_do_not_crash_small_thread_stacks() -> None:
    """Without the depth guard jsonschema-rs overflows a 256 KiB thread stack (SIGSEGV)."""
    script = textwrap.dedent(
        """
        import threading
        from bot.engines.schema_catalog import JsonSchemaCatalog
        threading.stack_size(256 * 1024)
        def run():
            catalog = JsonSchemaCatalog()
            crd = catalog.kubernetes_schema(
                "1.37", "apiextensions.k8s.io", "apiextensions.k8s.io/v1",
                "CustomResourceDefinition", True)
            def nested(levels):
                schema = {"type": "string"}
                for _ in range(levels):
                    schema = {"type": "object", "properties": {"x": schema}}
                return schema
            loop = {}
            loop["x"] = loop
            for instance in (nested(5000), loop, nested(120)):
                spec = {"versions": [{"schema": {"openAPIV3Schema": instance}}]}
                found = crd.violations({"spec": spec}, 5).items
                print(any(v.keyword == "depth" for v in found))
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[2],
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "False"]


# --- messages -----------------------------------------------------------------------------


def test_messages_quoting_huge_instances_are_shortened() -> None:
    compiled = CATALOG.compile({"oneOf": [{"type": "string"}, {"type": "integer"}]})
    (violation,) = compiled.violations({"big": list(range(5000))}, 5).items
    assert len(violation.message) <= MAX_MESSAGE
    assert violation.message.startswith('{"big":[0,1,2')
    assert "…" in violation.message
    assert violation.message.endswith(
        "is not valid under any of the schemas listed in the 'oneOf' keyword"
    )
    assert violation.keyword == "oneOf"


def test_long_messages_are_capped() -> None:
    compiled = CATALOG.compile({"properties": {"a": {}}, "additionalProperties": False})
    (violation,) = compiled.violations({f"key{i}": i for i in range(1000)}, 5).items
    assert len(violation.message) <= MAX_MESSAGE
    assert violation.message.startswith("Additional properties are not allowed ('key0', ")
    assert violation.message.endswith("'key999' were unexpected)")


def test_bare_additional_properties_false_names_the_keys() -> None:
    """jsonschema-rs reports `False schema does not allow 1` without the key: we name it."""
    compiled = CATALOG.compile({"properties": {"spec": {"additionalProperties": False}}})
    assert compiled.violations({"spec": {"imagee": 1}}, 5).items == (
        SchemaViolation(
            "Additional properties are not allowed ('imagee' was unexpected)",
            ("spec",),
            "additionalProperties",
        ),
    )


# --- compile() ----------------------------------------------------------------------------

WIDGET: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["size"],
    "properties": {
        "size": {"type": "integer", "minimum": 1},
        "color": {"enum": ["red", "blue"]},
        "parts": {"type": "array", "items": {"$ref": "#"}},
    },
    "additionalProperties": False,
}

CUSTOM = {
    "valid": (WIDGET, {"size": 2, "color": "red", "parts": [{"size": 1}]}, set()),
    "enum": (WIDGET, {"size": 2, "color": "green"}, {(("color",), "enum")}),
    "minimum-nested": (
        WIDGET,
        {"size": 1, "parts": [{"size": 0}]},
        {(("parts", 0, "size"), "minimum")},
    ),
    "required": (WIDGET, {}, {((), "required")}),
    "false-schema": ({"properties": {"x": False}}, {"x": 1}, {(("x",), "false")}),
    # Draft from $schema: in draft 7 a $ref's siblings are ignored, in 2020-12 they apply.
    "draft-7": (
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "definitions": {"s": {"type": "string"}},
            "$ref": "#/definitions/s",
            "minLength": 5,
        },
        "ab",
        set(),
    ),
    "draft-2020-12-default": (
        {"$defs": {"s": {"type": "string"}}, "$ref": "#/$defs/s", "minLength": 5},
        "ab",
        {((), "minLength")},
    ),
    # Legitimate recursion (it descends into the instance), like JSONSchemaProps.
    "recursive-tree": (
        {"properties": {"not": {"$ref": "#"}, "allOf": {"items": {"$ref": "#"}}}, "type": "object"},
        {"not": {"allOf": [{"not": 3}]}},
        {(("not", "allOf", 0, "not"), "type")},
    ),
}


@pytest.mark.parametrize(("custom", "instance", "expected"), CUSTOM.values(), ids=CUSTOM.keys())
def test_compile_custom_schemas(custom: dict[str, Any], instance: Any, expected: set[Any]) -> None:
    assert found(CATALOG.compile(custom).violations(instance, 10)) == expected


def test_compile_a_whole_kubernetes_bundle_without_false_loops() -> None:
    """1.3 MB of $defs, JSONSchemaProps recursing through properties named not/allOf/anyOf."""
    root = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema"
    document = json.loads((root / "v1.37.0-local" / "_definitions.json").read_bytes())
    crd = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"
    compiled = CATALOG.compile({"$defs": document["$defs"], "$ref": f"#/$defs/{crd}"})
    assert found(compiled.violations({"spec": {"names": 3}}, 10)) == {
        (("spec",), "required"),
        (("spec", "names"), "type"),
    }


INVALID = {
    "type-not-a-type": ({"type": 12}, "at #/type"),
    "minLength-string": ({"minLength": "x"}, "at #/minLength"),
    "missing-pointer": ({"$ref": "#/$defs/nope"}, "/$defs/nope"),
    "missing-anchor": ({"$ref": "#nope"}, "nope"),
    "unknown-metaschema": ({"$schema": "https://example.com/meta"}, "https://example.com/meta"),
    "not-json": ({"enum": [{1, 2}]}, "not JSON"),
    "nan": ({"maximum": float("nan")}, "not JSON"),
}


@pytest.mark.parametrize(("invalid", "expected"), INVALID.values(), ids=INVALID.keys())
def test_invalid_schemas_raise_schema_compile_error(invalid: dict[str, Any], expected: str) -> None:
    with pytest.raises(SchemaCompileError) as raised:
        CATALOG.compile(invalid)
    assert expected in raised.value.message
    assert "\n" not in raised.value.message


class CountingHandler(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []  # noqa: RUF012

    def do_GET(self) -> None:
        CountingHandler.requests.append(self.path)
        body = b'{"type": "string"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def schema_server() -> Iterator[str]:
    """A local server holding a valid schema: any fetch by jsonschema-rs would show up here."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CountingHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    CountingHandler.requests.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "ref",
    [
        "https://example.com/x.json",
        "http://169.254.169.254/latest/meta-data/",
        "{server}/schema.json",
        "{server}/schema.json#/type",
        "{file}",
        "{file}#/type",
        "file:///etc/passwd",
        "other.json",
    ],
)
def test_remote_refs_are_never_fetched(ref: str, schema_server: str, tmp_path: Path) -> None:
    local = tmp_path / "schema.json"
    local.write_text('{"type": "string"}')
    ref = ref.format(server=schema_server, file=local.as_uri())
    started = time.monotonic()
    with pytest.raises(SchemaCompileError) as raised:
        CATALOG.compile({"properties": {"a": {"$ref": ref}}})
    assert time.monotonic() - started < 1.0
    assert "leaves the schema" in raised.value.message
    assert "never fetched" in raised.value.hint
    assert CountingHandler.requests == []


def test_the_server_would_see_a_fetch(schema_server: str) -> None:
    """Control for the test above: jsonschema-rs left to itself does fetch the schema."""
    validator = jsonschema_rs.validator_for({"$ref": f"{schema_server}/schema.json"})
    assert not validator.is_valid(1)
    assert CountingHandler.requests == ["/schema.json"]


LOOPS: dict[str, dict[str, Any]] = {
    "self": {"$ref": "#"},
    "pair": {
        "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
        "$ref": "#/$defs/a",
    },
    "unused-defs": {"$defs": {"a": {"$ref": "#/$defs/a"}}, "type": "string"},
    "under-properties": {
        "properties": {"x": {"$ref": "#/$defs/a"}},
        "$defs": {"a": {"allOf": [{"$ref": "#/$defs/a"}]}},
    },
    "allOf": {"allOf": [{"$ref": "#"}]},
    "anyOf-with-exit": {"anyOf": [{"type": "string"}, {"$ref": "#"}]},
    "not": {"not": {"$ref": "#"}},
    "if-then": {"if": {"$ref": "#"}, "then": {"type": "string"}},
    "anchor": {"$defs": {"a": {"$anchor": "here", "oneOf": [{"$ref": "#here"}]}}},
    "dependentSchemas": {"dependentSchemas": {"a": {"$ref": "#"}}},
    "dynamicRef": {"$dynamicAnchor": "node", "$dynamicRef": "#node"},
    "percent-encoded": {"$defs": {"a b": {"$ref": "#/$defs/a%20b"}}, "$ref": "#/$defs/a%20b"},
    "draft-7": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "definitions": {"a": {"$ref": "#/definitions/a"}},
        "$ref": "#/definitions/a",
    },
}


@pytest.mark.parametrize("looping", LOOPS.values(), ids=LOOPS.keys())
def test_ref_loops_are_compile_errors(looping: dict[str, Any]) -> None:
    """jsonschema-rs compiles these and quietly cuts the loop (`{"$ref": "#"}` accepts anything)."""
    with pytest.raises(SchemaCompileError, match="loops without descending") as raised:
        CATALOG.compile(looping)
    assert "→" in raised.value.message
    assert "properties, items" in raised.value.hint


def test_ref_loop_message_names_the_cycle() -> None:
    with pytest.raises(SchemaCompileError) as raised:
        CATALOG.compile(LOOPS["pair"])
    assert "#/$defs/a → #/$defs/b → #/$defs/a" in raised.value.message


# --- caching and threads ------------------------------------------------------------------


def test_kubernetes_schemas_are_cached_process_wide() -> None:
    first = CATALOG.kubernetes_schema("1.31", "apps", "apps/v1", "Deployment", strict=True)
    assert (
        JsonSchemaCatalog().kubernetes_schema("1.31", "apps", "apps/v1", "Deployment", True)
        is first
    )
    assert CATALOG.kubernetes_schema("1.31", "apps", "v1", "Deployment", strict=True) is first
    assert CATALOG.kubernetes_schema("1.31", "apps", "apps/v1", "Deployment", False) is not first
    assert CATALOG.kubernetes_schema("1.30", "apps", "apps/v1", "Deployment", True) is not first


def test_equal_schemas_compile_once() -> None:
    again = copy.deepcopy(WIDGET)
    reordered = dict(reversed(list(WIDGET.items())))
    first = CATALOG.compile(WIDGET)
    assert JsonSchemaCatalog().compile(again) is first
    assert CATALOG.compile(reordered) is first
    assert CATALOG.compile({**WIDGET, "minProperties": 1}) is not first


def test_threads_share_the_same_compiled_objects() -> None:
    barrier = threading.Barrier(4)
    custom = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 4242}}}

    def fetch(_: int) -> tuple[Any, ...]:
        catalog = JsonSchemaCatalog()
        barrier.wait()
        kinds = catalog.kubernetes_kinds("1.28")
        compiled = tuple(
            catalog.kubernetes_schema("1.28", group, version, kind, strict=True)
            for group, version, kind in [
                ("apps", "v1", "Deployment"),
                ("", "v1", "Service"),
                ("", "v1", "ConfigMap"),
            ]
        )
        assert compiled[0] is not None
        assert all(compiled[0].violations(deployment(), 5) == Violations(()) for _ in range(200))
        return (kinds, *compiled, catalog.compile(custom))

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(fetch, range(4)))
    assert all(r[0] == results[0][0] for r in results)
    for column in range(1, 5):
        assert results[0][column] is not None
        assert all(r[column] is results[0][column] for r in results)
