package gitops_bot.security.host_namespaces_test

import data.gitops_bot.security.host_namespaces
import data.lib.fixtures_test as f

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(host_namespaces.deny) == 0 with input as w
	}
}

test_false_values_pass if {
	spec := f.spec_with({"hostNetwork": false, "hostPID": false, "hostIPC": false})
	inp := f.pod(spec)
	count(host_namespaces.deny) == 0 with input as inp
}

test_pod_host_network if {
	inp := f.pod(f.spec_with({"hostNetwork": true}))
	results := host_namespaces.deny with input as inp
	count(results) == 1
	some r in results
	r.msg == "Pod web: the pod sets hostNetwork: true"
	r.details.field == "spec.hostNetwork"
}

test_daemonset_every_host_namespace if {
	spec := f.spec_with({"hostNetwork": true, "hostPID": true, "hostIPC": true})
	inp := f.daemonset(spec)
	results := host_namespaces.deny with input as inp
	count(results) == 3
	{r.msg | some r in results} == {
		"DaemonSet web: the pod sets hostNetwork: true",
		"DaemonSet web: the pod sets hostPID: true",
		"DaemonSet web: the pod sets hostIPC: true",
	}
}

test_cronjob_host_pid if {
	inp := f.cronjob(f.spec_with({"hostPID": true}))
	results := host_namespaces.deny with input as inp
	count(results) == 1
	some r in results
	r.details.field == "spec.jobTemplate.spec.template.spec.hostPID"
}
