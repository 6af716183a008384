"""An ApplicationSet expanded offline into the Applications Argo CD would generate from it.

`list` and `git` generators are expanded over the revision under review; generators that need a
cluster or an external service (clusters, scmProvider, pullRequest, ...) and the combining ones
(matrix, merge) are reported as skipped, each with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.render.argo import generators as gen
from bot.core.render.argo.repo_url import is_this_repo, not_this_repo_reason
from bot.core.render.argo.selector import selector_problem, selects
from bot.core.render.argo.spec import Declared
from bot.core.render.argo.template import TemplateError, render_fasttemplate, render_gotemplate
from bot.core.safe_yaml import YamlDocument, format_field_path
from bot.core.tree_view import TreeView
from bot.model.finding import Finding, Severity
from bot.model.repo_config import RenderConfig
from bot.model.resource import Location


@dataclass(frozen=True, slots=True)
class GeneratedApp:
    body: Mapping[str, Any]  # the Application as Argo CD would create it
    declared: Declared  # the ApplicationSet's template
    inputs: frozenset[str]  # files a generator read for it
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class Expansion:
    name: str
    namespace: str
    declared: Declared
    apps: tuple[GeneratedApp, ...] = ()
    skipped: tuple[tuple[int, str], ...] = ()  # (generator index, reason)
    findings: tuple[Finding, ...] = ()  # problems of the ApplicationSet itself


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return override


@dataclass(slots=True)
class _Renderer:
    params: Mapping[str, Any]
    go: bool
    missing_error: bool
    declared: Declared
    findings: list[Finding]

    def render(self, value: Any, path: list[str | int]) -> Any:
        if isinstance(value, Mapping):
            return {k: self.render(v, [*path, str(k)]) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v, [*path, i]) for i, v in enumerate(value)]
        if not isinstance(value, str) or "{{" not in value:
            return value
        where = self.declared.location(format_field_path(path))
        if not self.go:
            text, unresolved = render_fasttemplate(value, self.params)
            if unresolved:
                self.findings.append(
                    Finding(
                        "argocd-template-unresolved",
                        Severity.WARNING,
                        f"{', '.join(unresolved)} matches no generator parameter; Argo CD "
                        "leaves it as it is",
                        where,
                        hint="check the parameter name, or set goTemplate: true for Go templates",
                    )
                )
            return text
        try:
            return render_gotemplate(value, self.params, self.missing_error)
        except TemplateError as exc:
            self.findings.append(
                Finding(
                    "argocd-template-unsupported",
                    Severity.ERROR,
                    f"template {value!r} cannot be rendered offline: {exc}",
                    where,
                    hint="gitops-bot renders fields, pipelines and common functions; move "
                    "conditionals into generator parameters",
                )
            )
            return value


def _offline(
    kind: str, body: Any, *, view: TreeView, config: RenderConfig, go: bool, at: Location
) -> tuple[gen.Generated | None, str]:
    """A list or git generator: its parameter sets, or why the generator is skipped."""
    if not isinstance(body, Mapping):
        return gen.Generated(
            findings=[gen.invalid(f"the {kind} generator must be a mapping", at)]
        ), ""
    if kind == "list":
        return gen.list_elements(body, go, at), ""
    repo = str(body.get("repoURL", ""))
    if not is_this_repo(repo, config):
        return None, f"git generator: {not_this_repo_reason(repo, config)}"
    if body.get("files"):
        return gen.git_files(body, view, go, at), ""
    return gen.git_directories(body, view, go, at), ""


def _generate(
    index: int,
    generator: Mapping[str, Any],
    *,
    view: TreeView,
    config: RenderConfig,
    go: bool,
    declared: Declared,
) -> tuple[gen.Generated | None, str]:
    at = declared.location(f"spec.generators[{index}]")
    kinds = [k for k in gen.KNOWN_GENERATORS if k in generator]
    kind = kinds[0] if kinds else str(next(iter(generator), "?"))
    if kind in gen.OFFLINE_GENERATORS:
        return _offline(kind, generator.get(kind), view=view, config=config, go=go, at=at)
    if kind in ("matrix", "merge"):
        return None, f"the {kind} generator combines other generators; not expanded offline"
    return None, f"the {kind} generator needs a cluster or an external service; not expanded"


def expand_application_set(
    doc: YamlDocument, path: str, view: TreeView, config: RenderConfig
) -> Expansion:
    body: Mapping[str, Any] = doc.data
    declared = Declared(path, doc.line, doc.field_lines)
    raw_metadata = body.get("metadata")
    metadata: Mapping[str, Any] = raw_metadata if isinstance(raw_metadata, Mapping) else {}
    name, namespace = str(metadata.get("name", "")), str(metadata.get("namespace") or "")
    spec = body.get("spec")
    template = spec.get("template") if isinstance(spec, Mapping) else None
    problems: list[Finding] = []

    def problem(
        field: str,
        message: str,
        hint: str = "fix the ApplicationSet: Argo CD would not generate its Applications either",
    ) -> Expansion:
        where = declared.location(field)
        rule = "argocd-applicationset-invalid"
        finding = Finding(rule, Severity.ERROR, message, where, hint=hint)
        return Expansion(name, namespace, declared, findings=(*problems, finding))

    if not isinstance(spec, Mapping) or not isinstance(template, Mapping):
        return problem("spec", "the ApplicationSet has no spec.template")
    if spec.get("templatePatch"):
        return problem(
            "spec.templatePatch",
            "spec.templatePatch is not rendered offline; its Applications are not rendered",
            "express the patch in spec.template or in generator parameters",
        )
    go = spec.get("goTemplate") is True
    options = spec.get("goTemplateOptions")
    missing_error = isinstance(options, list) and "missingkey=error" in options
    generators = spec.get("generators")
    if not isinstance(generators, list) or not generators:
        return problem("spec.generators", "the ApplicationSet has no generators")
    apps: list[GeneratedApp] = []
    skipped: list[tuple[int, str]] = []
    for i, generator in enumerate(generators):
        if not isinstance(generator, Mapping):
            return problem(f"spec.generators[{i}]", f"spec.generators[{i}] must be a mapping")
        generated, reason = _generate(
            i, generator, view=view, config=config, go=go, declared=declared
        )
        if generated is None:
            skipped.append((i, reason))
            continue
        selector = generator.get("selector")
        bad_selector = selector_problem(selector)
        if bad_selector:
            return problem(f"spec.generators[{i}].selector", bad_selector)
        problems.extend(generated.findings)
        merged = _merge(template, generator.get("template") or {})
        for params in generated.sets:
            if selector is None or selects(selector, params.params, go):
                apps.append(
                    _application(
                        merged,
                        params,
                        go=go,
                        missing_error=missing_error,
                        namespace=namespace,
                        declared=declared,
                    )
                )
    return Expansion(name, namespace, declared, tuple(apps), tuple(skipped), tuple(problems))


def _application(
    template: Mapping[str, Any],
    params: gen.ParamSet,
    *,
    go: bool,
    missing_error: bool,
    namespace: str,
    declared: Declared,
) -> GeneratedApp:
    in_template = Declared(declared.path, declared.line, declared.field_lines, "spec.template.")
    findings: list[Finding] = []
    renderer = _Renderer(params.params, go, missing_error, in_template, findings)
    rendered = renderer.render(template, [])
    raw_metadata, spec = rendered.get("metadata"), rendered.get("spec")
    metadata = dict(raw_metadata) if isinstance(raw_metadata, Mapping) else {}
    if namespace:  # generated Applications always live in the ApplicationSet's namespace
        metadata["namespace"] = namespace
    body = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": metadata,
        "spec": spec if spec is not None else {},
    }
    return GeneratedApp(body, in_template, params.inputs, tuple(findings))
