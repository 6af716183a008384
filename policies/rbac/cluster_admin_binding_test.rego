package gitops_bot.rbac.cluster_admin_binding_test

import data.gitops_bot.rbac.cluster_admin_binding

binding(kind, role) := {
	"apiVersion": "rbac.authorization.k8s.io/v1",
	"kind": kind,
	"metadata": {"name": "ci", "namespace": "shop"},
	"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
	"subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}],
}

test_other_roles_pass if {
	inp := binding("ClusterRoleBinding", "view")
	count(cluster_admin_binding.deny) == 0 with input as inp
}

test_cluster_role_binding_to_cluster_admin if {
	inp := binding("ClusterRoleBinding", "cluster-admin")
	results := cluster_admin_binding.deny with input as inp
	count(results) == 1
	some r in results
	r.msg == "ClusterRoleBinding ci: grants cluster-admin on the whole cluster to ServiceAccount deployer"
	r.details == {"subjects": ["ServiceAccount deployer"], "field": "roleRef.name"}
}

test_role_binding_to_cluster_admin if {
	inp := binding("RoleBinding", "cluster-admin")
	results := cluster_admin_binding.deny with input as inp
	count(results) == 1
	some r in results
	r.msg == "RoleBinding ci: grants cluster-admin on namespace shop to ServiceAccount deployer"
}
