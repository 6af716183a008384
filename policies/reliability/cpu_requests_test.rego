package gitops_bot.reliability.cpu_requests_test

import data.gitops_bot.reliability.cpu_requests
import data.lib.fixtures_test as f

no_cpu_spec := f.spec_with({"containers": [json.remove(f.good_container, ["resources/requests/cpu"])]})

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(cpu_requests.warn) == 0 with input as w
	}
}

test_cpu_limit_alone_passes if {
	inp := f.pod(f.spec_with_container({"resources": {"requests": {"cpu": null}, "limits": {"cpu": "1"}}}))
	count(cpu_requests.warn) == 0 with input as inp
}

test_pod_without_cpu_request if {
	inp := f.pod(no_cpu_spec)
	results := cpu_requests.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Pod web: container "app" has no CPU request`
	r.details == {"container": "app", "field": "spec.containers[0].resources.requests.cpu"}
}

test_deployment_init_container_without_resources if {
	inp := f.deployment(object.union(f.good_pod_spec, {"initContainers": [{"name": "setup", "image": "busybox:1.36"}]}))
	results := cpu_requests.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Deployment web: init container "setup" has no CPU request`
}

test_ephemeral_containers_are_not_checked if {
	inp := f.pod(object.union(f.good_pod_spec, {"ephemeralContainers": [{"name": "debug", "image": "busybox:1.36"}]}))
	count(cpu_requests.warn) == 0 with input as inp
}
