"""Signed deliveries for the Flask test client, and the real webhook examples."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from pathlib import Path
from typing import Any

from bot.settings import GitHubAppSettings, ServerSettings

FIXTURES = Path(__file__).parents[2] / "../shared/fixtures"
EXAMPLES: dict[str, list[dict[str, Any]]] = {
    e["name"]: e["examples"]
    for e in json.loads((FIXTURES / "github/webhook-examples.json").read_text(encoding="utf-8"))
}
SECRET = "webhook-secret-1"
OLD_SECRET = "webhook-secret-0"
_ids = itertools.count(1)


def server_settings(secrets: tuple[str, ...] = (SECRET,), **changes: Any) -> ServerSettings:
    github = GitHubAppSettings(app_id="1", private_key="", webhook_secrets=secrets)
    return ServerSettings(queue_url="memory:", data_dir="/nonexistent", github=github, **changes)


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery_id() -> str:
    return f"00000000-0000-0000-0000-{next(_ids):012d}"


def headers(event: str, body: bytes, secret: str | None = SECRET, **extra: str) -> dict[str, str]:
    result = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery_id()}
    if secret is not None:
        result["X-Hub-Signature-256"] = sign(body, secret)
    result.update(extra)
    return result


def post(client: Any, event: str, payload: Any, **options: Any) -> Any:
    """POST a signed delivery; `payload` is JSON-encoded unless it is bytes already."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    content_type = options.pop("content_type", "application/json")
    secret = options.pop("secret", SECRET)
    extra = options.pop("headers", {})
    return client.post(
        "/github/webhook",
        data=body,
        content_type=content_type,
        headers={**headers(event, body, secret), **extra},
        **options,
    )
