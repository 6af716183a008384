from bot.core.policy.metadata import package_of, read_metadata
from bot.model.finding import Severity

SOURCE = """\
# METADATA
# title: Privileged containers
# custom:
#   id: privileged-container
#   severity: error
#   approvers: [platform-team, "@alice"]
package gitops_bot.security.privileged

# METADATA
# title: only a warning
# custom:
#   severity: warning
warn contains msg if {
  msg := "x"
}

deny contains msg if { msg := "y" }
"""


def test_package_and_rule_scope_metadata():
    package_scope, rule_scope = read_metadata(SOURCE)
    assert package_scope.package == "gitops_bot.security.privileged"
    assert (package_scope.rule, package_scope.rule_id, package_scope.severity) == (
        "",
        "privileged-container",
        Severity.ERROR,
    )
    assert package_scope.approvers == ("platform-team", "@alice")
    assert (rule_scope.rule, rule_scope.severity, rule_scope.title) == (
        "warn",
        Severity.WARNING,
        "only a warning",
    )


def test_no_metadata_and_broken_metadata_are_harmless():
    assert read_metadata("package main\ndeny contains 1 if true\n") == []
    (broken,) = read_metadata("# METADATA\n# custom: [unclosed\npackage main\n")
    assert (broken.package, broken.rule_id) == ("main", "")
    assert package_of("# comment\n  package  a.b_c.d\n") == "a.b_c.d"
