# METADATA
# title: Missing PodDisruptionBudget
# description: >-
#   A Deployment or StatefulSet with more than one replica has no PodDisruptionBudget in its
#   namespace whose selector matches its pod template's labels. Evaluated once over all
#   resources (combine mode: the input is conftest's `--combine` array of {path, contents}).
# custom:
#   id: pdb-missing
#   severity: warning
#   input: combine
#   rationale: >-
#     Node drains (upgrades, autoscaler scale-downs) evict pods without regard for the
#     application. Without a PodDisruptionBudget they may evict all replicas at once, and a
#     service that was deliberately run with several replicas still goes down.
#   remediation: >-
#     Add a PodDisruptionBudget (policy/v1) in the same namespace whose selector matches the pod
#     template's labels, with `maxUnavailable: 1` or a `minAvailable` below the replica count.
package gitops_bot.reliability.pdb_missing

import data.lib.kubernetes as k8s

# Functions rather than rules: the bot reads the whole package (`data.<package>`) and a rule
# holding every resource would be copied into each result.
budgets(documents) := [pdb |
	some d in documents
	pdb := d.resource
	k8s.is_kind(pdb, "PodDisruptionBudget", {"policy"})
]

covered(r, pdbs) if {
	some pdb in pdbs
	k8s.namespace(pdb) == k8s.namespace(r)
	k8s.selector_matches(object.get(k8s.object_at(pdb, ["spec"]), "selector", null), k8s.pod_labels(r))
}

warn contains result if {
	documents := k8s.combined_resources(input)
	pdbs := budgets(documents)
	some d in documents
	r := d.resource
	k8s.kind(r) in {"Deployment", "StatefulSet"}
	k8s.is_workload(r)
	replicas := r.spec.replicas
	is_number(replicas)
	replicas > 1
	not covered(r, pdbs)
	result := {
		"msg": sprintf(
			"%s: %d replicas but no PodDisruptionBudget selects its pods",
			[k8s.identity(r), replicas],
		),
		"details": {"namespace": k8s.namespace(r), "replicas": replicas, "path": d.path},
		"_loc": {"file": d.path, "line": d.line},
	}
}
