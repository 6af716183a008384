"""A Kustomize source: Argo CD's `kustomize:` options applied as Argo CD applies them (it runs
`kustomize edit set namePrefix/image/...` on the app's kustomization, then `kustomize build`).

The edit is made on a copy held in an overlay tree; the repository is never modified."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.core.render.app_context import RenderContext
from bot.core.render.argo.envsubst import envsubst
from bot.core.render.argo.overlay import OverlayTree
from bot.core.render.argo.sources import SourcePlan
from bot.core.render.argo.spec import Declared, KustomizeOptions
from bot.core.render.argo.tool import Rendered, run_tool
from bot.core.render.commands import kustomize_command
from bot.core.render.origins import kustomize_origin_finder
from bot.model.finding import Finding, Severity
from bot.model.render import RenderTarget, TargetKind
from bot.model.resource import Location


def parse_image(arg: str) -> dict[str, str]:
    """`kustomize edit set image` syntax: `name=new:tag`, `name:tag`, `name@digest`, `name=new`."""
    name, sep, new = arg.partition("=")
    if not sep:
        new = arg
    entry: dict[str, str] = {}
    if "@" in new:
        image, entry["digest"] = new.split("@", 1)
    else:
        slash, colon = new.rfind("/"), new.rfind(":")
        image = new[:colon] if colon > slash else new
        if colon > slash:
            entry["newTag"] = new[colon + 1 :]
    if sep and image:
        entry["newName"] = image
    return {"name": name if sep else image, **entry}


def _set_image(images: list[Any], wanted: dict[str, str]) -> None:
    for existing in images:
        if isinstance(existing, dict) and existing.get("name") == wanted["name"]:
            existing.update({k: v for k, v in wanted.items() if k != "name"})
            if "newTag" in wanted:
                existing.pop("digest", None)
            if "digest" in wanted:
                existing.pop("newTag", None)
            return
    images.append(wanted)


def _add_pairs(
    target: dict[str, Any], pairs: Mapping[str, str], force: bool, what: str
) -> list[str]:
    clashes = [k for k in pairs if k in target and not force]
    target.update({k: v for k, v in pairs.items() if force or k not in target})
    return [f"{what} {k} is already in the kustomization file" for k in clashes]


def edited_kustomization(
    body: Mapping[str, Any],
    options: KustomizeOptions,
    env: Mapping[str, str],
    components: tuple[str, ...] = (),
) -> tuple[dict[str, Any], list[str]]:
    """The kustomization after Argo CD's edits, and the edits kustomize would refuse."""
    edited: dict[str, Any] = json.loads(json.dumps(body))
    refused: list[str] = []
    if options.name_prefix:
        edited["namePrefix"] = options.name_prefix
    if options.name_suffix:
        edited["nameSuffix"] = options.name_suffix
    for image in options.images:
        images = edited.setdefault("images", [])
        _set_image(images, parse_image(envsubst(image, env)[0]))
    for name, count in options.replicas:
        replicas = edited.setdefault("replicas", [])
        number = int(count) if isinstance(count, str) and count.isdigit() else count
        replicas[:] = [r for r in replicas if not (isinstance(r, dict) and r.get("name") == name)]
        replicas.append({"name": name, "count": number})
    if options.common_labels:
        labels = {k: envsubst(v, env)[0] for k, v in options.common_labels.items()}
        if options.label_without_selector:
            entry: dict[str, Any] = {"pairs": labels, "includeSelectors": False}
            if options.label_include_templates:
                entry["includeTemplates"] = True
            edited.setdefault("labels", []).append(entry)
        else:
            common = edited.setdefault("commonLabels", {})
            refused += _add_pairs(common, labels, options.force_common_labels, "label")
    if options.common_annotations:
        annotations = {
            k: envsubst(v, env)[0] if options.annotations_envsubst else v
            for k, v in options.common_annotations.items()
        }
        common = edited.setdefault("commonAnnotations", {})
        refused += _add_pairs(common, annotations, options.force_common_annotations, "annotation")
    if options.namespace:
        edited["namespace"] = options.namespace
    if options.patches:
        edited.setdefault("patches", []).extend(dict(p) for p in options.patches)
    if components:  # those that exist: Argo CD drops missing ones with ignoreMissingComponents
        edited.setdefault("components", []).extend(components)
    return edited, refused


def _has_edits(options: KustomizeOptions | None) -> bool:
    return options is not None and any(
        (
            options.name_prefix,
            options.name_suffix,
            options.images,
            options.replicas,
            options.common_labels,
            options.common_annotations,
            options.namespace,
            options.patches,
            options.components,
        )
    )


def render_kustomize(
    plan: SourcePlan, declared: Declared, target_id: str, context: RenderContext
) -> Rendered:
    view, options = context.view, plan.source.kustomize
    tree = view.tree
    if options is not None and _has_edits(options):
        load = view.load_yaml(plan.kustomization)
        doc = load.documents[0].data if load.documents else {}
        if not isinstance(doc, Mapping):
            return [], list(load.findings)
        edited, refused = edited_kustomization(doc, options, plan.env or {}, plan.components)
        if refused:
            where = declared.location(options.at)
            hint = "set kustomize.forceCommonLabels/forceCommonAnnotations to override"
            return [], [
                Finding("render-failed", Severity.ERROR, f"kustomize edit: {r}", where, hint=hint)
                for r in refused
            ]
        content = json.dumps(edited, indent=2, sort_keys=True).encode()
        tree = OverlayTree(view.tree, {plan.kustomization: content})
    target = RenderTarget(target_id, TargetKind.KUSTOMIZE, plan.path, plan.inputs)
    where = Location(plan.kustomization, 1)
    return run_tool(
        kustomize_command(target, context.config),
        tree,
        where=where,
        context=context,
        target_id=target_id,
        origins=lambda _stdout: kustomize_origin_finder(target, view, where),
    )
