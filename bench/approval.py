"""Benchmark: one approval decision on a large PR.

Run: .venv/bin/python bench/approval.py   (last line ends in PASS or MISS)
Target (issue "Approval gate"): a PR with 2,000 changed files and 5,000 rendered resources
against 50 rules decides in <= 50 ms.
"""

from __future__ import annotations

import statistics
import time

from bot.core.approval.decide import decide_approval
from bot.core.approval.rules import parse_approval
from bot.core.config.reader import ConfigReader
from bot.core.safe_yaml import load_yaml_documents
from bot.model.approval import ApprovalFacts, Review
from bot.model.diff import ChangeKind, ResourceDiff
from bot.model.resource import Location, ResourceKey

TARGET_MS = 50.0
KINDS = ("Deployment", "Service", "ConfigMap", "Secret", "ClusterRole", "Ingress")


def config_text() -> str:
    rules = []
    for i in range(50):
        # A third match at once; two thirds scan every file or rendered change without a match.
        if i % 3 == 0:
            condition = f'changed_files: ["clusters/c{i}/**", "apps/a{i}/**"]'
        elif i % 3 == 1:
            condition = f"rendered: {{kinds: [{KINDS[i % len(KINDS)]}], namespaces: [gone{i}]}}"
        else:
            condition = f'changed_files: ["clusters/missing{i}/**"]'  # full scan, no match
        rules.append(
            f"    - name: rule-{i}\n      if: {{{condition}}}\n"
            f"      requires: {{count: {1 + i % 2}, teams: [acme/team{i % 5}]}}\n"
        )
    return "approval:\n  rules:\n" + "".join(rules)


def facts() -> ApprovalFacts:
    files = tuple(f"clusters/c{i % 60}/app{i}/deploy.yaml" for i in range(2_000))
    diffs = tuple(
        ResourceDiff(
            ResourceKey("", KINDS[i % len(KINDS)], f"ns{i % 60}", f"r{i}"),
            ChangeKind.MODIFIED,
            f"t{i % 100}",
            Location("x.yaml"),
            (),
            "",
        )
        for i in range(5_000)
    )
    teams = {f"acme/team{i}": frozenset({f"u{i}", f"v{i}"}) for i in range(5)}
    reviews = tuple(Review(f"u{i}", "approved", "h" * 40) for i in range(5))
    return ApprovalFacts("h" * 40, "author", files, diffs, reviews=reviews, teams=teams)


def main() -> int:
    doc = load_yaml_documents(config_text(), ".gitops-bot.yaml").documents[0]
    config = parse_approval(ConfigReader(doc.field_lines), doc.data["approval"])
    assert config is not None
    the_facts = facts()
    runs = []
    for _ in range(7):
        start = time.perf_counter()
        result = decide_approval(config, the_facts)
        runs.append((time.perf_counter() - start) * 1000)
    ms = statistics.median(runs)
    applied = sum(1 for child in result.children if child.status.label != "skipped")
    print(
        f"2,000 changed files, 5,000 rendered changes, 50 rules ({applied} apply): "
        f"{', '.join(f'{r:.1f}' for r in runs)} ms; result {result.status.label}"
    )
    verdict = "PASS" if ms <= TARGET_MS else "MISS"
    print(f"approval: {ms:.1f} ms per decision (target <= {TARGET_MS:.0f} ms) {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
