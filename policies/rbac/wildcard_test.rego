package gitops_bot.rbac.wildcard_test

import data.gitops_bot.rbac.wildcard

role(kind, rules) := {
	"apiVersion": "rbac.authorization.k8s.io/v1",
	"kind": kind,
	"metadata": {"name": "ops", "namespace": "shop"},
	"rules": rules,
}

test_explicit_rules_pass if {
	inp := role("Role", [{"apiGroups": [""], "resources": ["pods", "configmaps"], "verbs": ["get", "list", "watch"]}])
	count(wildcard.deny) == 0 with input as inp
}

test_role_with_wildcard_verbs if {
	inp := role("Role", [
		{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
		{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]},
	])
	results := wildcard.deny with input as inp
	count(results) == 1
	some r in results
	r.msg == `Role ops: rules[1] grants every verb ("*")`
	r.details.field == "rules[1].verbs"
}

test_cluster_role_with_wildcard_verbs_and_resources if {
	inp := role("ClusterRole", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])
	results := wildcard.deny with input as inp
	count(results) == 2
	{r.msg | some r in results} == {
		`ClusterRole ops: rules[0] grants every verb ("*")`,
		`ClusterRole ops: rules[0] grants every resource ("*")`,
	}
}
