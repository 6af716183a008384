"""Approval rules: parsing with file:line errors, requirements, trees, invalidation."""

import pytest

from bot.core.approval.decide import decide_approval
from bot.core.approval.rules import parse_approval
from bot.core.config.reader import ConfigReader
from bot.core.safe_yaml import load_yaml_documents
from bot.model.approval import ApprovalFacts, Review, RuleStatus
from bot.model.errors import TrustedInputError

HEAD, OLD = "h" * 40, "o" * 40
CONFIG = """\
approval:
  rules:
    - name: prod-needs-platform
      if:
        changed_files: ["clusters/prod/**"]
      requires: {count: 1, users: [alice], teams: [acme/platform]}
    - name: docs-need-anyone
      if:
        changed_files: ["docs/**"]
      requires: {count: 1}
  policy: {and: [prod-needs-platform, docs-need-anyone]}
  config_owners: {users: [carol]}
"""


def parse(text):
    doc = load_yaml_documents(text, ".gitops-bot.yaml").documents[0]
    return parse_approval(ConfigReader(doc.field_lines), doc.data["approval"])


def facts(files=("clusters/prod/app.yaml",), reviews=(), author="dave", **kw):
    return ApprovalFacts(
        head_sha=HEAD,
        author=author,
        changed_files=tuple(files),
        reviews=tuple(reviews),
        teams={"acme/platform": frozenset({"bob"})},
        **kw,
    )


@pytest.mark.parametrize(
    ("reviews", "extra", "status", "description"),
    [
        (
            (),
            {},
            RuleStatus.PENDING,
            "1 more from @alice or @acme/platform: changed clusters/prod/app.yaml",
        ),
        ((Review("alice", "approved", HEAD),), {}, RuleStatus.APPROVED, "approved by @alice"),
        ((Review("bob", "approved", HEAD),), {}, RuleStatus.APPROVED, "approved by @bob"),
        ((Review("alice", "approved", OLD),), {}, RuleStatus.PENDING, None),
        (
            (Review("alice", "approved", HEAD), Review("alice", "dismissed", HEAD)),
            {},
            RuleStatus.PENDING,
            None,
        ),
        (
            (Review("alice", "changes_requested", HEAD),),
            {},
            RuleStatus.DISAPPROVED,
            "changes requested by @alice",
        ),
        ((Review("eve", "approved", HEAD),), {}, RuleStatus.PENDING, None),
        ((Review("alice", "approved", HEAD),), {"author": "alice"}, RuleStatus.PENDING, None),
    ],
    ids=[
        "none",
        "listed-user",
        "team-member",
        "approved-before-push",
        "dismissed",
        "changes-requested",
        "not-listed",
        "self-approval",
    ],
)
def test_prod_rule(reviews, extra, status, description):
    kw = {"author": extra.get("author", "dave")}
    result = decide_approval(parse(CONFIG), facts(reviews=reviews, **kw))
    rule = next(c for c in result.children if c.name == "prod-needs-platform")
    assert rule.status is status
    if description:
        assert rule.description == description
    assert result.status is status  # docs rule is skipped: the and-tree follows prod


def test_skipped_rules_do_not_block_and_all_skipped_is_skipped():
    result = decide_approval(parse(CONFIG), facts(files=("apps/x.yaml",)))
    assert result.status is RuleStatus.SKIPPED
    assert {c.name: c.status for c in result.children} == {
        "prod-needs-platform": RuleStatus.SKIPPED,
        "docs-need-anyone": RuleStatus.SKIPPED,
    }


def test_or_tree_and_counts():
    config = parse(
        CONFIG.replace("policy: {and:", "policy: {or:").replace("{count: 1}", "{count: 2}")
    )
    files = ("clusters/prod/a.yaml", "docs/readme.md")
    result = decide_approval(config, facts(files=files, reviews=(Review("zed", "approved", HEAD),)))
    statuses = {c.name: c.status for c in result.children}
    assert statuses == {
        "prod-needs-platform": RuleStatus.PENDING,
        "docs-need-anyone": RuleStatus.PENDING,
    }
    assert next(c for c in result.children if c.name == "docs-need-anyone").description.startswith(
        "1 more from any reviewer"
    )
    approved = decide_approval(
        config, facts(files=files, reviews=(Review("alice", "approved", HEAD),))
    )
    assert approved.status is RuleStatus.APPROVED


@pytest.mark.parametrize(
    ("permissions", "status"),
    [
        ({"frank": "read"}, RuleStatus.PENDING),
        ({"frank": "write"}, RuleStatus.APPROVED),
        ({"frank": "admin"}, RuleStatus.APPROVED),
    ],
    ids=["read-is-not-enough", "write", "admin"],
)
def test_permission_requirement(permissions, status):
    config = parse(CONFIG.replace("{count: 1}", "{count: 1, permissions: [write]}"))
    result = decide_approval(
        config,
        facts(
            files=("docs/a.md",),
            reviews=(Review("frank", "approved", HEAD),),
            permissions=permissions,
        ),
    )
    assert result.status is status


def test_changing_the_rules_also_needs_the_config_owners():
    config = parse(CONFIG)
    result = decide_approval(
        config, facts(reviews=(Review("alice", "approved", HEAD),)), config_changed=True
    )
    assert result.status is RuleStatus.PENDING
    assert result.children[1].name == "config-owners"
    assert (
        result.children[1].description == "1 more from @carol: this change edits the approval rules"
    )
    both = (Review("alice", "approved", HEAD), Review("carol", "approved", HEAD))
    assert (
        decide_approval(config, facts(reviews=both), config_changed=True).status
        is RuleStatus.APPROVED
    )


@pytest.mark.parametrize(
    ("edit", "line", "text"),
    [
        (("{count: 1}", "{count: 0}"), 10, "positive integer"),
        (("{count: 1}", "{cnt: 1}"), 10, "unknown key"),
        (
            ("policy: {and: [prod-needs-platform, docs-need-anyone]}", "policy: {and: []}"),
            11,
            "non-empty",
        ),
        (
            ("policy: {and: [prod-needs-platform, docs-need-anyone]}", "policy: {and: [nope]}"),
            11,
            "no rule named 'nope'",
        ),
        (
            ("    - name: docs-need-anyone", "    - name: prod-needs-platform"),
            7,
            "duplicate rule name",
        ),
    ],
    ids=["count", "unknown-requires-key", "empty-and", "unknown-rule", "duplicate"],
)
def test_config_errors_name_the_line(edit, line, text):
    with pytest.raises(TrustedInputError) as raised:
        parse(CONFIG.replace(*edit))
    assert raised.value.location.path == ".gitops-bot.yaml"
    assert raised.value.location.line == line
    assert text in raised.value.message


def test_trees_deeper_than_the_bound_are_rejected():
    deep = "prod-needs-platform"
    for _ in range(9):
        deep = "{and: [" + deep + "]}"
    with pytest.raises(TrustedInputError, match="deeper than 8"):
        parse(
            CONFIG.replace(
                "policy: {and: [prod-needs-platform, docs-need-anyone]}", f"policy: {deep}"
            )
        )


@pytest.mark.parametrize(
    ("fingerprints", "keep", "status"),
    [
        ({OLD: "f1", HEAD: "f1"}, True, RuleStatus.APPROVED),
        ({OLD: "f1", HEAD: "f2"}, True, RuleStatus.PENDING),
        ({OLD: "f1", HEAD: "f1"}, False, RuleStatus.PENDING),
        ({HEAD: "f1"}, True, RuleStatus.PENDING),
    ],
    ids=[
        "rebase-identical-render-kept",
        "rebase-changed-render-dropped",
        "off-by-default",
        "unknown-old-render",
    ],
)
def test_keep_if_rendered_unchanged(fingerprints, keep, status):
    text = CONFIG.replace(
        "teams: [acme/platform]}",
        f"teams: [acme/platform], keep_if_rendered_unchanged: {str(keep).lower()}}}",
    )
    result = decide_approval(
        parse(text),
        facts(reviews=(Review("alice", "approved", OLD),), rendered_fingerprints=fingerprints),
    )
    assert result.status is status
