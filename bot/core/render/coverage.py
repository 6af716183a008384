"""Which targets to render, and the coverage table: every target accounted for, none dropped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.model.change import FileChange
from bot.model.finding import Finding, Severity
from bot.model.render import CoverageEntry, CoverageStatus, RenderTarget, TargetRender


@dataclass(frozen=True, slots=True)
class RenderPlan:
    """Targets of both revisions by id, and which of them the change affects."""

    base: Mapping[str, RenderTarget]
    head: Mapping[str, RenderTarget]
    affected: frozenset[str]

    @property
    def target_ids(self) -> list[str]:
        return sorted(self.base.keys() | self.head.keys())

    @property
    def base_to_render(self) -> list[RenderTarget]:
        return [t for i, t in sorted(self.base.items()) if i in self.affected and not t.skip_reason]

    @property
    def head_to_render(self) -> list[RenderTarget]:
        return [t for i, t in sorted(self.head.items()) if i in self.affected and not t.skip_reason]


def plan_targets(
    base: Iterable[RenderTarget],
    head: Iterable[RenderTarget],
    files: Iterable[FileChange],
    render_all: bool = False,
) -> RenderPlan:
    """A target is affected when any of its input files changed, at base or at head, or when it
    exists on one side only (a new kustomization can absorb a folder without touching its files).
    """
    changed = frozenset(f.path for f in files)
    base_map = {t.target_id: t for t in base}
    head_map = {t.target_id: t for t in head}
    affected = frozenset(
        target_id
        for target_id in base_map.keys() | head_map.keys()
        if render_all
        or target_id not in base_map
        or target_id not in head_map
        or not base_map[target_id].input_files.isdisjoint(changed)
        or not head_map[target_id].input_files.isdisjoint(changed)
    )
    return RenderPlan(base_map, head_map, affected)


def _entry(
    target: RenderTarget, status: CoverageStatus, reason: str = "", base: int = 0, head: int = 0
) -> CoverageEntry:
    return CoverageEntry(
        target.target_id,
        target.kind,
        status,
        reason,
        base_resources=base,
        head_resources=head,
        app=target.app.display() if target.app else "",
        cluster=target.cluster,
    )


def _errors(render: TargetRender | None) -> list[Finding]:
    return [f for f in render.findings if f.severity is Severity.ERROR] if render else []


def _as_base_warning(finding: Finding) -> Finding:
    return Finding(
        finding.rule_id,
        Severity.WARNING,
        f"at the base revision: {finding.message}",
        finding.location,
        finding.resource,
        finding.hint,
        finding.metadata,
    )


def _unexpected_skip(target: RenderTarget, reason: str, fail: bool) -> Finding:
    """An app whose content is in this repository but was not rendered: the review cannot say
    what it changes. It fails the check unless `render.fail_on_skipped` is off."""
    what = target.app.display() if target.app else target.target_id
    if target.cluster:
        what += f" (cluster {target.cluster})"
    return Finding(
        rule_id="render-skipped",
        severity=Severity.ERROR if fail else Severity.WARNING,
        message=f"{what} was not rendered: {reason}",
        location=target.app.declared_in if target.app else None,
        hint="allow-list the chart repository (GITOPS_BOT_ALLOWED_CHART_REPOS) if it may be "
        "fetched, or set render.fail_on_skipped: false in .gitops-bot.yaml to accept the skip",
    )


def summarize_coverage(
    plan: RenderPlan,
    base_renders: Mapping[str, TargetRender],
    head_renders: Mapping[str, TargetRender],
    fail_on_skipped: bool = True,
) -> tuple[tuple[CoverageEntry, ...], tuple[Finding, ...], tuple[str, ...]]:
    """Coverage entries, the findings the change is responsible for, and the diffable targets.

    Head failures are errors. A base that already failed is only a warning (the change may be
    the fix), but its target cannot be diffed. An unexpected skip of an affected target is a
    finding (error or warning per `fail_on_skipped`).
    """
    entries: list[CoverageEntry] = []
    findings: list[Finding] = []
    diffable: list[str] = []
    for target_id in plan.target_ids:
        target = plan.head.get(target_id) or plan.base[target_id]
        if target.skip_reason:
            entries.append(_entry(target, CoverageStatus.SKIPPED, target.skip_reason))
            # An app the change removes needs no render: its parent's diff shows it going.
            if target.skip_unexpected and target_id in plan.affected and target_id in plan.head:
                findings.append(_unexpected_skip(target, target.skip_reason, fail_on_skipped))
            continue
        if target_id not in plan.affected:
            entries.append(_entry(target, CoverageStatus.UNCHANGED))
            continue
        base, head = base_renders.get(target_id), head_renders.get(target_id)
        if head is not None and head.skipped:
            entries.append(_entry(target, CoverageStatus.SKIPPED, head.skipped))
            findings.append(_unexpected_skip(target, head.skipped, fail_on_skipped))
            continue
        if base is not None and base.skipped:
            reason = (
                f"removed by this change (base not rendered: {base.skipped})"
                if head is None
                else f"base revision not rendered ({base.skipped}); no diff"
            )
            entries.append(_entry(target, CoverageStatus.SKIPPED, reason))
            findings.extend(head.findings if head else ())
            continue
        findings.extend(head.findings if head else ())
        head_errors, base_errors = _errors(head), _errors(base)
        if head_errors:
            status, reason = CoverageStatus.FAILED, head_errors[0].message
        elif base_errors:
            findings.extend(_as_base_warning(f) for f in base_errors)
            status, reason = CoverageStatus.FAILED, "base revision does not render; no diff"
        else:
            status = CoverageStatus.RENDERED
            reason = (
                "added by this change"
                if base is None
                else "removed by this change"
                if head is None
                else ""
            )
            diffable.append(target_id)
        entries.append(
            _entry(
                target,
                status,
                reason,
                base=len(base.resources) if base else 0,
                head=len(head.resources) if head else 0,
            )
        )
    return tuple(entries), tuple(findings), tuple(diffable)
