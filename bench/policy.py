"""Benchmark: the built-in policy library over 10,000 rendered resources.

Run: .venv/bin/python bench/policy.py   (last line ends in PASS or MISS; exit 1 only on errors)
Targets (issue "Policy as code"): >= 20,000 resource evaluations/s on one core; >= 3x faster
than the same policies through a real OPA engine (opa-golib, in process) in the same run;
engine setup <= 50 ms.
"""

from __future__ import annotations

import os
import time

from opa_bindings import OpaEngine

from bot.core.policy.conftest import PolicyDocument, evaluate_packages
from bot.core.policy.sets import builtin_set
from bot.engines.builtin_policies import load_builtin_policies
from bot.engines.regorus_worker import RegorusEngine
from bot.model.repo_config import PolicyConfig
from bot.model.resource import Location, ResourceKey

RESOURCES = 10_000
TARGET_RATE, TARGET_X, TARGET_SETUP = 20_000.0, 3.0, 0.050
OPA_SAMPLE = 1_000


def deployment(i: int) -> dict[str, object]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"app-{i}", "namespace": f"team-{i % 20}", "labels": {"app": f"a{i}"}},
        "spec": {
            "replicas": 1 + i % 3,
            "selector": {"matchLabels": {"app": f"a{i}"}},
            "template": {
                "metadata": {"labels": {"app": f"a{i}"}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": f"ghcr.io/example/app:{1 + i % 9}.0.{i % 7}",
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                            "securityContext": {"runAsNonRoot": True},
                        }
                    ]
                },
            },
        },
    }


def resources() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for i in range(RESOURCES):
        if i % 4 == 0:
            out.append(deployment(i))
        elif i % 4 == 1:
            out.append(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": f"s{i}", "namespace": "web"},
                    "spec": {"type": "ClusterIP", "ports": [{"port": 80}]},
                }
            )
        elif i % 4 == 2:
            out.append(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": f"c{i}", "namespace": "web"},
                    "data": {"k": "v"},
                }
            )
        else:
            out.append(
                {
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "Ingress",
                    "metadata": {"name": f"i{i}", "namespace": "web"},
                    "spec": {
                        "rules": [{"host": f"h{i}.example.com"}],
                        "tls": [{"hosts": [f"h{i}.example.com"]}],
                    },
                }
            )
    return out


def main() -> int:
    os.sched_setaffinity(0, {0})  # one core, as the target says
    policy_set = builtin_set(load_builtin_policies(), PolicyConfig())
    if policy_set is None or not policy_set.per_document:
        print("ERROR: the built-in library is empty")
        return 1
    bodies = resources()
    documents = [PolicyDocument(b, Location("bench.yaml", 1), ResourceKey.of(b)) for b in bodies]
    print(
        f"{len(bodies):,} resources, {len(policy_set.per_document)} built-in rules "
        f"({len(policy_set.modules)} modules)"
    )

    start = time.perf_counter()
    compiled = RegorusEngine().compile(policy_set.modules, policy_set.data, 10.0)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    outcome = evaluate_packages(compiled, policy_set.per_document, documents, policy_set.naming)
    ours = time.perf_counter() - start
    compiled.close()
    rate = len(bodies) / ours
    print(
        f"regorus (worker): setup {setup * 1000:.1f} ms; {len(bodies):,} resources in {ours:.2f} s "
        f"= {rate:,.0f}/s; {len(outcome.findings):,} findings"
    )

    with OpaEngine() as opa:
        for module in policy_set.modules:
            opa.add_policy(module.path, module.source)
        opa.add_data(dict(policy_set.data))
        start = time.perf_counter()
        for body in bodies[:OPA_SAMPLE]:
            opa.eval_document("gitops_bot", body)
        opa_rate = OPA_SAMPLE / (time.perf_counter() - start)
    speedup = rate / opa_rate
    print(f"OPA (opa-golib, in process): {opa_rate:,.0f} resources/s on {OPA_SAMPLE:,} resources")
    ok = rate >= TARGET_RATE and speedup >= TARGET_X and setup <= TARGET_SETUP
    print(
        f"policy: {rate:,.0f} resources/s (target >= {TARGET_RATE:,.0f}); OPA {opa_rate:,.0f}/s = "
        f"{speedup:.1f}x (target >= {TARGET_X:g}x); setup {setup * 1000:.0f} ms "
        f"(target <= {TARGET_SETUP * 1000:.0f} ms) {'PASS' if ok else 'MISS'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
