"""An app object as the cluster gets it: taken from its parent's render (after the parent's
patches and substitutions), or as written when nothing applies it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.render.app_context import RenderContext
from bot.core.render.flux.objects import Declared
from bot.model.finding import Finding, Severity
from bot.model.render import RenderTarget
from bot.model.resource import Resource


@dataclass(frozen=True, slots=True)
class Effective:
    body: Mapping[str, Any] | None  # None: the app does not exist as such (see findings)
    applied: tuple[Resource, ...]  # what the parent applies alongside it (ConfigMaps...)
    findings: tuple[Finding, ...] = ()

    def spec(self) -> Mapping[str, Any]:
        spec = self.body.get("spec") if self.body is not None else None
        return spec if isinstance(spec, Mapping) else {}


def effective_object(
    target: RenderTarget,
    declared: Declared,
    namespace: str,
    context: RenderContext,
    *,
    standalone: bool = False,
) -> Effective:
    """`standalone`: discovery proved the parents apply it as written (their kustomizations
    only list resources, no Flux overrides), so no parent is rendered to read it."""
    if not target.parent or standalone:
        return Effective(declared.body, ())
    parent = context.render(target.parent)
    if parent.failed or parent.skipped:
        return Effective(
            None,
            (),
            (
                Finding(
                    rule_id="flux-parent-failed",
                    severity=Severity.ERROR,
                    message=f"{declared.display()} is applied by {target.parent}, which did not "
                    "render; its effective definition is unknown",
                    location=declared.location(),
                    hint=f"fix {target.parent} first (see its findings)",
                ),
            ),
        )
    for resource in parent.resources:
        key = resource.key
        if (key.api_group, key.kind, key.name) == (
            declared.group,
            declared.kind,
            declared.name,
        ) and key.namespace in (namespace, ""):
            return Effective(resource.body, parent.resources)
    return Effective(
        None,
        parent.resources,
        (
            Finding(
                rule_id="flux-app-not-applied",
                severity=Severity.WARNING,
                message=f"{declared.display()} is declared in a file {target.parent} builds, but "
                "its build does not contain it (renamed or removed by a patch); nothing rendered",
                location=declared.location(),
                hint="check the parent kustomization's patches and name prefixes",
            ),
        ),
    )
