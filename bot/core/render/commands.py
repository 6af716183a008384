"""Renderer invocations as plain Command values (argv, no shell), and what their failures mean."""

from __future__ import annotations

from bot.model.finding import Finding, Severity
from bot.model.render import HelmRelease, RenderTarget
from bot.model.repo_config import RenderConfig
from bot.model.resource import Location
from bot.ports import Command, CommandFailure, CommandResult

MAX_ERROR_LINES = 12


def _local(path: str) -> str:
    # "./x" so helm never mistakes a chart directory for a "repo/chart" reference.
    return f"./{path}" if path else "."


def kustomize_command(target: RenderTarget, config: RenderConfig) -> Command:
    return Command(
        tool="kustomize",
        args=(
            _local(target.path),
            "--load-restrictor=LoadRestrictionsRootOnly",
            "--enable-alpha-plugins=false",
            "--enable-helm=false",
        ),
        inputs=target.input_files,
        timeout_seconds=config.timeout_seconds,
        max_output_bytes=config.max_output_bytes,
    )


def helm_command(target: RenderTarget, release: HelmRelease, config: RenderConfig) -> Command:
    args = [
        "template",
        release.release_name,
        _local(target.path),
        "--skip-tests",  # test hooks are never applied by a GitOps controller
        "--include-crds",
    ]
    if release.namespace:
        args += ["--namespace", release.namespace]
    for values_file in release.value_files:
        args += ["--values", _local(values_file)]
    return Command(
        tool="helm",
        args=tuple(args),
        inputs=target.input_files,
        timeout_seconds=config.timeout_seconds,
        max_output_bytes=config.max_output_bytes,
    )


def _tail(stderr: str) -> str:
    # kustomize prefixes real errors with deprecation warnings that would crowd them out.
    lines = [
        line
        for line in stderr.strip().splitlines()
        if line.strip() and not line.startswith("# Warning:")
    ]
    return "\n".join(lines[-MAX_ERROR_LINES:])


def failure_finding(result: CommandResult, command: Command, where: Location) -> Finding:
    """Explain a failed tool run: missing tool, timeout, oversized output or the tool's error."""
    if result.failure is CommandFailure.TOOL_MISSING:
        return Finding(
            rule_id="tool-missing",
            severity=Severity.ERROR,
            message=result.message or f"{command.tool} is not installed",
            location=where,
            hint=result.message,
        )
    if result.failure is CommandFailure.TIMEOUT:
        return Finding(
            rule_id="render-timeout",
            severity=Severity.ERROR,
            message=f"{command.tool} did not finish within {command.timeout_seconds:g} s and "
            "was stopped",
            location=where,
            hint="simplify the target or raise render.timeout_seconds in .gitops-bot.yaml",
        )
    if result.failure is CommandFailure.OUTPUT_TOO_LARGE:
        return Finding(
            rule_id="render-output-too-large",
            severity=Severity.ERROR,
            message=f"{command.tool} produced more than {command.max_output_bytes} bytes and "
            "was stopped",
            location=where,
            hint="raise render.max_output_bytes in .gitops-bot.yaml if this size is expected",
        )
    detail = _tail(result.stderr) or result.message or f"exit status {result.exit_status}"
    return Finding(
        rule_id="render-failed",
        severity=Severity.ERROR,
        message=f"{command.tool} failed: {detail}",
        location=where,
        hint=f"run `gitops-bot render` locally to reproduce; the {command.tool} error is above",
    )
