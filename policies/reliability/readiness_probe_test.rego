package gitops_bot.reliability.readiness_probe_test

import data.gitops_bot.reliability.readiness_probe
import data.lib.fixtures_test as f

no_probe_spec := f.spec_with({"containers": [object.remove(f.good_container, ["readinessProbe"])]})

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(readiness_probe.warn) == 0 with input as w
	}
}

test_jobs_are_not_checked if {
	every w in [f.job(no_probe_spec), f.cronjob(no_probe_spec)] {
		count(readiness_probe.warn) == 0 with input as w
	}
}

test_pod_without_readiness_probe if {
	inp := f.pod(no_probe_spec)
	results := readiness_probe.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Pod web: container "app" has no readiness probe`
}

test_statefulset_without_readiness_probe if {
	inp := f.statefulset(no_probe_spec)
	results := readiness_probe.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `StatefulSet web: container "app" has no readiness probe`
	r.details.field == "spec.template.spec.containers[0].readinessProbe"
}
