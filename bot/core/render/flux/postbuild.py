"""After `kustomize build`: what kustomize-controller does to each object before applying it.

Variables are substituted in each object's YAML text (so `replicas: ${n}` becomes a number),
unless the object opts out with `kustomize.toolkit.fluxcd.io/substitute: disabled` (label or
annotation); SOPS-encrypted objects are left alone (the controller would decrypt them, the bot
never does). Then `commonMetadata` and the controller's owner labels are set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.render.flux import envsubst
from bot.core.render.flux.variables import Variables, is_encrypted
from bot.core.safe_yaml import YamlLimits, load_yaml_documents
from bot.model.finding import Finding, Severity
from bot.model.resource import Location

SUBSTITUTE_KEY = "kustomize.toolkit.fluxcd.io/substitute"
OWNER_NAME = "kustomize.toolkit.fluxcd.io/name"
OWNER_NAMESPACE = "kustomize.toolkit.fluxcd.io/namespace"
_DEFAULT_OPS = frozenset({"=", ":=", ":-", ":?", ":+"})
_SEPARATOR = re.compile(rb"^---[ \t]*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Substituted:
    stream: bytes
    findings: tuple[Finding, ...]


def split_documents(stream: bytes) -> list[bytes]:
    parts = _SEPARATOR.split(stream)
    return [p.strip(b"\n") + b"\n" for p in parts if p.strip()]


def _opted_out(body: Any) -> bool:
    meta = body.get("metadata") if isinstance(body, Mapping) else None
    if not isinstance(meta, Mapping):
        return False
    return any(
        isinstance(m, Mapping) and m.get(SUBSTITUTE_KEY) == "disabled"
        for m in (meta.get("labels"), meta.get("annotations"))
    )


def _describe(body: Any) -> str:
    if not isinstance(body, Mapping):
        return "a document"
    meta = body.get("metadata")
    name = meta.get("name") if isinstance(meta, Mapping) else ""
    return f"{body.get('kind')} {name}"


def _usage(nodes: tuple[envsubst.Node, ...], variables: Variables) -> tuple[set[str], set[str]]:
    """(variables read bare but never set, variables whose value cannot be known)."""
    missing: set[str] = set()
    unknown: set[str] = set()
    for node in nodes:
        if not isinstance(node, envsubst.Expr):
            continue
        if node.param not in variables.values:
            if variables.unreadable:
                unknown.add(node.param)
            elif node.op not in _DEFAULT_OPS:
                missing.add(node.param)
        sub_missing, sub_unknown = _usage(node.args, variables)
        missing |= sub_missing
        unknown |= sub_unknown
    return missing, unknown


def substitute(
    stream: bytes, variables: Variables, where: Location, limits: YamlLimits
) -> Substituted:
    if not variables.active:
        return Substituted(stream, ())
    out: list[bytes] = []
    findings: list[Finding] = []
    missing: set[str] = set()
    unknown: set[str] = set()
    for text in split_documents(stream):
        load = load_yaml_documents(text, where.path, limits)
        body = load.documents[0].data if load.documents else None
        if load.findings or _opted_out(body) or (isinstance(body, Mapping) and is_encrypted(body)):
            out.append(text)
            continue
        try:
            nodes = envsubst.parse(text.decode("utf-8"))
        except (envsubst.SubstitutionSyntaxError, UnicodeDecodeError) as error:
            findings.append(
                Finding(
                    rule_id="flux-substitution-failed",
                    severity=Severity.ERROR,
                    message=f"variable substitution failed in {_describe(body)}: {error}; "
                    "kustomize-controller would fail the Kustomization",
                    location=where,
                    hint="fix the ${…} expression, escape a literal dollar as $$, or annotate "
                    f"the object with {SUBSTITUTE_KEY}: disabled",
                )
            )
            out.append(text)
            continue
        doc_missing, doc_unknown = _usage(nodes, variables)
        missing |= doc_missing
        unknown |= doc_unknown
        out.append(envsubst.expand(nodes, variables.lookup).encode("utf-8"))
    for name in sorted(missing):
        findings.append(
            Finding(
                rule_id="flux-variable-unset",
                severity=Severity.WARNING,
                message=f"${{{name}}} has no value in postBuild; Flux substitutes an empty string",
                location=where,
                hint=f"set {name} in postBuild.substitute(From), or give a default: "
                f"${{{name}:=value}}",
            )
        )
    if unknown:
        sources = ", ".join(variables.unreadable)
        findings.append(
            Finding(
                rule_id="flux-variable-unresolved",
                severity=Severity.INFO,
                message=f"{', '.join('${' + n + '}' for n in sorted(unknown))} may come from "
                f"{sources}, which gitops-bot never reads; shown as written",
                location=where,
                hint="values from Secrets and SOPS-encrypted data are not decrypted or guessed",
            )
        )
    return Substituted(b"---\n".join(out), tuple(findings))


def with_metadata(
    body: Mapping[str, Any], common: Mapping[str, Any], owner_labels: Mapping[str, str]
) -> dict[str, Any]:
    """A copy with `commonMetadata` and the owner labels the controllers add to what they apply
    (kustomize-controller and helm-controller alike)."""
    copy = dict(body)
    meta = dict(copy.get("metadata") or {})
    labels = dict(meta.get("labels") or {})
    annotations = dict(meta.get("annotations") or {})
    for into, extra in ((labels, common.get("labels")), (annotations, common.get("annotations"))):
        if isinstance(extra, Mapping):
            into.update({str(k): str(v) for k, v in extra.items()})
    labels.update(owner_labels)
    meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    copy["metadata"] = meta
    return copy
