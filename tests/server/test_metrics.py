"""The hand-written Prometheus exposition, and the worker's metrics endpoint."""

from __future__ import annotations

import urllib.request

import pytest

from bot.server.metrics import Registry, serve_metrics
from bot.server.worker_metrics import MeteredForge, WorkerMetrics
from tests.server.fakes import FakeForge


def test_exposition_format():
    registry = Registry()
    deliveries = registry.counter("d_total", "Deliveries.", ("event",))
    deliveries.inc(event="ping")
    deliveries.inc(2, event='we"ird\\\n')
    registry.gauge("g", "A gauge.").set(1.5)
    histogram = registry.histogram("h_seconds", "Durations.")
    histogram.observe(0.5)
    histogram.observe(700)
    assert registry.render() == (
        "# HELP d_total Deliveries.\n"
        "# TYPE d_total counter\n"
        'd_total{event="ping"} 1\n'
        'd_total{event="we\\"ird\\\\\\n"} 2\n'
        "# HELP g A gauge.\n"
        "# TYPE g gauge\n"
        "g 1.5\n"
        "# HELP h_seconds Durations.\n"
        "# TYPE h_seconds histogram\n"
        'h_seconds_bucket{le="1"} 1\n'
        'h_seconds_bucket{le="2.5"} 1\n'
        'h_seconds_bucket{le="5"} 1\n'
        'h_seconds_bucket{le="10"} 1\n'
        'h_seconds_bucket{le="30"} 1\n'
        'h_seconds_bucket{le="60"} 1\n'
        'h_seconds_bucket{le="120"} 1\n'
        'h_seconds_bucket{le="300"} 1\n'
        'h_seconds_bucket{le="600"} 1\n'
        'h_seconds_bucket{le="+Inf"} 2\n'
        "h_seconds_sum 700.5\n"
        "h_seconds_count 2\n"
    )


def test_the_worker_exports_forge_calls_and_the_rate_limit_on_its_own_port():
    metrics = WorkerMetrics()
    forge = FakeForge(fail_on={"permission"})
    metered = MeteredForge(forge, metrics, "github")
    metered.open_pull_requests("a/b", "1")
    with pytest.raises(RuntimeError):
        metered.permission(None, "x")
    metrics.watch_forge("github", lambda: {"api_calls": 7, "rate_limit_remaining": 4990})
    server = serve_metrics(metrics.registry, "127.0.0.1", 0)
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    lines = text.splitlines()
    assert (
        'gitops_bot_forge_operations_total{forge="github",method="open_pull_requests",outcome="ok"} 1'
        in lines
    )
    assert (
        'gitops_bot_forge_operations_total{forge="github",method="permission",outcome="error"} 1'
        in lines
    )
    assert 'gitops_bot_forge_api_requests_total{forge="github"} 7' in lines
    assert 'gitops_bot_forge_rate_limit_remaining{forge="github"} 4990' in lines
    assert "# TYPE gitops_bot_review_duration_seconds histogram" in lines
