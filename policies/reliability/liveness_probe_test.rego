package gitops_bot.reliability.liveness_probe_test

import data.gitops_bot.reliability.liveness_probe
import data.lib.fixtures_test as f

no_probe_spec := f.spec_with({"containers": [object.remove(f.good_container, ["livenessProbe"])]})

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(liveness_probe.warn) == 0 with input as w
	}
}

test_jobs_and_run_once_pods_are_not_checked if {
	every w in [f.job(no_probe_spec), f.cronjob(no_probe_spec), f.pod(object.union(no_probe_spec, {"restartPolicy": "Never"}))] {
		count(liveness_probe.warn) == 0 with input as w
	}
}

test_plain_init_containers_are_not_checked if {
	inp := f.pod(object.union(f.good_pod_spec, {"initContainers": [{"name": "setup", "image": "busybox:1.36"}]}))
	count(liveness_probe.warn) == 0 with input as inp
}

test_pod_without_liveness_probe if {
	inp := f.pod(no_probe_spec)
	results := liveness_probe.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Pod web: container "app" has no liveness probe`
	r.details == {"container": "app", "field": "spec.containers[0].livenessProbe"}
}

test_deployment_without_liveness_probe if {
	inp := f.deployment(no_probe_spec)
	results := liveness_probe.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Deployment web: container "app" has no liveness probe`
}

test_native_sidecar_without_liveness_probe if {
	sidecar := {"name": "proxy", "image": "envoy:1.30", "restartPolicy": "Always"}
	inp := f.daemonset(object.union(f.good_pod_spec, {"initContainers": [sidecar]}))
	results := liveness_probe.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `DaemonSet web: init container "proxy" has no liveness probe`
}
