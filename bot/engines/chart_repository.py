"""ChartSource over Helm HTTP(S) repositories: index.yaml, semver resolution, a verified .tgz,
kept in a content-addressed cache (sha256). Only allow-listed repositories are contacted; oci://
charts are fetched by bot.engines.oci_charts into the same cache."""

from __future__ import annotations

import hashlib
import posixpath
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.core.render.flux.semver import newest
from bot.engines.oci_charts import OciCharts
from bot.ports import ChartArchive, ChartFetch, ChartFetchStatus

MAX_INDEX_BYTES = 64 * 1024 * 1024
MAX_CHART_BYTES = 32 * 1024 * 1024
INDEX_TTL_SECONDS = 300.0
ALLOW_LIST_ENV = "GITOPS_BOT_ALLOWED_CHART_REPOS"


class _TooLargeError(Exception):
    pass


def _download(url: str, timeout: float, limit: int) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "gitops-bot"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only
        data: bytes = response.read(limit + 1)
    if len(data) > limit:
        raise _TooLargeError(f"{url} is larger than {limit} bytes")
    return data


def _normalise(url: str) -> str:
    return url.strip().rstrip("/")


class HttpChartRepository:
    """`allowed`: repository URL prefixes (GITOPS_BOT_ALLOWED_CHART_REPOS); `cache_dir`: where
    archives are kept by digest (None: memory for this process only)."""

    def __init__(
        self,
        allowed: tuple[str, ...],
        cache_dir: str | None = None,
        timeout: float = 30.0,
        opener: Callable[[str, float, int], bytes] = _download,
    ) -> None:
        self._allowed = tuple(_normalise(a) for a in allowed if a.strip())
        self._cache = Path(cache_dir) if cache_dir else None
        self._timeout = timeout
        self._open = opener
        self._lock = threading.Lock()
        self._indexes: dict[str, tuple[float, Mapping[str, Any]]] = {}
        self._memory: dict[str, bytes] = {}
        self._oci = OciCharts(
            timeout=timeout,
            max_chart_bytes=MAX_CHART_BYTES,
            max_tags_bytes=MAX_INDEX_BYTES,
            cached=self._cached,
            store=self._store,
        )

    def allows(self, url: str) -> bool:
        wanted = _normalise(url)
        return any(wanted == a or wanted.startswith(a + "/") for a in self._allowed)

    def fetch(self, repo_url: str, chart: str, version: str) -> ChartFetch:
        full = (
            f"{_normalise(repo_url)}/{chart}"
            if chart and repo_url.startswith("oci://")
            else repo_url
        )
        if not self.allows(repo_url) and not self.allows(full):
            return ChartFetch(
                ChartFetchStatus.NOT_ALLOWED,
                message=f"remote chart not allowed: {repo_url} is not in {ALLOW_LIST_ENV}",
            )
        scheme = urllib.parse.urlsplit(repo_url).scheme
        if scheme == "oci":
            return self._oci.fetch(full, version)
        if scheme not in ("http", "https"):
            return ChartFetch(
                ChartFetchStatus.UNSUPPORTED,
                message=f"{scheme}:// chart repositories are not fetched",
            )
        try:
            return self._fetch(repo_url, chart, version)
        except (
            OSError,
            urllib.error.URLError,
            _TooLargeError,
            yaml.YAMLError,
            ValueError,
        ) as error:
            return ChartFetch(ChartFetchStatus.FAILED, message=f"{repo_url}: {error}")

    def _index(self, repo_url: str) -> Mapping[str, Any]:
        url = _normalise(repo_url) + "/index.yaml"
        with self._lock:
            cached = self._indexes.get(url)
            if cached and time.monotonic() - cached[0] < INDEX_TTL_SECONDS:
                return cached[1]
        data = self._open(url, self._timeout, MAX_INDEX_BYTES)
        index = yaml.load(data, Loader=yaml.CSafeLoader)
        if not isinstance(index, Mapping) or not isinstance(index.get("entries"), Mapping):
            raise ValueError("index.yaml has no entries")
        with self._lock:
            self._indexes[url] = (time.monotonic(), index)
        return index

    def _fetch(self, repo_url: str, chart: str, version: str) -> ChartFetch:
        entries = self._index(repo_url)["entries"].get(chart)
        if not isinstance(entries, list) or not entries:
            return ChartFetch(
                ChartFetchStatus.FAILED, message=f"chart {chart} is not in {repo_url}"
            )
        by_version = {
            str(e.get("version")): e for e in entries if isinstance(e, Mapping) and e.get("urls")
        }
        chosen = newest(by_version, version or "*")
        if chosen is None:
            return ChartFetch(
                ChartFetchStatus.FAILED,
                message=f"no version of {chart} in {repo_url} matches {version or '*'!r}",
            )
        entry = by_version[chosen]
        archive_url = urllib.parse.urljoin(_normalise(repo_url) + "/", str(entry["urls"][0]))
        expected = str(entry.get("digest") or "").lower()
        data = self._cached(expected) if expected else None
        if data is None:
            data = self._open(archive_url, self._timeout, MAX_CHART_BYTES)
        digest = hashlib.sha256(data).hexdigest()
        if expected and digest != expected:
            return ChartFetch(
                ChartFetchStatus.FAILED,
                message=f"{archive_url} has sha256 {digest}, the index says {expected}",
            )
        self._store(digest, data)
        filename = posixpath.basename(urllib.parse.urlsplit(archive_url).path) or f"{chart}.tgz"
        return ChartFetch(ChartFetchStatus.FETCHED, ChartArchive(digest, filename, chosen, data))

    def _path(self, digest: str) -> Path | None:
        return self._cache / "sha256" / digest[:2] / f"{digest}.tgz" if self._cache else None

    def _cached(self, digest: str) -> bytes | None:
        with self._lock:
            if digest in self._memory:
                return self._memory[digest]
        path = self._path(digest)
        if path is None or not path.is_file():
            return None
        data = path.read_bytes()
        return data if hashlib.sha256(data).hexdigest() == digest else None

    def _store(self, digest: str, data: bytes) -> None:
        with self._lock:
            self._memory[digest] = data
        path = self._path(digest)
        if path is None or path.is_file():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{threading.get_ident()}.part")
        partial.write_bytes(data)
        partial.replace(path)  # atomic: a concurrent reader never sees half an archive
