package gitops_bot.reliability.memory_limits_test

import data.gitops_bot.reliability.memory_limits
import data.lib.fixtures_test as f

no_limit_spec := f.spec_with({"containers": [json.remove(f.good_container, ["resources/limits"])]})

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(memory_limits.warn) == 0 with input as w
	}
}

test_pod_without_memory_limit if {
	inp := f.pod(no_limit_spec)
	results := memory_limits.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Pod web: container "app" has no memory limit`
	r.details == {"container": "app", "field": "spec.containers[0].resources.limits.memory"}
}

test_job_without_memory_limit if {
	inp := f.job(no_limit_spec)
	results := memory_limits.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Job web: container "app" has no memory limit`
}
