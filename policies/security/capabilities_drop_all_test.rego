package gitops_bot.security.capabilities_drop_all_test

import data.gitops_bot.security.capabilities_drop_all
import data.lib.fixtures_test as f

not_dropping_spec := f.spec_with_container({"securityContext": {"capabilities": {"drop": ["NET_RAW"]}}})

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(capabilities_drop_all.warn) == 0 with input as w
	}
}

test_lowercase_all_passes if {
	inp := f.pod(f.spec_with_container({"securityContext": {"capabilities": {"drop": ["all"]}}}))
	count(capabilities_drop_all.warn) == 0 with input as inp
}

test_pod_not_dropping_all if {
	inp := f.pod(not_dropping_spec)
	results := capabilities_drop_all.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Pod web: container "app" does not drop ALL capabilities`
}

test_replicaset_not_dropping_all if {
	inp := f.replicaset(not_dropping_spec)
	results := capabilities_drop_all.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `ReplicaSet web: container "app" does not drop ALL capabilities`
	r.details.field == "spec.template.spec.containers[0].securityContext.capabilities.drop"
}
