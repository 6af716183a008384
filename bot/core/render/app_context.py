"""What app renderers (Flux, Argo CD) get: the revision's targets and a memoised render."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.core.tree_view import TreeView
from bot.model.finding import Finding, Severity
from bot.model.render import RenderTarget, TargetRender
from bot.model.repo_config import RenderConfig
from bot.ports import ChartSource, CommandRunner

MAX_APP_DEPTH = 8  # app-of-apps and nested Flux Kustomizations are followed this deep


@dataclass(frozen=True, slots=True)
class AppTargets:
    """What one ecosystem's discovery found in a revision."""

    targets: tuple[RenderTarget, ...]
    findings: tuple[Finding, ...] = ()
    # Repo files whose content the apps render (not the files that only declare an app); None:
    # every input file. Generic targets made only of these files are dropped.
    covers: frozenset[str] | None = None


@dataclass(slots=True)
class RenderContext:
    """One revision's rendering: apps render their parent first (the object after the parent's
    patches), memoised so a parent shared by many apps renders once per revision."""

    view: TreeView
    runner: CommandRunner
    config: RenderConfig
    targets: Mapping[str, RenderTarget]
    render_generic: Callable[[RenderTarget, RenderContext], TargetRender]
    charts: ChartSource | None = None  # remote Helm charts; None: none may be fetched
    cache: dict[str, TargetRender] = field(default_factory=dict)
    _active: list[str] = field(default_factory=list)

    def render(self, target_id: str) -> TargetRender:
        cached = self.cache.get(target_id)
        if cached is not None:
            return cached
        target = self.targets.get(target_id)
        if target is None:
            return TargetRender(
                target_id, findings=(_problem(target_id, "is not in this revision"),)
            )
        if target_id in self._active or len(self._active) >= MAX_APP_DEPTH:
            chain = " -> ".join([*self._active, target_id])
            problem = _problem(target_id, f"is nested too deep or in a cycle: {chain}")
            return TargetRender(target_id, findings=(problem,))
        self._active.append(target_id)
        try:
            render = self.render_generic(target, self)
        finally:
            self._active.pop()
        self.cache[target_id] = render
        return render


def _problem(target_id: str, what: str) -> Finding:
    return Finding(
        rule_id="app-render-failed",
        severity=Severity.ERROR,
        message=f"app {target_id} {what}",
        hint="app-of-apps and nested Kustomizations are followed to a bounded depth, no cycles",
    )
