"""Helm charts from OCI registries, over the OCI distribution spec with plain urllib: resolve the
tag, read the manifest, download the chart layer and verify it against the layer's digest.

HttpChartRepository hands oci:// URLs here after its allow-list check and shares its
content-addressed cache. Only anonymous pulls are made: a registry that wants credentials gets
none (a pull request must never make the bot present a secret to a host it names).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message

from bot.core.render.flux.semver import Constraint, newest
from bot.ports import ChartArchive, ChartFetch, ChartFetchStatus

MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
CHART_LAYER_MEDIA_TYPE = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_TOKEN_BYTES = 1024 * 1024
MAX_TAG_PAGES = 100
# Loopback registries (the tests, a local mirror) speak plain http, as `helm --plain-http`
# would; every other registry is reached over https only.
PLAIN_HTTP_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Docker Hub's registry API is not served at the name people write in oci:// URLs.
REGISTRY_HOSTS = {"docker.io": "registry-1.docker.io", "index.docker.io": "registry-1.docker.io"}

# The distribution spec's grammar for repository names and tags: anything else (`..`, `%2f`,
# `?`) never reaches a URL path.
_REPOSITORY = re.compile(
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
)
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_EXACT_VERSION = re.compile(r"v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHALLENGE_PARAM = re.compile(r'(\w+)\s*=\s*"([^"]*)"')
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class OciError(Exception):
    """A failure told to the user as is: it names the URL and what went wrong, never a token."""


@dataclass(frozen=True, slots=True)
class OciReference:
    """`oci://host[:port]/path/name` as the registry API sees it."""

    url: str  # as written (without a trailing slash), for messages
    base: str  # http(s)://host[:port] of the registry API
    repository: str  # path/name
    name: str  # the chart's name: the last path segment

    @classmethod
    def parse(cls, url: str) -> OciReference:
        written = url.strip().rstrip("/")
        parts = urllib.parse.urlsplit(written)
        repository = parts.path.strip("/")
        if parts.scheme != "oci" or not parts.hostname or parts.query or parts.fragment:
            raise OciError(f"{written} is not an oci://host/path/chart URL")
        if not _REPOSITORY.fullmatch(repository):
            raise OciError(f"{written}: {repository!r} is not a valid OCI repository name")
        scheme = "http" if parts.hostname in PLAIN_HTTP_HOSTS else "https"
        host = REGISTRY_HOSTS.get(parts.netloc, parts.netloc)
        return cls(written, f"{scheme}://{host}", repository, repository.rsplit("/", 1)[-1])

    def api(self, *path: str) -> str:
        return "/".join((self.base, "v2", self.repository, *path))


def _plain_http_allowed(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname in PLAIN_HTTP_HOSTS
    )


class _Registry:
    """GETs against one registry, with the anonymous Bearer token dance registries expect: on
    401 with `WWW-Authenticate: Bearer realm=…,service=…,scope=…`, ask the realm for a token and
    retry once with it."""

    def __init__(self, ref: OciReference, timeout: float) -> None:
        self._ref = ref
        self._timeout = timeout
        self._token = ""

    def get(self, url: str, accept: str, limit: int) -> tuple[bytes, Message]:
        for attempt in range(2):
            request = urllib.request.Request(  # noqa: S310 - http(s) URLs built by OciReference
                url, headers={"User-Agent": "gitops-bot", "Accept": accept}
            )
            if self._token:
                # Unredirected: registries send blobs from a storage host (a signed URL) that
                # must neither see the token nor get a second authentication scheme.
                request.add_unredirected_header("Authorization", f"Bearer {self._token}")
            try:
                with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                    data: bytes = response.read(limit + 1)
                    headers: Message = response.headers
            except urllib.error.HTTPError as error:
                challenge = str(error.headers.get("WWW-Authenticate", "")) if error.headers else ""
                error.close()
                if error.code == 401 and attempt == 0 and challenge.lower().startswith("bearer"):
                    self._token = self._authenticate(challenge)
                    continue
                if error.code in (401, 403):
                    raise OciError(
                        f"{url} answered {error.code} {error.reason}: the registry refuses an "
                        "anonymous pull (credentials are not supported)"
                    ) from None
                raise OciError(f"{url} answered {error.code} {error.reason}") from None
            if len(data) > limit:
                raise OciError(f"{url} is larger than {limit} bytes")
            return data, headers
        raise OciError(f"{url}: not authorized")  # pragma: no cover - the loop always returns

    def _authenticate(self, challenge: str) -> str:
        params = dict(_CHALLENGE_PARAM.findall(challenge))
        realm = params.get("realm", "")
        if not _plain_http_allowed(realm):
            raise OciError(f"{self._ref.url}: unusable token realm {realm!r}")
        query = urllib.parse.urlencode({k: params[k] for k in ("service", "scope") if k in params})
        url = f"{realm}{'&' if '?' in realm else '?'}{query}" if query else realm
        request = urllib.request.Request(  # noqa: S310 - checked by _plain_http_allowed
            url, headers={"User-Agent": "gitops-bot", "Accept": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                data: bytes = response.read(MAX_TOKEN_BYTES + 1)
        except urllib.error.HTTPError as error:
            error.close()
            raise OciError(
                f"token endpoint {realm} answered {error.code} {error.reason}: the registry "
                "refuses an anonymous pull (credentials are not supported)"
            ) from None
        try:
            body = json.loads(data) if len(data) <= MAX_TOKEN_BYTES else None
        except ValueError:
            body = None
        token = body.get("token") or body.get("access_token") if isinstance(body, Mapping) else None
        if not isinstance(token, str) or not token:
            raise OciError(f"token endpoint {realm} gave no token")
        return token

    def tags(self, limit: int) -> list[str]:
        url = self._ref.api("tags", "list")
        tags: list[str] = []
        for _ in range(MAX_TAG_PAGES):
            data, headers = self.get(url, "application/json", limit)
            body = json.loads(data)
            page = body.get("tags") if isinstance(body, Mapping) else ()
            if not isinstance(page, list | None):
                raise OciError(f"{url} is not a tag list")
            tags.extend(t for t in page or () if isinstance(t, str))
            link = _LINK_NEXT.search(str(headers.get("Link", "")))
            if link is None:
                return tags
            url = urllib.parse.urljoin(url, link.group(1))
            if not url.startswith(self._ref.base + "/"):  # pagination stays on the registry
                raise OciError(f"{self._ref.url}: tag list continues on another host ({url})")
        raise OciError(f"{self._ref.url} has more than {MAX_TAG_PAGES} pages of tags")


class OciCharts:
    """Fetches `oci://` charts; `cached`/`store` are the caller's content-addressed cache,
    keyed by sha256 hex. `max_chart_bytes` caps the archive, `max_tags_bytes` a tag-list page."""

    def __init__(
        self,
        *,
        timeout: float,
        max_chart_bytes: int,
        max_tags_bytes: int,
        cached: Callable[[str], bytes | None],
        store: Callable[[str, bytes], None],
    ) -> None:
        self._timeout = timeout
        self._max_chart = max_chart_bytes
        self._max_tags = max_tags_bytes
        self._cached = cached
        self._store = store

    def fetch(self, url: str, version: str) -> ChartFetch:
        """`url`: oci://host/path/name (already allow-listed); `version`: an exact version, a
        semver constraint ("" or "*": the newest stable one) or a literal tag (`latest`)."""
        try:
            ref = OciReference.parse(url)
            return self._fetch(ref, _Registry(ref, self._timeout), version.strip())
        except OciError as error:
            return ChartFetch(ChartFetchStatus.FAILED, message=str(error))
        except (OSError, ValueError, http.client.HTTPException) as error:
            # Connection errors and unreadable JSON; the message holds no header values.
            return ChartFetch(ChartFetchStatus.FAILED, message=f"{url.strip()}: {error}")

    def _tag(self, ref: OciReference, registry: _Registry, version: str) -> str:
        if _EXACT_VERSION.fullmatch(version):
            return version.replace("+", "_")  # Helm pushes `1.0.0+build` as tag `1.0.0_build`
        if Constraint.parse(version or "*") is None:
            if not _TAG.fullmatch(version):
                raise OciError(f"{ref.url}: {version!r} is neither a version constraint nor a tag")
            return version  # an OCIRepository `ref.tag` such as `latest`
        by_version = {tag.replace("_", "+"): tag for tag in registry.tags(self._max_tags)}
        chosen = newest(by_version, version or "*")
        if chosen is None:
            raise OciError(f"no tag of {ref.url} matches {version or '*'!r}")
        return by_version[chosen]

    def _fetch(self, ref: OciReference, registry: _Registry, version: str) -> ChartFetch:
        tag = self._tag(ref, registry, version)
        where = f"{ref.url}:{tag}"
        if not _TAG.fullmatch(tag):
            raise OciError(f"{where}: not a valid tag")
        data, _ = registry.get(ref.api("manifests", tag), MANIFEST_MEDIA_TYPE, MAX_MANIFEST_BYTES)
        manifest = json.loads(data)
        layers = manifest.get("layers") if isinstance(manifest, Mapping) else None
        layer = next(
            (
                entry
                for entry in layers or ()
                if isinstance(entry, Mapping) and entry.get("mediaType") == CHART_LAYER_MEDIA_TYPE
            ),
            None,
        )
        if not isinstance(layers, list) or layer is None:
            raise OciError(f"{where} is not a Helm chart (no {CHART_LAYER_MEDIA_TYPE} layer)")
        algorithm, _, expected = str(layer.get("digest") or "").partition(":")
        size = layer.get("size")
        if algorithm != "sha256" or not _SHA256.fullmatch(expected):
            raise OciError(f"{where}: unsupported chart layer digest {layer.get('digest')!r}")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise OciError(f"{where}: the chart layer has no valid size")
        if size > self._max_chart:
            raise OciError(f"{where}: the chart is larger than {self._max_chart} bytes")
        archive = self._cached(expected)
        if archive is None:
            blob = ref.api("blobs", f"sha256:{expected}")
            archive, _ = registry.get(blob, "application/octet-stream", self._max_chart)
            digest = hashlib.sha256(archive).hexdigest()
            if digest != expected:
                raise OciError(
                    f"{blob} has sha256 {digest}, the manifest of {where} says {expected}"
                )
            if len(archive) != size:
                raise OciError(f"{blob} has {len(archive)} bytes, the manifest says {size}")
            self._store(expected, archive)
        chart_version = tag.replace("_", "+")
        return ChartFetch(
            ChartFetchStatus.FETCHED,
            ChartArchive(expected, f"{ref.name}-{chart_version}.tgz", chart_version, archive),
        )
