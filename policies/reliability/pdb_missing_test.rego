package gitops_bot.reliability.pdb_missing_test

import data.gitops_bot.reliability.pdb_missing
import data.lib.fixtures_test as f

pdb(namespace, selector) := {
	"apiVersion": "policy/v1",
	"kind": "PodDisruptionBudget",
	"metadata": {"name": "web", "namespace": namespace},
	"spec": {"maxUnavailable": 1, "selector": selector},
}

combined(resources) := [{"path": sprintf("apps/r%d.yaml", [i]), "contents": r} | some i, r in resources]

test_covered_deployment_passes if {
	inp := combined([f.deployment(f.good_pod_spec), pdb("shop", {"matchLabels": {"app": "web"}})])
	count(pdb_missing.warn) == 0 with input as inp
}

test_match_expressions_and_multi_document_files if {
	selector := {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]}
	inp := [{"path": "apps/web.yaml", "contents": [f.statefulset(f.good_pod_spec), pdb("shop", selector)]}]
	count(pdb_missing.warn) == 0 with input as inp
}

test_single_replica_and_other_kinds_pass if {
	one := json.patch(f.deployment(f.good_pod_spec), [{"op": "replace", "path": "/spec/replicas", "value": 1}])
	inp := combined([one, f.daemonset(f.good_pod_spec), f.pod(f.good_pod_spec)])
	count(pdb_missing.warn) == 0 with input as inp
}

test_per_resource_input_is_ignored if {
	inp := f.deployment(f.good_pod_spec)
	count(pdb_missing.warn) == 0 with input as inp
}

test_deployment_without_pdb if {
	inp := combined([f.deployment(f.good_pod_spec)])
	results := pdb_missing.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == "Deployment web: 2 replicas but no PodDisruptionBudget selects its pods"
	r.details == {"namespace": "shop", "replicas": 2, "path": "apps/r0.yaml"}
	r._loc == {"file": "apps/r0.yaml", "line": 1}
}

test_location_uses_a_given_line if {
	inp := [{"path": "apps/all.yaml", "line": 40, "contents": f.deployment(f.good_pod_spec)}]
	results := pdb_missing.warn with input as inp
	count(results) == 1
	some r in results
	r._loc == {"file": "apps/all.yaml", "line": 40}
}

test_pdb_in_another_namespace_or_selecting_other_pods if {
	inp := combined([
		f.statefulset(f.good_pod_spec),
		pdb("other", {"matchLabels": {"app": "web"}}),
		pdb("shop", {"matchLabels": {"app": "api"}}),
	])
	results := pdb_missing.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == "StatefulSet web: 3 replicas but no PodDisruptionBudget selects its pods"
}
