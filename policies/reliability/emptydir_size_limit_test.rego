package gitops_bot.reliability.emptydir_size_limit_test

import data.gitops_bot.reliability.emptydir_size_limit
import data.lib.fixtures_test as f

unbounded_spec := f.spec_with({"volumes": [
	{"name": "config", "configMap": {"name": "web"}},
	{"name": "cache", "emptyDir": {"medium": "Memory"}},
]})

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(emptydir_size_limit.warn) == 0 with input as w
	}
}

test_pod_emptydir_without_limit if {
	inp := f.pod(unbounded_spec)
	results := emptydir_size_limit.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Pod web: emptyDir volume "cache" has no sizeLimit`
	r.details == {"volume": "cache", "medium": "Memory", "field": "spec.volumes[1].emptyDir.sizeLimit"}
}

test_deployment_empty_emptydir if {
	inp := f.deployment(f.spec_with({"volumes": [{"name": "tmp", "emptyDir": {}}]}))
	results := emptydir_size_limit.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Deployment web: emptyDir volume "tmp" has no sizeLimit`
	r.details.field == "spec.template.spec.volumes[0].emptyDir.sizeLimit"
}
