"""OpaServerEngine against a loopback OPA (OPA's REST API over OPA's own Go engine)."""

from __future__ import annotations

import base64
import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from bot.core.policy.builtins_guard import forbidden_builtins
from bot.engines.opa_server import OpaServerEngine
from bot.engines.regorus_engine import InProcessRegorusEngine
from bot.model.errors import PolicyCompileError, PolicyEngineError
from bot.ports import PolicyModule, PolicyResult
from tests.engines.opa_loopback import LoopbackOpa, opa_server

__all__ = ["opa_server"]  # the fixture, used by name


def _pod(name: str, *images: str, **extra: Any) -> dict[str, Any]:
    containers = [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, **extra} | {
        "spec": {"containers": containers}
    }


def _deployment(name: str, replicas: Any, non_root: bool = True) -> dict[str, Any]:
    security = {"runAsNonRoot": True} if non_root else {}
    template = {"spec": {"securityContext": security, "containers": [{"name": "app"}]}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"replicas": replicas, "template": template},
    }


@dataclass(frozen=True)
class Case:
    id: str
    modules: dict[str, str]
    inputs: list[Any]
    query: str = "data.main"
    data: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case(
        "strings-and-booleans",
        {
            "policy/main.rego": """package main

deny contains msg if {
    input.kind == "Deployment"
    not input.spec.template.spec.securityContext.runAsNonRoot
    msg := sprintf("%s/%s must run as non-root", [input.kind, input.metadata.name])
}

warn contains "no resource limits" if {
    some c in input.spec.template.spec.containers
    not c.resources.limits
}

violation if input.metadata.namespace == "default"
"""
        },
        [_deployment("web", 2), _deployment("api", 1, non_root=False), {"kind": "Service"}, {}],
    ),
    Case(
        "objects-and-sets-of-objects",
        {
            "policy/images.rego": """package main

deny contains {"msg": sprintf("%s uses :latest", [c.image]), "details": {"c": c.name}} if {
    some c in input.spec.containers
    endswith(c.image, ":latest")
}

warn contains {"msg": "not pinned", "_loc": {"file": "pod.yaml", "line": 7}} if {
    some c in input.spec.containers
    not contains(c.image, "@sha256:")
}

exception contains rules if {
    input.metadata.labels.exempt == "true"
    rules := ["latest"]
}
"""
        },
        [
            _pod("a", "nginx:latest", "redis:latest", "busybox@sha256:abc"),
            _pod("b", "nginx:1.27"),
            _pod("c", "x:latest", metadata={"name": "c", "labels": {"exempt": "true"}}),
        ],
    ),
    Case(
        "data-and-a-library-listed-after-its-user",
        {
            "policy/main.rego": """package main

import data.lib.k8s

deny contains msg if {
    some image in k8s.images(input)
    not k8s.trusted(image, data.config.registries)
    msg := sprintf("untrusted registry: %s", [image])
}
""",
            "policy/lib/k8s.rego": """package lib.k8s

images(obj) := {c.image | some c in obj.spec.containers}

trusted(image, registries) if {
    some prefix in registries
    startswith(image, prefix)
}
""",
        },
        [_pod("a", "ghcr.io/x:1", "docker.io/y:2"), _pod("b", "registry.k8s.io/pause:3")],
        data={"config": {"registries": ["ghcr.io/", "registry.k8s.io/"]}},
    ),
    Case(
        "a-builtin-error-in-one-input",
        {
            "policy/replicas.rego": """package main

deny contains msg if {
    n := to_number(input.spec.replicas)
    n > 3
    msg := sprintf("%v replicas", [n])
}
"""
        },
        [_deployment("a", "2"), _deployment("b", "many"), _deployment("c", "5")],
    ),
    Case(
        "undefined-documents",
        {"policy/allow.rego": "package main\n\nallow if input.ok\n"},
        [{"ok": True}, {"ok": False}, {}],
        query="data.main.allow",
    ),
    Case(
        "an-undefined-package",
        {"policy/allow.rego": "package main\n\nallow if input.ok\n"},
        [{"ok": True}, {}],
        query="data.nothing",
    ),
    Case(
        "a-helper-in-a-later-file-of-the-same-package",
        {
            "policy/a.rego": 'package main\n\ndeny contains "too big" if too_big(input)\n',
            "policy/b.rego": "package main\n\ntoo_big(x) if x.size > data.limits.size\n",
        },
        [{"size": 1}, {"size": 100}],
        data={"limits": {"size": 10}},
    ),
    Case(
        "change-aware",
        {
            "policy/change.rego": """package change

deny contains msg if {
    input.change == "removed"
    input.base.kind == "PersistentVolumeClaim"
    msg := sprintf("deleting PVC %s loses its data", [input.base.metadata.name])
}
"""
        },
        [
            {
                "base": {"kind": "PersistentVolumeClaim", "metadata": {"name": "db"}},
                "head": None,
                "change": "removed",
            },
            {"base": None, "head": {"kind": "Service"}, "change": "added"},
        ],
        query="data.change",
    ),
    Case(
        "combined-and-the-whole-data-document",
        {
            "policy/unique.rego": """package main

deny contains msg if {
    some i, j
    input[i].contents.metadata.name == input[j].contents.metadata.name
    i < j
    msg := sprintf("duplicate name %s", [input[i].contents.metadata.name])
}
"""
        },
        [[{"path": "a.yaml", "contents": _pod("x")}, {"path": "b.yaml", "contents": _pod("x")}]],
        query="data",
        data={"settings": {"strict": True}},
    ),
]


def _modules(case: Case) -> list[PolicyModule]:
    return [PolicyModule(path, source) for path, source in case.modules.items()]


def _same(opa: list[PolicyResult], regorus: list[PolicyResult]) -> None:
    assert len(opa) == len(regorus)
    for mine, reference in zip(opa, regorus, strict=True):
        assert bool(mine.error) == bool(reference.error), (mine, reference)
        assert mine.value == reference.value


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_results_equal_regorus(opa_server: LoopbackOpa, case: Case) -> None:
    compiled = OpaServerEngine(opa_server.url).compile(_modules(case), case.data, 5.0)
    try:
        results = compiled.evaluate(case.query, case.inputs)
    finally:
        compiled.close()
    reference = InProcessRegorusEngine().compile(_modules(case), case.data, 5.0)
    _same(results, reference.evaluate(case.query, case.inputs))


def test_a_builtin_error_stays_with_its_input(opa_server: LoopbackOpa) -> None:
    case = next(c for c in CASES if c.id == "a-builtin-error-in-one-input")
    compiled = OpaServerEngine(opa_server.url).compile(_modules(case), {}, 5.0)
    results = compiled.evaluate("data.main", case.inputs)
    assert [r.value for r in results] == [{"deny": []}, None, {"deny": ["5 replicas"]}]
    assert "to_number" in results[1].error
    assert "policy/replicas.rego:4" in results[1].error
    # the batched call failed as a whole, so each input was asked again on its own
    assert len(opa_server.requests_to("POST", "/v1/data/gitops_bot_")) == 1 + 3


def test_all_inputs_go_in_one_request(opa_server: LoopbackOpa) -> None:
    case = CASES[0]
    compiled = OpaServerEngine(opa_server.url).compile(_modules(case), {}, 5.0)
    compiled.evaluate("data.main", case.inputs)
    compiled.evaluate("data.main", case.inputs)
    posts = opa_server.requests_to("POST", "/v1/data/")
    assert len(posts) == 2
    assert all("_batch/q0/results?strict-builtin-errors=true" in p.target for p in posts)
    assert len(opa_server.requests_to("PUT", "/v1/policies/gitops_bot_")) == 2  # module, batch


def test_modules_go_up_after_the_packages_they_use(opa_server: LoopbackOpa) -> None:
    case = next(c for c in CASES if c.id == "data-and-a-library-listed-after-its-user")
    OpaServerEngine(opa_server.url).compile(_modules(case), case.data, 5.0)
    puts = [r.target for r in opa_server.requests_to("PUT", "/v1/")]
    assert puts[0].startswith("/v1/data/gitops_bot_")  # data first, then lib, then main
    assert [p.rsplit("_", 2)[-2] for p in puts[1:]] == ["k8s", "main"]


def test_uploads_are_namespaced_and_keep_their_lines(opa_server: LoopbackOpa) -> None:
    source = "package main # the entry point\n\n# data.x in a comment\nx := data.config.x\n"
    OpaServerEngine(opa_server.url).compile(
        [PolicyModule("p/main.rego", source)], {"config": {"x": 1}}, 5.0
    )
    (uploaded,) = opa_server.policies.values()
    ns = next(iter(opa_server.data))
    assert uploaded.splitlines() == [
        f"package {ns}.main import rego.v1 # the entry point",
        "",
        "# data.x in a comment",
        f"x := data.{ns}.config.x",
    ]
    assert opa_server.data == {ns: {"config": {"x": 1}}}


def test_data_in_a_template_string_is_namespaced_too(opa_server: LoopbackOpa) -> None:
    source = 'package main\n\nmsg := $"max {data.config.max}, not data.config.max"\n'
    compiled = OpaServerEngine(opa_server.url).compile(
        [PolicyModule("p.rego", source)], {"config": {"max": 3}}, 5.0
    )
    assert compiled.evaluate("data.main.msg", [{}]) == [PolicyResult("max 3, not data.config.max")]


def test_concurrent_compiles_do_not_see_each_other(opa_server: LoopbackOpa) -> None:
    engine = OpaServerEngine(opa_server.url)
    source = "package main\n\ndefault limit := 0\n\nlimit := data.config.limit\n"
    first = engine.compile([PolicyModule("p.rego", source)], {"config": {"limit": 1}}, 5.0)
    second = engine.compile([PolicyModule("p.rego", source)], {"config": {"limit": 2}}, 5.0)
    assert first.evaluate("data.main.limit", [{}, {}]) == [PolicyResult(1), PolicyResult(1)]
    assert second.evaluate("data.main.limit", [{}]) == [PolicyResult(2)]


def test_reviews_in_parallel_threads_stay_isolated(opa_server: LoopbackOpa) -> None:
    engine = OpaServerEngine(opa_server.url)
    source = 'package main\n\ndeny contains sprintf("limit %d", [data.config.limit]) if input.go\n'

    def review(limit: int) -> list[PolicyResult]:
        compiled = engine.compile(
            [PolicyModule("p.rego", source)], {"config": {"limit": limit}}, 5.0
        )
        try:
            return compiled.evaluate("data.main.deny", [{"go": True}, {"go": False}])
        finally:
            compiled.close()

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(review, range(8)))
    assert results == [[PolicyResult([f"limit {i}"]), PolicyResult([])] for i in range(8)]
    assert opa_server.policies == {} and opa_server.data == {}


def test_close_removes_everything_it_uploaded(opa_server: LoopbackOpa) -> None:
    case = next(c for c in CASES if c.id == "data-and-a-library-listed-after-its-user")
    compiled = OpaServerEngine(opa_server.url).compile(_modules(case), case.data, 5.0)
    compiled.evaluate("data.main", case.inputs)
    assert len(opa_server.policies) == 3 and opa_server.data
    compiled.close()
    compiled.close()
    assert opa_server.policies == {}
    assert opa_server.data == {}


@pytest.mark.parametrize(
    ("source", "line", "column"),
    [
        ("package main\n\ndeny contains msg if {\n    msg := )\n}\n", 4, 12),
        ("package main\n\nx := data.config.x + )\n", 3, 22),  # after a namespaced `data`
        ("package main\n\ndeny contains msg if {\n    msg := y\n}\n", 4, 1),
    ],
)
def test_compile_errors_point_into_the_module(
    opa_server: LoopbackOpa, source: str, line: int, column: int
) -> None:
    engine = OpaServerEngine(opa_server.url)
    with pytest.raises(PolicyCompileError) as raised:
        engine.compile(
            [PolicyModule("ok.rego", "package ok\n"), PolicyModule("p/x.rego", source)], {}, 5.0
        )
    location = raised.value.location
    assert location is not None
    assert (location.path, location.line) == ("p/x.rego", line)
    if column > 1:  # the loopback knows columns from OPA's caret line only
        assert location.column == column
    assert "gitops_bot_" not in raised.value.message
    assert opa_server.policies == {}  # what did go up was removed


def test_a_rego_v0_module_needs_a_v0_compatible_server(opa_server: LoopbackOpa) -> None:
    module = PolicyModule(
        "legacy/main.rego", 'package main\n\ndeny[msg] {\n    msg := "x"\n}\n', True
    )
    with pytest.raises(PolicyCompileError) as raised:
        OpaServerEngine(opa_server.url).compile([module], {}, 5.0)
    assert "--v0-compatible" in raised.value.hint
    assert raised.value.location is not None and raised.value.location.line == 3


def test_forbidden_builtins_are_refused_before_anything_is_sent(opa_server: LoopbackOpa) -> None:
    source = 'package main\n\nallow if {\n    http.send({"method": "get", "url": input.u})\n}\n'
    with pytest.raises(PolicyCompileError) as raised:
        OpaServerEngine(opa_server.url).compile([PolicyModule("p/net.rego", source)], {}, 5.0)
    assert raised.value.location is not None
    assert (raised.value.location.line, raised.value.location.column) == (4, 5)
    assert opa_server.requests == []


def test_each_evaluation_gets_the_budget(opa_server: LoopbackOpa) -> None:
    source = "package main\n\nslept if loopback.sleep(input.sleep)\n"
    compiled = OpaServerEngine(opa_server.url).compile([PolicyModule("p.rego", source)], {}, 0.5)
    started = time.monotonic()
    results = compiled.evaluate("data.main", [{"sleep": 0}, {"sleep": 3}, {"sleep": 0}])
    assert time.monotonic() - started < 2.5
    assert results[0] == results[2] == PolicyResult({"slept": True})
    assert "0.5 s budget" in results[1].error


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_server_is_an_engine_error_without_credentials() -> None:
    engine = OpaServerEngine(f"http://bot:s3cret@127.0.0.1:{_closed_port()}/opa", token="")
    with pytest.raises(PolicyEngineError) as raised:
        engine.compile([PolicyModule("p.rego", "package main\n")], {"k": 1}, 1.0)
    assert "127.0.0.1" in raised.value.message
    assert "s3cret" not in str(raised.value.diagnostics())


def test_credentials_travel_in_a_header_never_in_the_url(opa_server: LoopbackOpa) -> None:
    engine = OpaServerEngine(opa_server.url.replace("http://", "http://bot:s3cret@"))
    compiled = engine.compile(_modules(CASES[0]), {"k": 1}, 5.0)
    compiled.evaluate("data.main", CASES[0].inputs)
    compiled.evaluate("data.main", CASES[0].inputs[:1])
    compiled.close()
    basic = "Basic " + base64.b64encode(b"bot:s3cret").decode()
    assert {r.method for r in opa_server.requests} == {"PUT", "POST", "DELETE"}
    for request in opa_server.requests:
        assert "s3cret" not in request.target and "bot:" not in request.target
        assert request.headers.get("Authorization") == basic


def test_a_token_is_sent_as_a_bearer_header() -> None:
    server = LoopbackOpa(token="t0ken").start()
    try:
        compiled = OpaServerEngine(server.url, token="t0ken").compile(_modules(CASES[0]), {}, 5.0)
        assert compiled.evaluate("data.main.violation", [{}]) == [PolicyResult(None)]
        with pytest.raises(PolicyEngineError) as raised:
            OpaServerEngine(server.url, token="wrong").compile(_modules(CASES[0]), {}, 5.0)
        assert "unauthorized" in raised.value.message and "wrong" not in raised.value.message
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("status", "body", "said"),
    [
        (503, b'{"code": "internal_error", "message": "storage unavailable"}', "storage unavail"),
        (502, b"<html>Bad Gateway</html>", "not OPA's JSON"),
    ],
)
def test_a_failing_server_is_an_engine_error(
    opa_server: LoopbackOpa, status: int, body: bytes, said: str
) -> None:
    engine = OpaServerEngine(opa_server.url)
    compiled = engine.compile(_modules(CASES[0]), {}, 5.0)
    compiled.evaluate("data.main", CASES[0].inputs)  # the batch rule is up: only POSTs follow
    opa_server.fail_with = (status, body, {})
    with pytest.raises(PolicyEngineError, match=said if status == 503 else f"HTTP {status}"):
        compiled.evaluate("data.main", CASES[0].inputs)
    with pytest.raises(PolicyEngineError, match=said):
        engine.compile(_modules(CASES[0]), {}, 5.0)


def test_a_redirect_is_not_followed_with_the_credentials(opa_server: LoopbackOpa) -> None:
    engine = OpaServerEngine(opa_server.url, token="t0ken")
    compiled = engine.compile(_modules(CASES[0]), {}, 5.0)
    compiled.evaluate("data.main", CASES[0].inputs)
    elsewhere = LoopbackOpa().start()
    try:
        opa_server.fail_with = (302, b"", {"Location": f"{elsewhere.url}/v1/data/x"})
        with pytest.raises(PolicyEngineError, match="HTTP 302"):
            compiled.evaluate("data.main", CASES[0].inputs)
        assert elsewhere.requests == []
    finally:
        elsewhere.stop()


def test_only_data_references_can_be_evaluated(opa_server: LoopbackOpa) -> None:
    compiled = OpaServerEngine(opa_server.url).compile(_modules(CASES[0]), {}, 5.0)
    with pytest.raises(PolicyEngineError, match="data references only"):
        compiled.evaluate("count(data.main)", [{}])


def test_large_input_sets_go_in_batches(opa_server: LoopbackOpa) -> None:
    engine = OpaServerEngine(opa_server.url, batch_size=2)
    compiled = engine.compile(_modules(CASES[0]), {}, 5.0)
    inputs = [_deployment(f"d{i}", 1, non_root=i % 2 == 0) for i in range(5)]
    results = compiled.evaluate("data.main.deny", inputs)
    assert [len(r.value) for r in results] == [0, 1, 0, 1, 0]
    targets = [r.target for r in opa_server.requests_to("POST", "/v1/data/")]
    assert ["_batch/" in t for t in targets] == [True, True, False]  # 2 + 2, then 1 alone


def test_a_real_error_is_reported_not_a_module_waiting_for_it(opa_server: LoopbackOpa) -> None:
    user = PolicyModule("p/a.rego", 'package main\n\ndeny contains "big" if too_big(input)\n')
    broken = PolicyModule("p/b.rego", "package main\n\ntoo_big(x) if x.size > limit\n")
    with pytest.raises(PolicyCompileError, match="var limit is unsafe") as raised:
        OpaServerEngine(opa_server.url).compile([user, broken], {}, 5.0)
    assert raised.value.location is not None and raised.value.location.path == "p/b.rego"


FORBIDDEN = [
    ('allow if http.send({"method": "get", "url": "https://x"}).status_code == 200', 1, 10),
    ('ips := net.lookup_ip_addr("example.com")', 1, 8),
    ("home := opa.runtime().env.HOME", 1, 9),
    ('deny contains msg if {\n    input.kind == "Pod"\n    r := http.send(input.req)\n}', 3, 10),
    ('msg := $"home is {opa.runtime().env.HOME}"', 1, 19),
    ("x := [http.send(r) | some r in input.requests]", 1, 7),
    ("mocked if data.lib.f with data.lib.g as http.send", 1, 41),
]
ALLOWED = [
    "# never call http.send or net.lookup_ip_addr here",
    'msg := "http.send is not allowed"',
    'doc := `opa.runtime() and\nnet.lookup_ip_addr("x")`',
    'msg := $"http.send {input.x} opa.runtime()"',
    "x := input.http.send",
    "y := input.opa.runtime",
    "test_mocked if { allow with http.send as mock_send }",
    "z := http.sender(1)",
    'q := "escaped \\" http.send(1)"',
]


@pytest.mark.parametrize(("body", "line", "column"), FORBIDDEN)
def test_forbidden_builtins_in_code(body: str, line: int, column: int) -> None:
    refused = forbidden_builtins(PolicyModule("p/x.rego", f"package main\n\n{body}\n"))
    assert refused is not None
    assert refused.location is not None
    assert (refused.location.line, refused.location.column) == (line + 2, column)
    assert "not allowed" in refused.message


@pytest.mark.parametrize("body", ALLOWED)
def test_builtin_names_outside_code_are_allowed(body: str) -> None:
    assert forbidden_builtins(PolicyModule("p/x.rego", f"package main\n\n{body}\n")) is None


# --- The built-in library (policies/) on both engines ------------------------------------------

POLICIES = Path(__file__).resolve().parents[2] / "policies"
LIBRARY = sorted(p for p in POLICIES.rglob("*.rego") if not p.name.endswith("_test.rego"))
LIBRARY_DATA = {
    "gitops_bot": {
        "parameters": {
            "allowed_registries": ["registry.example.com", "ghcr.io/acme"],
            "allowed_capabilities": ["NET_BIND_SERVICE"],
            "required_labels": ["app", "team"],
        }
    }
}


def _workload(kind: str, spec: Any, **metadata: Any) -> dict[str, Any]:
    meta = {"name": "web", "namespace": "shop", "labels": {"app": "web", "team": "pay"}}
    group = "v1" if kind == "Pod" else "batch/v1" if kind == "CronJob" else "apps/v1"
    template = {"metadata": {"labels": {"app": "web"}}, "spec": spec}
    body: Any = spec if kind == "Pod" else {"replicas": 3, "template": template}
    if kind == "CronJob":
        body = {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}}
    return {"apiVersion": group, "kind": kind, "metadata": meta | metadata, "spec": body}


GOOD_CONTAINER = {
    "name": "app",
    "image": "registry.example.com/shop/web:1.4.2",
    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
    "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    },
}
BAD_CONTAINER = {
    "name": "sidecar",
    "image": "nginx:latest",
    "ports": [{"containerPort": 80, "hostPort": 80}],
    "env": [{"name": "DB_PASSWORD", "value": "hunter2"}],
    "securityContext": {"privileged": True, "capabilities": {"add": ["NET_ADMIN", "SYS_TIME"]}},
}
MANIFESTS: list[Any] = [
    _workload(
        "Deployment", {"automountServiceAccountToken": False, "containers": [GOOD_CONTAINER]}
    ),
    _workload(
        "Deployment",
        {
            "hostNetwork": True,
            "hostPID": True,
            "containers": [GOOD_CONTAINER, BAD_CONTAINER],
            "volumes": [
                {"name": "h", "hostPath": {"path": "/var/run"}},
                {"name": "t", "emptyDir": {}},
            ],
        },
        name="api",
    ),
    _workload("Pod", {"containers": [BAD_CONTAINER]}, namespace="default", labels={}),
    _workload("StatefulSet", {"containers": [GOOD_CONTAINER]}, name="db", namespace="billing"),
    _workload("CronJob", {"initContainers": [BAD_CONTAINER], "containers": [GOOD_CONTAINER]}),
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "lb"},
        "spec": {"type": "LoadBalancer"},
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "np", "namespace": "shop"},
        "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]},
    },
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "i"},
        "spec": {"rules": [{"host": "*.example.com"}]},
    },
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "admins"},
        "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "Group", "name": "devs"}],
    },
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "all"},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
    },
    {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}},
    },
    _workload("Deployment", "not a spec", name="broken"),
    _workload("Deployment", {"containers": {"app": {"image": 3}}}, name="odd"),
    {"kind": "ConfigMap"},
    {},
]
COMBINED = [{"path": f"m{i}.yaml", "contents": m} for i, m in enumerate(MANIFESTS)]


PACKAGES = sorted({re.findall(r"(?m)^package ([\w.]+)", p.read_text())[0] for p in LIBRARY})


@cache
def _library_results(engine_name: str) -> dict[str, list[PolicyResult]]:
    modules = [PolicyModule(f"builtin/{p.relative_to(POLICIES)}", p.read_text()) for p in LIBRARY]
    inputs = [*MANIFESTS, COMBINED]
    server = LoopbackOpa().start() if engine_name == "opa" else None
    try:
        engine = OpaServerEngine(server.url) if server else InProcessRegorusEngine()
        compiled = engine.compile(modules, LIBRARY_DATA, 10.0)
        results = {p: compiled.evaluate(f"data.{p}", inputs) for p in PACKAGES}
        compiled.close()
        return results
    finally:
        if server:
            server.stop()


@pytest.mark.parametrize("package", PACKAGES)
def test_builtin_library_gives_the_same_results_on_opa(package: str) -> None:
    _same(_library_results("opa")[package], _library_results("regorus")[package])
