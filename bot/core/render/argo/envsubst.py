"""Argo CD's build environment (`$ARGOCD_APP_NAME`, ...) and its `$VAR` substitution.

Argo CD substitutes these in Helm value file paths and parameters and in Kustomize images and
labels, with Go's `os.Expand`: `$NAME` or `${NAME}`, `$$` is a literal `$`, and any other name
becomes the empty string.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Known only once Argo CD has resolved the revision or asked the cluster: never offline.
UNKNOWN_OFFLINE = frozenset(
    {
        "ARGOCD_APP_REVISION",
        "ARGOCD_APP_REVISION_SHORT",
        "ARGOCD_APP_REVISION_SHORT_8",
        "KUBE_VERSION",
        "KUBE_API_VERSIONS",
    }
)
_SPECIAL = frozenset("*#$@!?-0123456789")


def build_env(
    *, name: str, namespace: str, project: str, repo_url: str, path: str, revision: str
) -> Mapping[str, str]:
    return {
        "ARGOCD_APP_NAME": name,
        "ARGOCD_APP_NAMESPACE": namespace,
        "ARGOCD_APP_PROJECT_NAME": project,
        "ARGOCD_APP_SOURCE_REPO_URL": repo_url,
        "ARGOCD_APP_SOURCE_PATH": path,
        "ARGOCD_APP_SOURCE_TARGET_REVISION": revision,
    }


def _name_at(text: str, start: int) -> tuple[str | None, int]:
    """The variable name after the `$` at text[start - 1], and how many characters it spans.

    (None, n): invalid syntax, n characters are dropped; ("", 0): no name, the `$` stays.
    """
    if start >= len(text):
        return "", 0
    if text[start] == "{":
        end = text.find("}", start)
        if end == -1 or end == start + 1:
            return None, (len(text) - start if end == -1 else 2)
        return text[start + 1 : end], end - start + 1
    if text[start] in _SPECIAL:
        return text[start], 1
    end = start
    while end < len(text) and (text[end].isascii() and (text[end].isalnum() or text[end] == "_")):
        end += 1
    return text[start:end], end - start


def envsubst(text: str, env: Mapping[str, str]) -> tuple[str, frozenset[str]]:
    """`text` with variables expanded, and the variables used that cannot be known offline."""
    if "$" not in text:
        return text, frozenset()
    out: list[str] = []
    unknown: set[str] = set()
    i = 0
    while i < len(text):
        char = text[i]
        if char != "$":
            out.append(char)
            i += 1
            continue
        name, width = _name_at(text, i + 1)
        if name == "" and width == 0:
            out.append("$")
        elif name is not None:
            if name == "$":
                out.append("$")
            else:
                out.append(env.get(name, ""))
                if name in UNKNOWN_OFFLINE:
                    unknown.add(name)
        i += 1 + width
    return "".join(out), frozenset(unknown)


def unknown_offline(texts: Iterable[str]) -> frozenset[str]:
    """Variables among `texts` that only a live Argo CD knows (used for a warning)."""
    found: set[str] = set()
    for text in texts:
        found |= envsubst(text, {})[1]
    return frozenset(found)
