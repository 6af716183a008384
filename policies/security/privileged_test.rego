package gitops_bot.security.privileged_test

import data.gitops_bot.security.privileged
import data.lib.fixtures_test as f

privileged_spec := f.spec_with_container({"securityContext": {"privileged": true}})

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(privileged.deny) == 0 with input as w
	}
}

test_privileged_false_passes if {
	inp := f.pod(f.spec_with_container({"securityContext": {"privileged": false}}))
	count(privileged.deny) == 0 with input as inp
}

test_pod_privileged_container if {
	inp := f.pod(privileged_spec)
	results := privileged.deny with input as inp
	count(results) == 1
	some r in results
	r.msg == `Pod web: container "app" is privileged`
	r.details == {"container": "app", "field": "spec.containers[0].securityContext.privileged"}
}

test_deployment_privileged_container if {
	inp := f.deployment(privileged_spec)
	results := privileged.deny with input as inp
	count(results) == 1
	some r in results
	r.msg == `Deployment web: container "app" is privileged`
	r.details.field == "spec.template.spec.containers[0].securityContext.privileged"
}

test_every_workload_kind_is_checked if {
	every w in f.all_workloads(privileged_spec) {
		count(privileged.deny) == 1 with input as w
	}
}

test_cronjob_init_and_ephemeral_containers if {
	spec := object.union(f.good_pod_spec, {
		"initContainers": [{"name": "setup", "image": "busybox:1.36", "securityContext": {"privileged": true}}],
		"ephemeralContainers": [{"name": "debug", "image": "busybox:1.36", "securityContext": {"privileged": true}}],
	})
	inp := f.cronjob(spec)
	results := privileged.deny with input as inp
	{r.msg | some r in results} == {
		`CronJob web: init container "setup" is privileged`,
		`CronJob web: ephemeral container "debug" is privileged`,
	}
}
