"""review(): the whole decision, from two snapshots to one Report. Pure but for its ports."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from bot.core.approval.fingerprint import fingerprint_change
from bot.core.approval.stage import decide_from_review
from bot.core.changes import changed_files
from bot.core.diff.states import diff_target
from bot.core.policy.stage import ChangedResource, evaluate_policies
from bot.core.render.coverage import plan_targets, summarize_coverage
from bot.core.render.discovery import discover_targets
from bot.core.render.revision import render_targets
from bot.core.report.build import build_report
from bot.core.report.scrub import scrub_findings, secret_values
from bot.core.safe_yaml import YamlLoad
from bot.core.signatures.stage import check_signatures
from bot.core.tree_view import TreeView
from bot.core.trusted_inputs import TrustedInputs, load_trusted_inputs
from bot.core.validate.stage import rendered_head_resources, validate_head
from bot.model.approval import ForgeFacts
from bot.model.change import ChangeRequest
from bot.model.diff import ResourceDiff
from bot.model.errors import TrustedInputError
from bot.model.finding import Finding, Severity
from bot.model.render import RenderTarget, TargetRender
from bot.model.repo_config import CONFIG_PATH
from bot.model.report import Report
from bot.model.resource import Resource
from bot.model.signatures import CommitVerdict
from bot.ports import (
    ChartSource,
    CommandRunner,
    CommitLog,
    PolicyEngine,
    PolicyModule,
    RepoTree,
    SchemaCatalog,
    SignatureVerifier,
)


@dataclass(frozen=True, slots=True)
class Ports:
    """Everything review() may use to reach the world."""

    runner: CommandRunner
    schemas: SchemaCatalog
    policies: PolicyEngine  # the embedded engine
    builtin_policies: tuple[PolicyModule, ...] = ()
    opa_server: Callable[[str], PolicyEngine] | None = None  # builds a client for `opa.url`
    commit_log: CommitLog | None = None  # None: signatures are not checked (no git history)
    forge_facts: ForgeFacts | None = None  # None: nobody has reviewed yet (a local run)
    signature_verifier: SignatureVerifier | None = None
    charts: ChartSource | None = None  # remote Helm charts; None: no chart is ever fetched

    def policy_engine(self, opa_url: str) -> PolicyEngine:
        if opa_url and self.opa_server is not None:
            return self.opa_server(opa_url)
        return self.policies


def _trusted_input_report(change: ChangeRequest, error: TrustedInputError) -> Report:
    finding = Finding(
        rule_id="config-invalid",
        severity=Severity.ERROR,
        message=error.message,
        location=error.location,
        hint=error.hint or "fix the file on the base branch; the PR's own copy is not used",
    )
    return Report(
        change=change,
        changed_files=(),
        coverage=(),
        diffs=(),
        findings=(finding,),
        trusted_input_error=finding,
    )


def review(
    change: ChangeRequest,
    base_tree: RepoTree,
    head_tree: RepoTree,
    ports: Ports,
    *,
    render_all: bool = False,
    trusted_tree: RepoTree | None = None,
) -> Report:
    """Render what the change affects at base and head, diff it, and report.

    `render_all` renders every target even when its inputs did not change (what tools that do
    not track inputs have to do); it exists for benchmarks and for debugging the input tracking.
    `trusted_tree` is where config, policies and signers come from when it is not `base_tree`:
    the server diffs from the merge base but trusts the base branch's tip.
    """
    try:
        trusted: TrustedInputs = load_trusted_inputs(trusted_tree or base_tree, change.base.short())
    except TrustedInputError as error:
        return _trusted_input_report(change, error)
    config = trusted.config
    files = changed_files(base_tree.entries(), head_tree.entries())
    yaml_cache: dict[tuple[str, str], YamlLoad] = {}
    base_view = TreeView(base_tree, config.render.max_file_bytes, yaml_cache)
    head_view = TreeView(head_tree, config.render.max_file_bytes, yaml_cache)
    base_targets = discover_targets(base_view, config.render)
    head_targets = discover_targets(head_view, config.render)
    plan = plan_targets(base_targets.targets, head_targets.targets, files, render_all)

    base_renders = render_targets(
        plan.base_to_render, base_view, ports.runner, config.render, plan.base, charts=ports.charts
    )
    head_renders = render_targets(
        plan.head_to_render, head_view, ports.runner, config.render, plan.head, charts=ports.charts
    )
    coverage, render_findings, renderable = summarize_coverage(
        plan, base_renders, head_renders, config.render.fail_on_skipped
    )
    trusted_view = TreeView(trusted.tree, config.render.max_file_bytes, yaml_cache)
    head_resources = rendered_head_resources(head_renders)
    validation_findings, validation = validate_head(
        head_resources, ports.schemas, config, trusted_view, head_view
    )

    diffs = tuple(
        _with_app(d, plan.head.get(target_id) or plan.base[target_id])
        for target_id in renderable
        for d in diff_target(
            base_renders.get(target_id, TargetRender(target_id)),
            head_renders.get(target_id, TargetRender(target_id)),
            config.diff,
        )
    )
    changes = changed_resources(diffs, base_renders, head_renders)
    fingerprint = fingerprint_change(changes, config.diff)
    policy_findings, exceptions, policy = evaluate_policies(
        ports.policy_engine(config.policies.opa_url),
        config.policies,
        trusted=trusted_view,
        builtin=ports.builtin_policies,
        resources=head_resources,
        changes=changes,
    )
    signatures: tuple[CommitVerdict, ...] | None = None
    signature_problems: list[Finding] = []
    if ports.commit_log and ports.signature_verifier and change.base.commit and change.head.commit:
        verdicts, signature_problems = check_signatures(
            ports.commit_log.commits(change.base.commit, change.head.commit),
            ports.signature_verifier,
            trusted_view,
            config.signatures,
            (f.path for f in files),
        )
        signatures = tuple(verdicts)
    approval = (
        decide_from_review(
            trusted.approval,
            ports.forge_facts,
            head_sha=change.head.commit,
            files=files,
            diffs=diffs,
            findings=(*render_findings, *validation_findings, *policy_findings),
            signatures=signatures,
            rendered_fingerprint=fingerprint,
        )
        if trusted.approval is not None
        else None
    )
    notes = [f"Configuration: {trusted.source}."]
    if any(f.path == CONFIG_PATH for f in files):
        notes.append(
            f"This change edits {CONFIG_PATH}; it was reviewed with the base revision's version "
            "(changes take effect after merge)."
        )
    secrets = secret_values(
        r.body
        for renders in (base_renders, head_renders)
        for t in renders.values()
        for r in t.resources
    )
    report = build_report(
        change,
        files=files,
        coverage=coverage,
        diffs=diffs,
        findings=scrub_findings(
            (*render_findings, *validation_findings, *policy_findings, *signature_problems),
            secrets,
        ),
        ignored=scrub_findings(exceptions, secrets),
        notes=notes,
        fail_on=config.fail_on,
        validation=validation,
        policy=policy,
        signatures=signatures,
        approval=approval,
    )
    return replace(report, rendered_fingerprint=fingerprint)


def _with_app(diff: ResourceDiff, target: RenderTarget) -> ResourceDiff:
    if target.app is None and not target.cluster:
        return diff
    return replace(diff, app=target.app.display() if target.app else "", cluster=target.cluster)


def changed_resources(
    diffs: Sequence[ResourceDiff],
    base: Mapping[str, TargetRender],
    head: Mapping[str, TargetRender],
) -> list[ChangedResource]:
    """Both sides of every resource the change touches, for change-aware policies."""

    def find(renders: Mapping[str, TargetRender], diff: ResourceDiff) -> Resource | None:
        render = renders.get(diff.target)
        return next((r for r in render.resources if r.key == diff.key), None) if render else None

    return [ChangedResource(find(base, d), find(head, d), d.change.value) for d in diffs]


def _is_app(target: RenderTarget, app: str) -> bool:
    ref = target.app
    return ref is not None and app in (
        ref.name,
        f"{ref.namespace}/{ref.name}",
        target.target_id,
        f"{ref.name}@{target.cluster}",
        f"{ref.namespace}/{ref.name}@{target.cluster}",
    )


def render_revision(
    tree: RepoTree,
    ports: Ports,
    config_tree: RepoTree | None = None,
    only: str = "",
    *,
    app: str = "",
    apps_only: bool = False,
) -> tuple[tuple[RenderTarget, ...], dict[str, TargetRender]]:
    """Render every target of one revision (or those whose id contains `only`, or the apps
    named `app`: a Flux/Argo CD name, `namespace/name`, optionally `@cluster`; every app and
    nothing else with `apps_only`). Skipped targets are returned but not rendered.

    Config comes from `config_tree` (the trusted revision) when given, else from `tree` itself:
    rendering a local checkout is the user reviewing their own work.
    """
    trusted = load_trusted_inputs(config_tree or tree, "render")
    view = TreeView(tree, trusted.config.render.max_file_bytes)
    every = discover_targets(view, trusted.config.render).targets
    targets = tuple(
        t
        for t in every
        if only in t.target_id
        and (not app or _is_app(t, app))
        and (not apps_only or t.app is not None)
    )
    renders = render_targets(
        (t for t in targets if not t.skip_reason),
        view,
        ports.runner,
        trusted.config.render,
        {t.target_id: t for t in every},
        charts=ports.charts,
    )
    return targets, renders
