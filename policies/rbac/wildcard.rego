# METADATA
# title: Wildcard RBAC rules
# description: A Role or ClusterRole rule grants `*` in `verbs` or `resources`.
# custom:
#   id: rbac-wildcard
#   severity: error
#   rationale: >-
#     A wildcard grants every verb or every resource, including those added later by new API
#     versions and CRDs (and verbs like escalate, bind, impersonate); the role silently becomes
#     far more powerful than anyone reviewed. Least privilege needs explicit lists.
#   remediation: >-
#     List the verbs (get, list, watch, ...) and resources the subject needs. Operators whose
#     charts require wildcards can disable this rule.
package gitops_bot.rbac.wildcard

import data.lib.kubernetes as k8s

is_role(r) if k8s.is_kind(r, "Role", {"rbac.authorization.k8s.io"})

is_role(r) if k8s.is_kind(r, "ClusterRole", {"rbac.authorization.k8s.io"})

deny contains result if {
	is_role(input)
	some i, rule in k8s.array_at(input, ["rules"])
	some field in ["verbs", "resources"]
	"*" in k8s.string_set(k8s.array_at(rule, [field]))
	result := {
		"msg": sprintf("%s: rules[%d] grants every %s (\"*\")", [k8s.input_identity, i, trim_suffix(field, "s")]),
		"details": {
			"apiGroups": k8s.array_at(rule, ["apiGroups"]),
			"resources": k8s.array_at(rule, ["resources"]),
			"verbs": k8s.array_at(rule, ["verbs"]),
			"field": sprintf("rules[%d].%s", [i, field]),
		},
	}
}
