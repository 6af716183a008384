package gitops_bot.security.run_as_non_root_test

import data.gitops_bot.security.run_as_non_root
import data.lib.fixtures_test as f

# No runAsNonRoot anywhere.
unset_spec := f.spec_with({
	"securityContext": {"runAsNonRoot": null},
	"containers": [json.remove(f.good_container, ["securityContext/runAsNonRoot"])],
})

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(run_as_non_root.warn) == 0 with input as w
	}
}

test_pod_level_setting_is_enough if {
	spec := f.spec_with({"containers": [json.remove(f.good_container, ["securityContext/runAsNonRoot"])]})
	inp := f.pod(spec)
	count(run_as_non_root.warn) == 0 with input as inp
}

test_non_zero_run_as_user_is_enough if {
	spec := object.union(unset_spec, {"securityContext": {"runAsUser": 10001}})
	inp := f.deployment(spec)
	count(run_as_non_root.warn) == 0 with input as inp
}

test_pod_without_run_as_non_root if {
	inp := f.pod(unset_spec)
	results := run_as_non_root.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Pod web: container "app" may run as root: runAsNonRoot is not true in the container or pod securityContext`
}

test_container_overrides_pod_with_false if {
	inp := f.deployment(f.spec_with_container({"securityContext": {"runAsNonRoot": false}}))
	results := run_as_non_root.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Deployment web: container "app" may run as root: runAsNonRoot is not true in the container or pod securityContext`
}

test_cronjob_explicit_root_user if {
	inp := f.cronjob(f.spec_with_container({"securityContext": {"runAsUser": 0}}))
	results := run_as_non_root.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `CronJob web: container "app" runs as root (runAsUser: 0)`
	r.details.field == "spec.jobTemplate.spec.template.spec.containers[0].securityContext.runAsUser"
}
