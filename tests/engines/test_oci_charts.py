"""HttpChartRepository on oci:// URLs against a loopback OCI registry (tests/oci_registry.py):
tag resolution, the anonymous Bearer token dance, digest verification and the shared cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engines.chart_repository import HttpChartRepository
from bot.ports import ChartFetchStatus
from tests.oci_registry import TOKEN, FakeRegistry, package_podinfo, serve, sha256


@pytest.fixture(scope="module")
def chart(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return package_podinfo(tmp_path_factory.mktemp("oci-chart"))


@pytest.fixture
def registry(chart: bytes) -> Iterator[FakeRegistry]:
    with serve(FakeRegistry(chart)) as running:
        yield running


def charts(registry: FakeRegistry, cache: Path | None = None) -> HttpChartRepository:
    return HttpChartRepository((registry.url,), str(cache) if cache else None, timeout=10)


@pytest.mark.parametrize(
    ("version", "tag", "chart_version"),
    [
        ("6.14.1", "6.14.1", "6.14.1"),  # exact: no tag listing
        ("6.x", "6.14.1", "6.14.1"),
        ("", "6.14.1", "6.14.1"),  # newest stable: the rc is left out
        ("*", "6.14.1", "6.14.1"),
        ("<6.14", "6.13.0_b1", "6.13.0+b1"),  # Helm's `_` in tags is semver's `+`
        (">=7.0.0-rc.0", "7.0.0-rc.1", "7.0.0-rc.1"),
    ],
)
def test_resolves_the_version_and_verifies_the_chart(
    registry: FakeRegistry, chart: bytes, version: str, tag: str, chart_version: str
) -> None:
    result = charts(registry).fetch(registry.url, "", version)

    assert result.status is ChartFetchStatus.FETCHED, result.message
    assert result.archive is not None
    assert result.archive.data == chart
    assert result.archive.digest == sha256(chart)
    assert result.archive.version == chart_version
    assert result.archive.filename == f"podinfo-{chart_version}.tgz"
    listed = [r for r in registry.requests if "/tags/list" in r]
    assert bool(listed) == (version != "6.14.1")
    if listed:
        assert len(set(listed)) == 2  # the Link to the second page was followed
    assert f"/v2/charts/podinfo/manifests/{tag}" in registry.requests
    assert (
        registry.requests.count(
            "/token?service=fake-registry&scope=repository%3Acharts%2Fpodinfo%3Apull"
        )
        == 1
    )
    assert f"Bearer {TOKEN}" in registry.authorizations


def test_a_helm_repository_of_type_oci_names_the_chart_separately(registry: FakeRegistry) -> None:
    parent = registry.url.removesuffix("/podinfo")
    repository = HttpChartRepository((parent,), None, timeout=10)

    result = repository.fetch(parent, "podinfo", "6.14.1")

    assert result.status is ChartFetchStatus.FETCHED, result.message


def test_not_allow_listed_makes_no_request(registry: FakeRegistry) -> None:
    other = registry.url.replace("/charts/podinfo", "/charts/other")
    result = HttpChartRepository((other,), None).fetch(registry.url, "", "6.14.1")

    assert result.status is ChartFetchStatus.NOT_ALLOWED
    assert registry.requests == []


def test_a_digest_mismatch_fails(registry: FakeRegistry, tmp_path: Path) -> None:
    registry.corrupt.add("6.14.1")
    result = charts(registry, tmp_path).fetch(registry.url, "", "6.14.1")

    assert result.status is ChartFetchStatus.FAILED
    assert "/blobs/sha256:" in result.message and "the manifest of" in result.message
    assert f"{registry.url}:6.14.1" in result.message
    assert not list(tmp_path.rglob("*.tgz"))  # nothing unverified is cached


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("9.9.9", "manifests/9.9.9 answered 404"),
        ("~9.0", "no tag of oci://127.0.0.1:"),
        ("not a tag!", "is neither a version constraint nor a tag"),
    ],
)
def test_a_missing_version_fails(registry: FakeRegistry, version: str, expected: str) -> None:
    result = charts(registry).fetch(registry.url, "", version)

    assert result.status is ChartFetchStatus.FAILED
    assert expected in result.message


def test_a_registry_that_refuses_anonymous_pulls_fails_without_leaking(
    registry: FakeRegistry,
) -> None:
    registry.refuse_tokens = True
    result = charts(registry).fetch(registry.url, "", "6.14.1")

    assert result.status is ChartFetchStatus.FAILED
    assert "/token answered 401" in result.message
    assert "credentials are not supported" in result.message
    assert TOKEN not in result.message


def test_an_unreachable_registry_fails(registry: FakeRegistry) -> None:
    url = "oci://127.0.0.1:9/charts/podinfo"  # discard port: nothing listens
    result = HttpChartRepository((url,), None, timeout=5).fetch(url, "", "6.14.1")

    assert result.status is ChartFetchStatus.FAILED
    assert result.message.startswith(url)


def test_the_blob_is_cached_by_digest(registry: FakeRegistry, chart: bytes, tmp_path: Path) -> None:
    first = charts(registry, tmp_path)
    assert first.fetch(registry.url, "", "6.14.1").status is ChartFetchStatus.FETCHED
    assert len(registry.blob_requests()) == 1
    digest = sha256(chart)
    assert (tmp_path / "sha256" / digest[:2] / f"{digest}.tgz").read_bytes() == chart

    # Same process (memory), then a new process sharing the cache directory: the manifest is
    # read again (a tag may move), the blob never.
    again = first.fetch(registry.url, "", "6.x")
    fresh = charts(registry, tmp_path).fetch(registry.url, "", "6.14.1")

    for result in (again, fresh):
        assert result.status is ChartFetchStatus.FETCHED
        assert result.archive is not None and result.archive.data == chart
    assert len(registry.blob_requests()) == 1
