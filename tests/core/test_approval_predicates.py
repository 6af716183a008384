import re
import textwrap
from dataclasses import replace
from typing import Any

import pytest

from bot.core.approval.predicate_config import parse_predicates
from bot.core.approval.predicates import (
    Author,
    AuthorNot,
    ChangedFiles,
    HasLabels,
    OnlyChangedFiles,
    PolicyFindings,
    Predicate,
    Rendered,
    Signatures,
    TargetBranch,
    TitleMatches,
    evaluate_all,
    glob_match,
)
from bot.core.config.reader import ConfigReader
from bot.core.safe_yaml import load_yaml_documents
from bot.model.approval import ApprovalFacts
from bot.model.diff import ChangeKind, ResourceDiff
from bot.model.errors import TrustedInputError
from bot.model.finding import Finding, Severity
from bot.model.resource import Location, ResourceKey

ADDED, REMOVED, MODIFIED = ChangeKind.ADDED, ChangeKind.REMOVED, ChangeKind.MODIFIED


def facts(**kwargs: Any) -> ApprovalFacts:
    return ApprovalFacts(**{"head_sha": "abc123", "author": "alice", **kwargs})


def diff(group: str, kind: str, namespace: str, name: str, change: ChangeKind) -> ResourceDiff:
    key = ResourceKey(group, kind, namespace, name)
    return ResourceDiff(key, change, "clusters/prod", Location("clusters/prod/x.yaml"), (), "")


def finding(rule_id: str, severity: Severity, **metadata: str) -> Finding:
    return Finding(rule_id, severity, "message", metadata=metadata)


def check(predicate: Predicate, given: ApprovalFacts, expected: tuple[bool, str]) -> None:
    assert predicate.evaluate(given) == expected


# --- glob matcher ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("clusters/prod/**", "clusters/prod/app.yaml", True),
        ("clusters/prod/**", "clusters/prod/a/b/c.yaml", True),
        ("clusters/prod/**", "clusters/staging/app.yaml", False),
        ("clusters/prod/**", "clusters/prod", False),
        ("**/kustomization.yaml", "kustomization.yaml", True),
        ("**/kustomization.yaml", "apps/web/kustomization.yaml", True),
        ("**/kustomization.yaml", "apps/web/kustomization.yml", False),
        ("clusters/**/app.yaml", "clusters/app.yaml", True),
        ("clusters/**/app.yaml", "clusters/eu/prod/app.yaml", True),
        ("**.md", "docs/guide/README.md", True),
        ("foo**/bar", "foo-x/y/bar", True),
        ("clusters/*/app.yaml", "clusters/prod/app.yaml", True),
        ("clusters/*/app.yaml", "clusters/eu/prod/app.yaml", False),
        ("*.md", "README.md", True),
        ("*.md", "docs/README.md", False),
        ("release/*", "release/", True),
        ("release/?", "release/1", True),
        ("release/?", "release/10", False),
        ("a?b", "a/b", False),
        ("main", "main", True),
        ("main", "main2", False),
        ("main", "mai", False),
        ("app.yaml", "appXyaml", False),
        ("[ab]+", "[ab]+", True),
        ("[ab]+", "a", False),
    ],
    ids=[
        "doublestar-one-level",
        "doublestar-deep",
        "doublestar-other-dir",
        "doublestar-not-the-dir-itself",
        "leading-doublestar-zero-dirs",
        "leading-doublestar-many-dirs",
        "leading-doublestar-wrong-name",
        "inner-doublestar-zero-dirs",
        "inner-doublestar-many-dirs",
        "doublestar-in-name-crosses-slash",
        "doublestar-after-prefix",
        "star-one-segment",
        "star-not-across-slash",
        "star-at-root",
        "star-root-only",
        "star-matches-empty",
        "question-one-char",
        "question-not-two",
        "question-not-slash",
        "exact",
        "exact-no-suffix",
        "exact-no-prefix",
        "dot-is-literal",
        "brackets-are-literal",
        "brackets-not-a-class",
    ],
)
def test_glob_match(pattern: str, text: str, expected: bool) -> None:
    assert glob_match(pattern, text) is expected


# --- predicates ------------------------------------------------------------------------------

PROD_FILES = ("README.md", "clusters/prod/app.yaml", "clusters/prod/b.yaml")


@pytest.mark.parametrize(
    ("predicate", "given", "expected"),
    [
        (
            ChangedFiles(("clusters/prod/**",)),
            facts(changed_files=PROD_FILES),
            (True, "changed clusters/prod/app.yaml"),
        ),
        (
            ChangedFiles(("a/**", "*.md")),
            facts(changed_files=PROD_FILES),
            (True, "changed README.md"),
        ),
        (
            ChangedFiles(("clusters/*",)),
            facts(changed_files=PROD_FILES),
            (False, "no changed file matches clusters/*"),
        ),
        (
            ChangedFiles(("clusters/staging/**", "*.txt")),
            facts(),
            (False, "no changed file matches clusters/staging/**, *.txt"),
        ),
    ],
    ids=["first-matching-file", "any-glob", "star-does-not-cross-slash", "no-files"],
)
def test_changed_files(
    predicate: Predicate, given: ApprovalFacts, expected: tuple[bool, str]
) -> None:
    check(predicate, given, expected)


@pytest.mark.parametrize(
    ("predicate", "given", "expected"),
    [
        (
            OnlyChangedFiles(("docs/**", "*.md")),
            facts(changed_files=("README.md", "docs/a/b.md")),
            (True, "all changed files match docs/**, *.md"),
        ),
        (
            OnlyChangedFiles(("docs/**",)),
            facts(changed_files=("docs/a.md", "clusters/x.yaml", "other.yaml")),
            (False, "changed clusters/x.yaml, outside docs/**"),
        ),
        (OnlyChangedFiles(("**",)), facts(), (False, "no files changed")),
    ],
    ids=["all-inside", "first-outside", "no-files"],
)
def test_only_changed_files(
    predicate: Predicate, given: ApprovalFacts, expected: tuple[bool, str]
) -> None:
    check(predicate, given, expected)


RBAC = "rbac.authorization.k8s.io"
DIFFS = facts(
    diffs=(
        diff(RBAC, "ClusterRole", "", "admin", MODIFIED),
        diff("apps", "Deployment", "prod", "web-frontend", ADDED),
        diff("", "ConfigMap", "prod", "settings", REMOVED),
    )
)


@pytest.mark.parametrize(
    ("predicate", "given", "expected"),
    [
        (Rendered(), DIFFS, (True, f"{RBAC}/ClusterRole admin modified")),
        (Rendered(), facts(), (False, "no rendered change matches")),
        (Rendered(kinds=("ClusterRole",)), DIFFS, (True, f"{RBAC}/ClusterRole admin modified")),
        (Rendered(api_groups=("",)), DIFFS, (True, "ConfigMap prod/settings removed")),
        (Rendered(namespaces=("prod",)), DIFFS, (True, "apps/Deployment prod/web-frontend added")),
        (Rendered(namespaces=("",)), DIFFS, (True, f"{RBAC}/ClusterRole admin modified")),
        (Rendered(names=("web-*",)), DIFFS, (True, "apps/Deployment prod/web-frontend added")),
        (
            Rendered(changes=(REMOVED, ADDED)),
            DIFFS,
            (True, "apps/Deployment prod/web-frontend added"),
        ),
        (
            Rendered(("ConfigMap",), ("",), ("prod",), ("sett*",), (REMOVED,)),
            DIFFS,
            (True, "ConfigMap prod/settings removed"),
        ),
        (
            Rendered(kinds=("Deployment",), changes=(REMOVED,)),
            DIFFS,
            (False, "no rendered change matches"),
        ),
        (Rendered(names=("web",)), DIFFS, (False, "no rendered change matches")),
        (Rendered(api_groups=("rbac",)), DIFFS, (False, "no rendered change matches")),
    ],
    ids=[
        "any-change",
        "no-diffs",
        "kind",
        "core-group",
        "namespace",
        "cluster-scoped",
        "name-glob",
        "changes",
        "every-field",
        "fields-are-anded",
        "name-glob-is-whole-name",
        "group-is-exact",
    ],
)
def test_rendered(predicate: Predicate, given: ApprovalFacts, expected: tuple[bool, str]) -> None:
    check(predicate, given, expected)


APP_DIFFS = facts(
    diffs=(
        replace(
            diff("apps", "Deployment", "podinfo", "podinfo", MODIFIED),
            labels={"app.kubernetes.io/name": "podinfo", "tier": "frontend"},
            app="HelmRelease podinfo/podinfo",
            cluster="production",
        ),
        replace(
            diff(RBAC, "ClusterRole", "", "admin", ADDED),
            labels={"tier": "platform"},
            app="Kustomization flux-system/infra-controllers",
            cluster="staging",
        ),
    )
)
PODINFO = (True, "apps/Deployment podinfo/podinfo modified")
ADMIN = (True, f"{RBAC}/ClusterRole admin added")
NONE = (False, "no rendered change matches")


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        (Rendered(labels=(("tier", "frontend"),)), PODINFO),
        (Rendered(labels=(("tier", "plat*"),)), ADMIN),
        (Rendered(labels=(("tier", "*"), ("app.kubernetes.io/name", "podinfo"))), PODINFO),
        (Rendered(labels=(("team", "*"),)), NONE),
        (Rendered(clusters=("staging",)), ADMIN),
        (Rendered(clusters=("prod",)), NONE),
        (Rendered(apps=("podinfo",)), PODINFO),
        (Rendered(apps=("flux-system/infra-*",)), ADMIN),
        (Rendered(apps=("Kustomization flux-system/*",)), ADMIN),
        (Rendered(apps=("infra-controllers",), clusters=("production",)), NONE),
        (Rendered(kinds=("ClusterRole",), clusters=("staging",), labels=(("tier", "*"),)), ADMIN),
    ],
    ids=[
        "label-value",
        "label-glob",
        "labels-are-anded",
        "label-missing",
        "cluster",
        "other-cluster",
        "app-name",
        "app-namespace-glob",
        "app-kind-glob",
        "app-and-cluster-anded",
        "kind-cluster-label",
    ],
)
def test_rendered_labels_clusters_apps(predicate: Predicate, expected: tuple[bool, str]) -> None:
    check(predicate, APP_DIFFS, expected)


WARN = finding("latest-tag", Severity.WARNING)
INFO = finding("note", Severity.INFO)
PRIVILEGED = finding("privileged", Severity.ERROR, requires_approval="true", approvers="sre")
WILDCARD = finding("rbac-wildcard", Severity.ERROR)


@pytest.mark.parametrize(
    ("predicate", "given", "expected"),
    [
        (PolicyFindings(), facts(findings=(WARN, PRIVILEGED)), (True, "error finding privileged")),
        (
            PolicyFindings(),
            facts(findings=(INFO, WARN)),
            (False, "no matching finding at error or above"),
        ),
        (
            PolicyFindings(Severity.WARNING),
            facts(findings=(INFO, WARN)),
            (True, "warning finding latest-tag"),
        ),
        (
            PolicyFindings(Severity.INFO, rule_ids=("privileged",)),
            facts(findings=(INFO, WARN, PRIVILEGED)),
            (True, "error finding privileged"),
        ),
        (
            PolicyFindings(rule_ids=("latest-tag",)),
            facts(findings=(WARN,)),
            (False, "no matching finding at error or above"),
        ),
        (
            PolicyFindings(requires_approval=True),
            facts(findings=(WILDCARD, PRIVILEGED)),
            (True, "error finding privileged"),
        ),
        (
            PolicyFindings(requires_approval=True),
            facts(findings=(WILDCARD, finding("x", Severity.ERROR, requires_approval="false"))),
            (False, "no matching finding at error or above"),
        ),
        (PolicyFindings(), facts(), (False, "no matching finding at error or above")),
    ],
    ids=[
        "default-error",
        "below-default",
        "at-or-above-warning",
        "rule-ids",
        "rule-id-but-too-mild",
        "requires-approval",
        "requires-approval-not-true",
        "no-findings",
    ],
)
def test_policy_findings(
    predicate: Predicate, given: ApprovalFacts, expected: tuple[bool, str]
) -> None:
    check(predicate, given, expected)


TEAMS = {"org/sre": frozenset({"Bob"}), "org/dev": frozenset({"carol"})}


@pytest.mark.parametrize(
    ("predicate", "given", "expected"),
    [
        (Author(users=("alice",)), facts(), (True, "author alice")),
        (Author(users=("ALICE",)), facts(), (True, "author alice")),
        (
            Author(teams=("org/sre",)),
            facts(author="bob", teams=TEAMS),
            (True, "author bob is in org/sre"),
        ),
        (
            Author(("dave",), ("org/dev", "org/sre")),
            facts(author="carol", teams=TEAMS),
            (True, "author carol is in org/dev"),
        ),
        (
            Author(("carol",), ("org/sre",)),
            facts(author="dave", teams=TEAMS),
            (False, "author dave is not in carol, org/sre"),
        ),
        (
            Author(teams=("org/ghost",)),
            facts(author="bob", teams=TEAMS),
            (False, "author bob is not in org/ghost"),
        ),
        (AuthorNot(users=("alice",)), facts(), (False, "author alice")),
        (
            AuthorNot(teams=("org/sre",)),
            facts(author="BOB", teams=TEAMS),
            (False, "author BOB is in org/sre"),
        ),
        (
            AuthorNot(("renovate[bot]",), ("org/sre",)),
            facts(author="carol", teams=TEAMS),
            (True, "author carol is not in renovate[bot], org/sre"),
        ),
    ],
    ids=[
        "user",
        "user-case-insensitive",
        "team-case-insensitive",
        "second-team",
        "neither",
        "team-unknown-to-facts",
        "not-user",
        "not-team",
        "not-anyone",
    ],
)
def test_author(predicate: Predicate, given: ApprovalFacts, expected: tuple[bool, str]) -> None:
    check(predicate, given, expected)


LABELED = facts(labels=frozenset({"lgtm", "hotfix"}))


@pytest.mark.parametrize(
    ("predicate", "given", "expected"),
    [
        (HasLabels(("lgtm",)), LABELED, (True, "labeled lgtm")),
        (HasLabels(("lgtm", "hotfix")), LABELED, (True, "labeled lgtm, hotfix")),
        (
            HasLabels(("lgtm", "security", "urgent")),
            LABELED,
            (False, "not labeled security, urgent"),
        ),
        (HasLabels(("LGTM",)), LABELED, (False, "not labeled LGTM")),
    ],
    ids=["one", "all", "some-missing", "case-sensitive"],
)
def test_has_labels(predicate: Predicate, given: ApprovalFacts, expected: tuple[bool, str]) -> None:
    check(predicate, given, expected)


TITLES = TitleMatches((re.compile("^WIP"), re.compile("(?i)draft")))


@pytest.mark.parametrize(
    ("predicate", "given", "expected"),
    [
        (TITLES, facts(title="WIP: new app"), (True, "title matches '^WIP'")),
        (TITLES, facts(title="[DRAFT] new app"), (True, "title matches '(?i)draft'")),
        (
            TITLES,
            facts(title="fix: WIP later"),
            (False, "title matches none of '^WIP', '(?i)draft'"),
        ),
        (TITLES, facts(), (False, "title matches none of '^WIP', '(?i)draft'")),
    ],
    ids=["anchored", "searched-anywhere", "anchor-respected", "empty-title"],
)
def test_title_matches(
    predicate: Predicate, given: ApprovalFacts, expected: tuple[bool, str]
) -> None:
    check(predicate, given, expected)


BRANCHES = TargetBranch(("main", "release/*"))


@pytest.mark.parametrize(
    ("predicate", "given", "expected"),
    [
        (BRANCHES, facts(target_branch="main"), (True, "targets main")),
        (BRANCHES, facts(target_branch="release/1.2"), (True, "targets release/1.2")),
        (
            BRANCHES,
            facts(target_branch="release/1.2/rc"),
            (False, "target branch release/1.2/rc is not main, release/*"),
        ),
        (
            BRANCHES,
            facts(target_branch="maint"),
            (False, "target branch maint is not main, release/*"),
        ),
        (TargetBranch(("*",)), facts(), (False, "target branch (unknown) is not *")),
    ],
    ids=["exact", "glob", "star-not-across-slash", "no-prefix-match", "unknown-never-matches"],
)
def test_target_branch(
    predicate: Predicate, given: ApprovalFacts, expected: tuple[bool, str]
) -> None:
    check(predicate, given, expected)


@pytest.mark.parametrize(
    ("predicate", "given", "expected"),
    [
        (Signatures(True), facts(signatures_verified=True), (True, "commit signatures verified")),
        (
            Signatures(True),
            facts(signatures_verified=False),
            (False, "commit signatures not verified"),
        ),
        (
            Signatures(False),
            facts(signatures_verified=False),
            (True, "commit signatures not verified"),
        ),
        (Signatures(False), facts(signatures_verified=True), (False, "commit signatures verified")),
        (Signatures(True), facts(), (False, "commit signatures not checked")),
        (Signatures(False), facts(), (False, "commit signatures not checked")),
    ],
    ids=[
        "verified-wanted-got",
        "verified-wanted-not",
        "unverified-wanted-got",
        "unverified-wanted-not",
        "verified-wanted-unchecked",
        "unverified-wanted-unchecked",
    ],
)
def test_signatures(predicate: Predicate, given: ApprovalFacts, expected: tuple[bool, str]) -> None:
    check(predicate, given, expected)


ON_MAIN = TargetBranch(("main",))
LGTM = HasLabels(("lgtm",))
BY_BOB = Author(users=("bob",))


@pytest.mark.parametrize(
    ("predicates", "expected"),
    [
        ((), (True, [])),
        ((ON_MAIN, LGTM), (True, ["targets main", "labeled lgtm"])),
        ((ON_MAIN, BY_BOB, LGTM), (False, ["author alice is not in bob"])),
        (
            (BY_BOB, ON_MAIN, HasLabels(("x",))),
            (False, ["author alice is not in bob", "not labeled x"]),
        ),
    ],
    ids=["empty-is-always", "all-match", "one-fails", "failures-in-order"],
)
def test_evaluate_all(predicates: tuple[Predicate, ...], expected: tuple[bool, list[str]]) -> None:
    given = facts(target_branch="main", labels=frozenset({"lgtm"}))
    assert evaluate_all(predicates, given) == expected


# --- parsing ---------------------------------------------------------------------------------

RULE_PATH = "approval.rules[0].if"
PREFIX = "approval:\n  rules:\n    - name: prod\n      if:\n"
IF_LINE = 4  # snippet line n is file line IF_LINE + n; "line 0" is the `if:` key itself


def parse(snippet: str) -> tuple[Predicate, ...]:
    text = PREFIX + textwrap.indent(textwrap.dedent(snippet), " " * 8)
    load = load_yaml_documents(text, ".gitops-bot.yaml")
    assert load.findings == ()
    document = load.documents[0]
    raw = document.data["approval"]["rules"][0]["if"]
    return parse_predicates(raw, RULE_PATH, ConfigReader(document.field_lines))


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("", ()),
        ("{}", ()),
        (
            'changed_files: ["clusters/prod/**", "*.md"]',
            (ChangedFiles(("clusters/prod/**", "*.md")),),
        ),
        ("only_changed_files: [docs/**]", (OnlyChangedFiles(("docs/**",)),)),
        ("rendered: {}", (Rendered(),)),
        (
            """\
            rendered:
              kinds: [ClusterRole, ClusterRoleBinding]
              api_groups: ["", rbac.authorization.k8s.io]
              namespaces: [""]
              names: ["system:*"]
              changes: [added, modified]
            """,
            (
                Rendered(
                    kinds=("ClusterRole", "ClusterRoleBinding"),
                    api_groups=("", "rbac.authorization.k8s.io"),
                    namespaces=("",),
                    names=("system:*",),
                    changes=(ADDED, MODIFIED),
                ),
            ),
        ),
        ("policy_findings: {}", (PolicyFindings(),)),
        (
            "policy_findings: {severity: warning, rule_ids: [privileged], requires_approval: true}",
            (PolicyFindings(Severity.WARNING, ("privileged",), True),),
        ),
        ("policy_findings: {severity: info}", (PolicyFindings(Severity.INFO),)),
        ("author: {users: [alice]}", (Author(users=("alice",)),)),
        ("author: {teams: [org/sre]}", (Author(teams=("org/sre",)),)),
        (
            "author_not: {users: [renovate], teams: [org/bots]}",
            (AuthorNot(("renovate",), ("org/bots",)),),
        ),
        ("has_labels: [lgtm, ready]", (HasLabels(("lgtm", "ready")),)),
        (
            'title_matches: ["^WIP", "(?i)draft"]',
            (TitleMatches((re.compile("^WIP"), re.compile("(?i)draft"))),),
        ),
        ('target_branch: [main, "release/*"]', (TargetBranch(("main", "release/*")),)),
        ("signatures: {verified: true}", (Signatures(True),)),
        ("signatures: {verified: false}", (Signatures(False),)),
        (
            """\
            target_branch: [main]
            changed_files: [clusters/**]
            has_labels: [lgtm]
            """,
            (TargetBranch(("main",)), ChangedFiles(("clusters/**",)), HasLabels(("lgtm",))),
        ),
    ],
    ids=[
        "missing-is-always",
        "empty-is-always",
        "changed-files",
        "only-changed-files",
        "rendered-any",
        "rendered-every-field",
        "policy-findings-defaults",
        "policy-findings-every-field",
        "policy-findings-info",
        "author-users",
        "author-teams",
        "author-not",
        "has-labels",
        "title-matches",
        "target-branch",
        "signatures-verified",
        "signatures-unverified",
        "several-in-yaml-order",
    ],
)
def test_parse_valid(snippet: str, expected: tuple[Predicate, ...]) -> None:
    assert parse(snippet) == expected


ALL_KEYS = (
    "changed_files, only_changed_files, rendered, policy_findings, author, author_not, "
    "has_labels, title_matches, target_branch, signatures"
)


@pytest.mark.parametrize(
    ("snippet", "line", "path", "message", "hint"),
    [
        (
            "has_labels: [a]\nchange_files: [clusters/**]\n",
            2,
            ".change_files",
            "unknown key 'change_files'",
            f"keys: {ALL_KEYS}",
        ),
        ("[changed_files]", 0, "", "must be a mapping, got ['changed_files']", f"keys: {ALL_KEYS}"),
        (
            "changed_files: clusters/**",
            1,
            ".changed_files",
            "must be a non-empty list of strings, got 'clusters/**'",
            "",
        ),
        (
            "changed_files: []",
            1,
            ".changed_files",
            "must be a non-empty list of strings, got []",
            "",
        ),
        (
            "changed_files:\n  - a/**\n  - 3\n",
            3,
            ".changed_files[1]",
            "must be a non-empty string, got 3",
            "",
        ),
        ('has_labels: [lgtm, ""]', 1, ".has_labels[1]", "must be a non-empty string, got ''", ""),
        (
            "target_branch: main",
            1,
            ".target_branch",
            "must be a non-empty list of strings, got 'main'",
            "",
        ),
        (
            "only_changed_files: {a: 1}",
            1,
            ".only_changed_files",
            "must be a non-empty list of strings, got {'a': 1}",
            "",
        ),
        (
            "rendered: [ClusterRole]",
            1,
            ".rendered",
            "must be a mapping, got ['ClusterRole']",
            "keys: kinds, api_groups, namespaces, names, changes, clusters, apps, labels",
        ),
        (
            "rendered:\n  kinds: [Deployment]\n  labels: [team]\n",
            3,
            ".rendered.labels",
            "must map label keys to value globs",
            'e.g. labels: {tier: "*"}',
        ),
        (
            "rendered:\n  clusters: prod\n",
            2,
            ".rendered.clusters",
            "must be a non-empty list of strings, got 'prod'",
            "",
        ),
        (
            "rendered:\n  kind: [Deployment]\n",
            2,
            ".rendered.kind",
            "unknown key 'kind'",
            "keys: kinds, api_groups, namespaces, names, changes, clusters, apps, labels",
        ),
        (
            "rendered:\n  changes:\n    - added\n    - created\n",
            4,
            ".rendered.changes[1]",
            "unknown change 'created'",
            "added|removed|modified",
        ),
        (
            'rendered:\n  names: [""]\n',
            2,
            ".rendered.names[0]",
            "must be a non-empty string, got ''",
            "",
        ),
        (
            "policy_findings:\n  severity: fatal\n",
            2,
            ".policy_findings.severity",
            "unknown severity 'fatal'",
            "error|warning|info",
        ),
        (
            "policy_findings:\n  severity: [error]\n",
            2,
            ".policy_findings.severity",
            "unknown severity ['error']",
            "error|warning|info",
        ),
        (
            "policy_findings:\n  requires_approval: 'yes'\n",
            2,
            ".policy_findings.requires_approval",
            "must be true or false, got 'yes'",
            "",
        ),
        (
            "policy_findings:\n  rule_ids: []\n",
            2,
            ".policy_findings.rule_ids",
            "must be a non-empty list of strings, got []",
            "",
        ),
        (
            "author: {}",
            1,
            ".author",
            "needs users or teams",
            "e.g. {users: [alice], teams: [org/sre]}",
        ),
        ("author: alice", 1, ".author", "must be a mapping, got 'alice'", "keys: users, teams"),
        (
            "author:\n  teams: [org/sre, sre]\n",
            2,
            ".author.teams[1]",
            "team 'sre' is not org/team",
            "",
        ),
        (
            "author_not:\n  user: [bot]\n",
            2,
            ".author_not.user",
            "unknown key 'user'",
            "keys: users, teams",
        ),
        (
            'title_matches:\n  - "^WIP"\n  - "(unclosed"\n',
            3,
            ".title_matches[1]",
            "invalid regular expression '(unclosed': missing ), unterminated subpattern at position 0",
            "",
        ),
        ("signatures: {}", 1, ".signatures", "needs `verified: true` or `verified: false`", ""),
        (
            "signatures:\n  verified: maybe\n",
            2,
            ".signatures.verified",
            "must be true or false, got 'maybe'",
            "",
        ),
        ("signatures: true", 1, ".signatures", "must be a mapping, got True", "keys: verified"),
    ],
    ids=[
        "unknown-key",
        "not-a-mapping",
        "list-is-a-string",
        "empty-list",
        "list-item-not-a-string",
        "list-item-empty",
        "target-branch-scalar",
        "list-is-a-mapping",
        "rendered-not-a-mapping",
        "rendered-labels-not-a-mapping",
        "rendered-clusters-a-string",
        "rendered-unknown-key",
        "rendered-unknown-change",
        "rendered-empty-name",
        "severity-unknown",
        "severity-not-a-string",
        "requires-approval-not-bool",
        "rule-ids-empty",
        "author-empty",
        "author-not-a-mapping",
        "team-without-org",
        "author-not-unknown-key",
        "bad-regex",
        "signatures-empty",
        "signatures-not-bool",
        "signatures-not-a-mapping",
    ],
)
def test_parse_invalid(snippet: str, line: int, path: str, message: str, hint: str) -> None:
    with pytest.raises(TrustedInputError) as caught:
        parse(snippet)
    error = caught.value
    assert error.message == f".gitops-bot.yaml: {RULE_PATH}{path}: {message}"
    assert error.location == Location(".gitops-bot.yaml", IF_LINE + line)
    assert error.hint == hint
