"""Every rule id the bot can report is explained to the user (docs/rules.md is the index)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
DOCS = "\n".join(
    (ROOT / "docs" / name).read_text(encoding="utf-8")
    for name in ("rules.md", "flux.md", "argocd.md", "policies.md")
)
RULE_IDS = sorted(
    {
        match
        for path in (ROOT / "bot").rglob("*.py")
        for match in re.findall(r'rule_id="([a-z0-9-]+)"', path.read_text(encoding="utf-8"))
    }
)


def test_the_scan_finds_rule_ids():
    assert len(RULE_IDS) > 20


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_is_documented(rule_id):
    assert f"`{rule_id}`" in DOCS or f"## {rule_id}" in DOCS, f"{rule_id} is not in docs/"
