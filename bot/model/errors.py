"""The bot's own failures. Bad input in a PR is a Finding, never one of these."""

from __future__ import annotations

from bot.model.resource import Location


class GitOpsBotError(Exception):
    """Root error: says what happened, where, and what to do about it."""

    def __init__(self, message: str, location: Location | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def diagnostics(self) -> str:
        parts = [self.message]
        if self.location is not None:
            parts.append(f"at {self.location.display()}")
        if self.hint:
            parts.append(self.hint)
        return " · ".join(parts)


class TrustedInputError(GitOpsBotError):
    """The base branch's config, policies or signers cannot be used."""


class RepositoryError(GitOpsBotError):
    """A revision or file could not be read from the repository."""


class ToolMissingError(GitOpsBotError):
    """A renderer binary (helm, kustomize) is not installed or not executable."""


class UsageError(GitOpsBotError):
    """The caller asked for something that cannot be done (bad flag, unknown ref)."""


class SchemaCompileError(GitOpsBotError):
    """A JSON schema (custom, from a CRD or a schema directory) cannot be compiled or used."""


class PolicyCompileError(GitOpsBotError):
    """A Rego module does not parse or compile; `location` names file, line and column."""


class PolicyEngineError(GitOpsBotError):
    """The policy engine itself failed (OPA server unreachable, worker crashed)."""
