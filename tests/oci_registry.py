"""A loopback OCI registry serving podinfo as `helm push` stores it, for the OCI chart tests.

It speaks just enough of the distribution spec (tags/list with Link pagination, manifests,
blobs) and demands the anonymous Bearer token dance: every /v2/ request without the token gets
401 with a `WWW-Authenticate: Bearer realm=...` challenge, and /token hands out the token.
The chart is a real `helm package` of ../shared/fixtures/charts/podinfo (6.14.1).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bot.engines.oci_charts import CHART_LAYER_MEDIA_TYPE, MANIFEST_MEDIA_TYPE
from bot.settings import load_settings

PODINFO_CHART = Path(__file__).resolve().parents[1] / "../shared/fixtures/charts/podinfo"
REPOSITORY = "charts/podinfo"
TOKEN = "s3cr3t-anonymous-token"
CONFIG_MEDIA_TYPE = "application/vnd.cncf.helm.config.v1+json"


def package_podinfo(directory: Path) -> bytes:
    helm = load_settings().helm.path
    assert helm, "helm is needed to package the chart"
    subprocess.run(
        [helm, "package", str(PODINFO_CHART), "-d", str(directory)], check=True, capture_output=True
    )
    return (directory / "podinfo-6.14.1.tgz").read_bytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class FakeRegistry:
    """`tags` in listing order (two pages); each tag's manifest points at `chart`. `corrupt`:
    tags whose blob is served with a byte changed; `refuse_tokens`: the token endpoint says 401."""

    chart: bytes
    tags: list[str] = field(default_factory=lambda: ["6.13.0_b1", "6.14.1", "7.0.0-rc.1"])
    corrupt: set[str] = field(default_factory=set)
    refuse_tokens: bool = False
    url: str = ""  # oci://127.0.0.1:PORT/charts/podinfo
    requests: list[str] = field(default_factory=list)  # paths, in order
    authorizations: list[str] = field(default_factory=list)  # Authorization headers seen

    def blob(self, tag: str) -> bytes:
        return self.chart + b"\0" if tag in self.corrupt else self.chart

    def manifest(self, tag: str) -> bytes:
        config = json.dumps({"name": "podinfo", "version": tag.replace("_", "+")}).encode()
        return json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST_MEDIA_TYPE,
                "config": {
                    "mediaType": CONFIG_MEDIA_TYPE,
                    "digest": f"sha256:{sha256(config)}",
                    "size": len(config),
                },
                "layers": [
                    {
                        "mediaType": CHART_LAYER_MEDIA_TYPE,
                        "digest": f"sha256:{sha256(self.chart)}",
                        "size": len(self.chart),
                    }
                ],
            }
        ).encode()

    def blob_requests(self) -> list[str]:
        return [r for r in self.requests if "/blobs/" in r]


def _handler(registry: FakeRegistry) -> type[BaseHTTPRequestHandler]:
    prefix = f"/v2/{REPOSITORY}/"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            registry.requests.append(self.path)
            parts = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(parts.query)
            host = f"http://{self.headers['Host']}"
            if parts.path == "/token":
                if registry.refuse_tokens or query.get("scope") != [
                    f"repository:{REPOSITORY}:pull"
                ]:
                    self._send(401, b'{"errors": [{"code": "UNAUTHORIZED"}]}')
                else:
                    self._send(200, json.dumps({"token": TOKEN}).encode())
                return
            authorization = self.headers.get("Authorization", "")
            registry.authorizations.append(authorization)
            if authorization != f"Bearer {TOKEN}":
                challenge = (
                    f'Bearer realm="{host}/token",service="fake-registry",'
                    f'scope="repository:{REPOSITORY}:pull"'
                )
                self._send(401, b"{}", {"WWW-Authenticate": challenge})
                return
            if not parts.path.startswith(prefix):
                self._send(404, b"{}")
                return
            rest = parts.path.removeprefix(prefix)
            if rest == "tags/list":
                # Two pages: the first names the second in a Link header, as registries do.
                page = 1 if query.get("last") else 0
                half = len(registry.tags) // 2
                tags = registry.tags[:half] if page == 0 else registry.tags[half:]
                headers = {"Content-Type": "application/json"}
                if page == 0:
                    headers["Link"] = f'<{prefix}tags/list?n={half}&last={tags[-1]}>; rel="next"'
                body = json.dumps({"name": REPOSITORY, "tags": tags}).encode()
                self._send(200, body, headers)
            elif rest.startswith("manifests/") and rest.removeprefix("manifests/") in registry.tags:
                tag = rest.removeprefix("manifests/")
                self._send(200, registry.manifest(tag), {"Content-Type": MANIFEST_MEDIA_TYPE})
            elif rest == f"blobs/sha256:{sha256(registry.chart)}":
                # Which tag's manifest led here is unknown to a registry; `corrupt` applies
                # when any corrupt tag was the last manifest asked for.
                last = next(
                    (
                        r.rsplit("/", 1)[-1]
                        for r in reversed(registry.requests)
                        if "/manifests/" in r
                    ),
                    "",
                )
                self._send(200, registry.blob(last), {"Content-Type": "application/octet-stream"})
            else:
                self._send(404, b'{"errors": [{"code": "MANIFEST_UNKNOWN"}]}')

    return Handler


@contextmanager
def serve(registry: FakeRegistry) -> Iterator[FakeRegistry]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(registry))
    registry.url = f"oci://127.0.0.1:{server.server_address[1]}/{REPOSITORY}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield registry
    finally:
        server.shutdown()
        server.server_close()
