package gitops_bot.reliability.memory_requests_test

import data.gitops_bot.reliability.memory_requests
import data.lib.fixtures_test as f

no_memory_spec := f.spec_with({"containers": [json.remove(f.good_container, ["resources/requests/memory", "resources/limits/memory"])]})

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(memory_requests.warn) == 0 with input as w
	}
}

test_memory_limit_alone_passes if {
	inp := f.pod(f.spec_with({"containers": [json.remove(f.good_container, ["resources/requests/memory"])]}))
	count(memory_requests.warn) == 0 with input as inp
}

test_pod_without_memory_request if {
	inp := f.pod(no_memory_spec)
	results := memory_requests.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Pod web: container "app" has no memory request`
}

test_statefulset_without_memory_request if {
	inp := f.statefulset(no_memory_spec)
	results := memory_requests.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `StatefulSet web: container "app" has no memory request`
	r.details.field == "spec.template.spec.containers[0].resources.requests.memory"
}
