package gitops_bot.security.host_port_test

import data.gitops_bot.security.host_port
import data.lib.fixtures_test as f

host_port_spec := f.spec_with_container({"ports": [{"containerPort": 8080, "hostPort": 80}]})

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(host_port.warn) == 0 with input as w
	}
}

test_host_port_zero_passes if {
	inp := f.pod(f.spec_with_container({"ports": [{"containerPort": 80, "hostPort": 0}]}))
	count(host_port.warn) == 0 with input as inp
}

test_pod_host_port if {
	inp := f.pod(host_port_spec)
	results := host_port.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Pod web: container "app" uses hostPort 80`
	r.details == {"container": "app", "hostPort": 80, "field": "spec.containers[0].ports[0].hostPort"}
}

test_daemonset_host_port if {
	inp := f.daemonset(host_port_spec)
	results := host_port.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `DaemonSet web: container "app" uses hostPort 80`
}
