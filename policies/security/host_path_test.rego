package gitops_bot.security.host_path_test

import data.gitops_bot.security.host_path
import data.lib.fixtures_test as f

host_path_spec := f.spec_with({"volumes": [
	{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
	{"name": "docker", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}},
]})

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(host_path.deny) == 0 with input as w
	}
}

test_pod_host_path if {
	inp := f.pod(host_path_spec)
	results := host_path.deny with input as inp
	count(results) == 1
	some r in results
	r.msg == `Pod web: volume "docker" mounts the host path "/var/run/docker.sock"`
	r.details == {"volume": "docker", "path": "/var/run/docker.sock", "field": "spec.volumes[1].hostPath"}
}

test_daemonset_host_path if {
	inp := f.daemonset(host_path_spec)
	results := host_path.deny with input as inp
	count(results) == 1
	some r in results
	r.msg == `DaemonSet web: volume "docker" mounts the host path "/var/run/docker.sock"`
	r.details.field == "spec.template.spec.volumes[1].hostPath"
}
