"""The built-in Rego library shipped in the repository's top-level `policies/` folder."""

from __future__ import annotations

from pathlib import Path

from bot.ports import PolicyModule

LIBRARY = Path(__file__).resolve().parents[2] / "policies"


def load_builtin_policies(root: Path = LIBRARY) -> tuple[PolicyModule, ...]:
    """Every `.rego` file (tests included; the core leaves them out), as `builtin/<path>`."""
    if not root.is_dir():
        return ()
    return tuple(
        PolicyModule(f"builtin/{path.relative_to(root).as_posix()}", path.read_text("utf-8"))
        for path in sorted(root.rglob("*.rego"))
    )
