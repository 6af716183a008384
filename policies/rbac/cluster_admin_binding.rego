# METADATA
# title: Binding to cluster-admin
# description: >-
#   A ClusterRoleBinding (or a RoleBinding) grants the `cluster-admin` ClusterRole.
# custom:
#   id: cluster-admin-binding
#   severity: error
#   rationale: >-
#     cluster-admin can do anything to every resource: read every Secret, change RBAC, run
#     privileged pods. Whoever holds the bound subject's credentials owns the cluster; through a
#     RoleBinding it still owns the namespace, including its Secrets and RBAC.
#   remediation: >-
#     Bind a role with only the permissions the subject needs (the built-in `admin`, `edit` or
#     `view` ClusterRoles, or a dedicated Role), in a RoleBinding where possible.
package gitops_bot.rbac.cluster_admin_binding

import data.lib.kubernetes as k8s

scope(r) := "the whole cluster" if {
	k8s.is_kind(r, "ClusterRoleBinding", {"rbac.authorization.k8s.io"})
}

scope(r) := sprintf("namespace %s", [ns]) if {
	k8s.is_kind(r, "RoleBinding", {"rbac.authorization.k8s.io"})
	ns := object.get({"": "(the default namespace)"}, k8s.namespace(r), k8s.namespace(r))
}

subject_names(r) := [sprintf("%s %s", [k8s.string_at(s, ["kind"]), k8s.string_at(s, ["name"])]) |
	some s in k8s.array_at(r, ["subjects"])
]

deny contains result if {
	where := scope(input)
	input.roleRef.kind == "ClusterRole"
	input.roleRef.name == "cluster-admin"
	subjects := subject_names(input)
	result := {
		"msg": sprintf(
			"%s: grants cluster-admin on %s to %s",
			[k8s.input_identity, where, describe(subjects)],
		),
		"details": {"subjects": subjects, "field": "roleRef.name"},
	}
}

describe(subjects) := "no subjects" if {
	count(subjects) == 0
} else := concat(", ", subjects)
