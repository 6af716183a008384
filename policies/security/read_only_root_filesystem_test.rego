package gitops_bot.security.read_only_root_filesystem_test

import data.gitops_bot.security.read_only_root_filesystem
import data.lib.fixtures_test as f

writable_spec := f.spec_with_container({"securityContext": {"readOnlyRootFilesystem": false}})

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(read_only_root_filesystem.warn) == 0 with input as w
	}
}

test_pod_writable_root if {
	inp := f.pod(writable_spec)
	results := read_only_root_filesystem.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Pod web: container "app" does not set securityContext.readOnlyRootFilesystem: true`
}

test_deployment_init_container_without_setting if {
	spec := object.union(f.good_pod_spec, {"initContainers": [{"name": "setup", "image": "busybox:1.36"}]})
	inp := f.deployment(spec)
	results := read_only_root_filesystem.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Deployment web: init container "setup" does not set securityContext.readOnlyRootFilesystem: true`
	r.details.field == "spec.template.spec.initContainers[0].securityContext.readOnlyRootFilesystem"
}
