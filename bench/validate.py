"""Benchmark: schema validation of 10,000 realistic resources on one core, against calling
`kubernetes_validate.validate()` per resource, and the compiled-validator warm-up.

Run: .venv/bin/python bench/validate.py   (prints one summary line last; exit 1 only on errors)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

import kubernetes_validate

from bot.core.memory_tree import InMemoryTree
from bot.core.tree_view import TreeView
from bot.core.validate.crd_schema import crd_kinds
from bot.core.validate.stage import validate_head
from bot.engines.schema_catalog import JsonSchemaCatalog
from bot.model.finding import Finding
from bot.model.repo_config import ClusterConfig, RepoConfig
from bot.model.resource import Location, Resource, ResourceKey
from bot.ports import CompiledSchema

APPS = 2_500  # x (Deployment, Service, ConfigMap, Backup) = 10,000 resources, plus the CRD
VERSION = "1.37"
TARGET_RATE, TARGET_X, TARGET_WARMUP_S = 50_000, 100, 1.0
RUNS, KV_SAMPLE, LIMIT = 5, 200, 20
GROUP = "backup.example.com"
WARM_KINDS = (("apps", "v1", "Deployment"), ("", "v1", "Service"), ("", "v1", "ConfigMap"))

CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"backups.{GROUP}"},
    "spec": {
        "group": GROUP,
        "names": {"kind": "Backup", "plural": "backups", "singular": "backup"},
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
                            "spec": {
                                "type": "object",
                                "required": ["schedule", "target", "storage"],
                                "properties": {
                                    "schedule": {"type": "string", "pattern": r"^[0-9*/, -]+$"},
                                    "suspend": {"type": "boolean", "default": False},
                                    "retention": {
                                        "type": "object",
                                        "properties": {
                                            "daily": {"type": "integer", "minimum": 0},
                                            "weekly": {"type": "integer", "minimum": 0},
                                        },
                                    },
                                    "target": {
                                        "type": "object",
                                        "required": ["kind", "name"],
                                        "properties": {
                                            "kind": {
                                                "type": "string",
                                                "enum": ["Deployment", "StatefulSet"],
                                            },
                                            "name": {"type": "string", "maxLength": 253},
                                        },
                                    },
                                    "storage": {
                                        "type": "object",
                                        "properties": {
                                            "bucket": {"type": "string"},
                                            "size": {"x-kubernetes-int-or-string": True},
                                        },
                                    },
                                    "labels": {
                                        "type": "object",
                                        "additionalProperties": {"type": "string"},
                                    },
                                },
                            },
                            "status": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            },
                        },
                    }
                },
            }
        ],
    },
}


def _labels(app: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": app,
        "app.kubernetes.io/part-of": "shop",
        "app.kubernetes.io/managed-by": "flux",
    }


def deployment(n: int) -> dict[str, Any]:
    app = f"app{n:04d}"
    probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": app,
            "namespace": f"team{n % 20}",
            "labels": _labels(app),
            "annotations": {"reloader.stakater.com/auto": "true"},
        },
        "spec": {
            "replicas": 1 + n % 3,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": {"app.kubernetes.io/name": app}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0},
            },
            "template": {
                "metadata": {"labels": _labels(app)},
                "spec": {
                    "serviceAccountName": app,
                    "securityContext": {"runAsNonRoot": True, "fsGroup": 2000},
                    "containers": [
                        {
                            "name": "app",
                            "image": f"registry.example.com/{app}:1.{n % 50}.0",
                            "imagePullPolicy": "IfNotPresent",
                            "args": ["--port=8080", f"--name={app}"],
                            "ports": [
                                {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                                {"name": "metrics", "containerPort": 9090},
                            ],
                            "env": [
                                {"name": "LOG_LEVEL", "value": "info"},
                                {"name": "APP_ID", "value": str(n)},
                                {
                                    "name": "POD_NAME",
                                    "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                                },
                                {
                                    "name": "DB_PASSWORD",
                                    "valueFrom": {
                                        "secretKeyRef": {"name": f"{app}-db", "key": "password"}
                                    },
                                },
                            ],
                            "envFrom": [{"configMapRef": {"name": f"{app}-config"}}],
                            "resources": {
                                "requests": {"cpu": "50m", "memory": "64Mi"},
                                "limits": {"memory": "256Mi"},
                            },
                            "livenessProbe": probe,
                            "readinessProbe": {**probe, "initialDelaySeconds": 5},
                            "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}],
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                        },
                        {
                            "name": "proxy",
                            "image": "envoyproxy/envoy:v1.30.1",
                            "ports": [{"name": "proxy", "containerPort": 10000}],
                            "resources": {"requests": {"cpu": "10m", "memory": 32 * 1024 * 1024}},
                        },
                    ],
                    "volumes": [{"name": "config", "configMap": {"name": f"{app}-config"}}],
                    "tolerations": [{"key": "spot", "operator": "Exists", "effect": "NoSchedule"}],
                },
            },
        },
    }


def service(n: int) -> dict[str, Any]:
    app = f"app{n:04d}"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": app, "namespace": f"team{n % 20}", "labels": _labels(app)},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": app},
            "ports": [
                {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
                {"name": "metrics", "port": 9090, "targetPort": 9090},
            ],
        },
    }


def configmap(n: int) -> dict[str, Any]:
    app = f"app{n:04d}"
    data = {f"FEATURE_{i}": "on" if (n + i) % 2 else "off" for i in range(6)}
    data["config.yaml"] = f"server:\n  port: 8080\n  name: {app}\nlimits:\n  rps: {n % 500}\n"
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{app}-config", "namespace": f"team{n % 20}", "labels": _labels(app)},
        "data": data,
    }


def backup(n: int) -> dict[str, Any]:
    app = f"app{n:04d}"
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Backup",
        "metadata": {"name": f"{app}-nightly", "namespace": f"team{n % 20}"},
        "spec": {
            "schedule": f"{n % 60} 2 * * *",
            "retention": {"daily": 7, "weekly": 4},
            "target": {"kind": "Deployment", "name": app},
            "storage": {"bucket": f"s3://backups/{app}", "size": "10Gi" if n % 2 else 10},
            "labels": {"tier": "gold"},
        },
    }


def bodies() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [CRD]
    for n in range(APPS):
        found += [deployment(n), service(n), configmap(n), backup(n)]
    return found


def as_resources(items: Sequence[dict[str, Any]]) -> list[Resource]:
    return [
        Resource(ResourceKey.of(body), body, Location(f"apps/r{i}.yaml", 1), "bench")
        for i, body in enumerate(items)
    ]


def run_stage(resources: Sequence[Resource]) -> tuple[float, list[Finding]]:
    """The validation stage as a review runs it: verdicts, CRD conversion, merging."""
    empty = TreeView(InMemoryTree({}), 1)
    config = RepoConfig(clusters=(ClusterConfig("bench", VERSION),))
    start = time.perf_counter()
    findings, summary = validate_head(resources, JsonSchemaCatalog(), config, empty, empty)
    elapsed = time.perf_counter() - start
    assert summary is not None and summary.resources == len(resources)
    return elapsed, findings


def raw_run(items: Sequence[dict[str, Any]]) -> tuple[float, int]:
    """catalog.kubernetes_schema(...).violations(body, 20) per resource, as the Validator calls
    it; the custom kind's schema comes from crd_kinds() + catalog.compile(), done beforehand.
    Returns (seconds, violations found)."""
    catalog = JsonSchemaCatalog()
    (kind,) = crd_kinds(CRD, strict=True)
    assert kind.schema is not None and not kind.problem
    custom: CompiledSchema = catalog.compile(kind.schema)
    errors = 0
    start = time.perf_counter()
    for body in items:
        group, _, version = body["apiVersion"].rpartition("/")
        schema = (
            custom
            if group == GROUP
            else catalog.kubernetes_schema(VERSION, group, version, body["kind"], True)
        )
        assert schema is not None
        errors += len(schema.violations(body, LIMIT).items)
    return time.perf_counter() - start, errors


def child_warmup() -> None:
    """In a fresh interpreter: JsonSchemaCatalog() to compiled Deployment/Service/ConfigMap
    schemas (1.37, strict) that have each validated one resource (so nothing is left lazy);
    then to the first validate_head() of one resource of each kind."""
    builtins = [deployment(0), service(0), configmap(0)]
    sample = as_resources([*builtins, CRD, backup(0)])
    start = time.perf_counter()
    catalog = JsonSchemaCatalog()
    for (group, version, kind), body in zip(WARM_KINDS, builtins, strict=True):
        schema = catalog.kubernetes_schema(VERSION, group, version, kind, True)
        assert schema is not None and not schema.violations(body, LIMIT).items
    compiled = time.perf_counter() - start
    _elapsed, findings = run_stage(sample)
    first_stage = time.perf_counter() - start
    assert findings == [], findings
    print(json.dumps([compiled, first_stage]))


def pin_to_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def main() -> int:
    if sys.argv[1:] == ["--child-warmup"]:
        child_warmup()
        return 0
    pinned = pin_to_one_core()
    items = bodies()
    resources = as_resources(items)
    kinds: dict[str, int] = {}
    for body in items:
        kinds[body["kind"]] = kinds.get(body["kind"], 0) + 1
    print(
        f"{len(items):,} resources ("
        + ", ".join(f"{count:,} {kind}" for kind, count in kinds.items())
        + f"), Kubernetes {VERSION} strict, one process {pinned}"
    )

    out = subprocess.run(
        [sys.executable, __file__, "--child-warmup"], check=True, capture_output=True
    ).stdout
    warm_compiled, warm_first = json.loads(out)
    print(
        f"warm-up (fresh process): {warm_compiled:.3f} s from JsonSchemaCatalog() to compiled "
        f"Deployment/Service/ConfigMap; {warm_first:.3f} s to the first validate_head()"
    )

    first_s, findings = run_stage(resources)  # includes compiling the CRD's schema
    problems = [f"[{f.rule_id}] {f.message}" for f in findings]
    times = [first_s] + [run_stage(resources)[0] for _ in range(RUNS)]
    stage_s = statistics.median(times[1:])
    rate = len(resources) / stage_s
    print(
        "validate_head() runs: "
        + ", ".join(f"{t * 1000:.0f} ms" for t in times)
        + f" (first in this process includes the CRD's conversion and compile); median "
        f"{stage_s * 1000:.0f} ms = {rate:,.0f} resources/s"
    )

    raw_times = []
    for _ in range(RUNS):
        raw_s, errors = raw_run(items)
        raw_times.append(raw_s)
        if errors:
            problems.append(f"{errors} violations from the raw schema calls")
    raw_rate = len(items) / statistics.median(raw_times)
    print(f"raw kubernetes_schema(...).violations(body, {LIMIT}): {raw_rate:,.0f} resources/s")

    sample = [b for b in items if b["kind"] in ("Deployment", "Service", "ConfigMap")][:KV_SAMPLE]
    start = time.perf_counter()
    for body in sample:
        try:
            kubernetes_validate.validate(body, VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"kubernetes_validate: {body['kind']}: {exc.message}")
    kv_s = time.perf_counter() - start
    kv_rate = len(sample) / kv_s
    print(
        f"kubernetes_validate.validate(body, {VERSION!r}, strict=True): {len(sample)} resources "
        f"in {kv_s:.1f} s = {kv_rate:,.1f} resources/s"
    )

    for problem in problems[:20]:
        print(f"ERROR: {problem}")
    if problems:
        print(f"validate: ERROR ({len(problems)} problems: the generated resources must be valid)")
        return 1
    speedup = rate / kv_rate
    ok = rate >= TARGET_RATE and speedup >= TARGET_X and warm_compiled <= TARGET_WARMUP_S
    print(
        f"validate: {rate:,.0f} resources/s (target >= {TARGET_RATE:,}); kubernetes_validate "
        f"{kv_rate:,.0f}/s = {speedup:,.0f}x (target >= {TARGET_X}x); warm-up "
        f"{warm_compiled:.2f} s (target <= {TARGET_WARMUP_S} s) {'PASS' if ok else 'MISS'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
