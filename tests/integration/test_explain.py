"""`gitops-bot explain` on the bundled example: the tree, and simulated approvals."""

import json
from contextlib import ExitStack

import pytest

from bot.entrypoints.cli import main
from bot.entrypoints.demo import build_demo_repository

pytestmark = pytest.mark.integration

TEAMS = ["--team", "acme/platform=alice", "--team", "acme/security=sam"]


@pytest.fixture
def demo():
    with ExitStack() as stack:
        yield build_demo_repository(stack)


def explain(demo, capsys, *extra):
    repo, base, head = demo
    code = main(
        [
            "explain",
            "--repo",
            str(repo),
            "--base",
            base,
            "--head",
            head,
            "--author",
            "dev",
            *TEAMS,
            "--format",
            "json",
            *extra,
        ]
    )
    return code, json.loads(capsys.readouterr().out)


def test_who_still_has_to_approve_and_why(demo, capsys):
    code, tree = explain(demo, capsys)
    assert code == 0 and tree["status"] == "pending"
    rules = {r["name"]: (r["status"], r["description"]) for r in tree["rules"]}
    assert rules == {
        "prod-needs-platform": (
            "pending",
            "1 more from @acme/platform: changed apps/podinfo/overlays/prod/kustomization.yaml",
        ),
        "secrets-need-security": (
            "pending",
            "1 more from @acme/security: Secret prod/podinfo-credentials modified",
        ),
    }


@pytest.mark.parametrize(
    ("approvers", "status"),
    [
        ("alice", "pending"),
        ("alice,sam", "approved"),
        ("sam,dev", "pending"),
        ("alice,mallory", "pending"),
    ],
    ids=["one-of-two", "both-teams", "author-cannot-approve", "outsider-does-not-count"],
)
def test_what_if_these_users_approve(demo, capsys, approvers, status):
    _, tree = explain(demo, capsys, "--approved-by", approvers)
    assert tree["status"] == status
