"""The approval-binding store: what the web process records, the worker reads back."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.webhooks.gitlab import ApprovalBinding
from bot.engines.gitlab_approvals import MemoryApprovalBindings, SqliteApprovalBindings

A, B = "a" * 40, "b" * 40


def _store(kind: str, path: Path) -> MemoryApprovalBindings | SqliteApprovalBindings:
    return (
        MemoryApprovalBindings() if kind == "memory" else SqliteApprovalBindings.in_data_dir(path)
    )


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_record_replace_forget(kind: str, tmp_path: Path) -> None:
    store = _store(kind, tmp_path)
    store.apply(ApprovalBinding("g/p", 1, "bob", A, True), 1.0)
    store.apply(ApprovalBinding("g/p", 1, "carol", A, True), 2.0)
    store.apply(ApprovalBinding("g/p", 2, "bob", B, True), 3.0)  # another MR
    store.apply(ApprovalBinding("G/P", 1, "bob", B, True), 4.0)  # approved again, later head
    assert store.heads("g/p", 1) == {"bob": B, "carol": A}
    store.apply(ApprovalBinding("g/p", 1, "carol", A, False), 5.0)
    store.apply(ApprovalBinding("g/p", 1, "nobody", A, False), 6.0)  # forgetting nothing is fine
    assert store.heads("g/P", 1) == {"bob": B}
    assert store.heads("g/p", 2) == {"bob": B}


def test_sqlite_survives_a_restart(tmp_path: Path) -> None:
    SqliteApprovalBindings.in_data_dir(tmp_path / "nested").apply(
        ApprovalBinding("g/p", 1, "bob", A, True), 1.0
    )
    assert SqliteApprovalBindings.in_data_dir(tmp_path / "nested").heads("g/p", 1) == {"bob": A}
