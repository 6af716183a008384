"""HttpChartRepository with an in-memory "network": allow-list, index resolution, digest
verification and the content-addressed cache. (The real HTTP path is exercised end to end in
tests/integration/test_flux_example_charts.py.)"""

import hashlib
from pathlib import Path

import pytest
import yaml

from bot.engines.chart_repository import HttpChartRepository
from bot.ports import ChartFetchStatus

REPO = "https://charts.example.com/stable"
ARCHIVES = {
    "podinfo-6.1.0.tgz": b"chart 6.1.0",
    "podinfo-6.2.0-rc.1.tgz": b"rc",
    "podinfo-5.0.0.tgz": b"old",
}


def index(digests: dict[str, str] | None = None) -> bytes:
    entries = []
    for name, data in ARCHIVES.items():
        version = name.removeprefix("podinfo-").removesuffix(".tgz")
        digest = (digests or {}).get(name, hashlib.sha256(data).hexdigest())
        entries.append({"name": "podinfo", "version": version, "urls": [name], "digest": digest})
    return yaml.safe_dump({"apiVersion": "v1", "entries": {"podinfo": entries}}).encode()


class Network:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.requests: list[str] = []

    def __call__(self, url: str, timeout: float, limit: int) -> bytes:
        self.requests.append(url)
        if url not in self.files:
            raise OSError(f"404 {url}")
        return self.files[url]


def network(index_bytes: bytes | None = None) -> Network:
    files = {f"{REPO}/{name}": data for name, data in ARCHIVES.items()}
    files[f"{REPO}/index.yaml"] = index_bytes if index_bytes is not None else index()
    return Network(files)


@pytest.mark.parametrize(
    ("allowed", "url", "status"),
    [
        ((), REPO, ChartFetchStatus.NOT_ALLOWED),
        (
            ("https://charts.example.com/stab",),
            REPO,
            ChartFetchStatus.NOT_ALLOWED,
        ),  # not a prefix path
        (("https://charts.example.com",), REPO, ChartFetchStatus.FETCHED),
        ((REPO + "/",), REPO, ChartFetchStatus.FETCHED),
        (("s3://bucket",), "s3://bucket/charts", ChartFetchStatus.UNSUPPORTED),
        (("oci://ghcr.io/org",), "oci://ghcr.io/other", ChartFetchStatus.NOT_ALLOWED),
    ],
)
def test_allow_list(allowed: tuple[str, ...], url: str, status: ChartFetchStatus) -> None:
    net = network()
    result = HttpChartRepository(allowed, None, opener=net).fetch(url, "podinfo", "")
    assert result.status is status
    if status is not ChartFetchStatus.FETCHED:
        assert net.requests == []  # nothing is contacted unless allowed and supported


def test_resolves_the_constraint_and_caches_by_digest(tmp_path: Path) -> None:
    net = network()
    charts = HttpChartRepository((REPO,), str(tmp_path), opener=net)

    result = charts.fetch(REPO, "podinfo", "6.x")
    assert result.status is ChartFetchStatus.FETCHED
    assert result.archive is not None
    digest = hashlib.sha256(b"chart 6.1.0").hexdigest()
    assert (result.archive.version, result.archive.filename, result.archive.digest) == (
        "6.1.0",
        "podinfo-6.1.0.tgz",
        digest,
    )
    assert (tmp_path / "sha256" / digest[:2] / f"{digest}.tgz").read_bytes() == b"chart 6.1.0"

    # A second process reads the archive from the cache; the index is fetched again.
    again = HttpChartRepository((REPO,), str(tmp_path), opener=network())
    assert again.fetch(REPO, "podinfo", "~6.1").archive == result.archive
    assert net.requests == [f"{REPO}/index.yaml", f"{REPO}/podinfo-6.1.0.tgz"]

    assert charts.fetch(REPO, "podinfo", ">=6.2.0-0").archive.version == "6.2.0-rc.1"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("index_bytes", "chart", "version", "message"),
    [
        (index({"podinfo-6.1.0.tgz": "0" * 64}), "podinfo", "6.1.0", "has sha256"),
        (None, "podinfo", "9.x", "no version of podinfo"),
        (None, "other", "", "chart other is not in"),
        (b"not: [an index", "podinfo", "", REPO),
        (b"apiVersion: v1\n", "podinfo", "", "index.yaml has no entries"),
    ],
)
def test_failures_say_why(
    index_bytes: bytes | None, chart: str, version: str, message: str
) -> None:
    result = HttpChartRepository((REPO,), None, opener=network(index_bytes)).fetch(
        REPO, chart, version
    )
    assert result.status is ChartFetchStatus.FAILED
    assert result.archive is None
    assert message in result.message


def test_unreachable_repository() -> None:
    result = HttpChartRepository((REPO,), None, opener=Network({})).fetch(REPO, "podinfo", "")
    assert result.status is ChartFetchStatus.FAILED
    assert "404" in result.message
