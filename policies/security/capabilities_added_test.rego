package gitops_bot.security.capabilities_added_test

import data.gitops_bot.security.capabilities_added
import data.lib.fixtures_test as f

adding_spec := f.spec_with_container({"securityContext": {"capabilities": {"add": ["NET_ADMIN", "CAP_SYS_ADMIN", "NET_BIND_SERVICE"]}}})

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(capabilities_added.deny) == 0 with input as w
	}
}

test_net_bind_service_is_allowed_by_default if {
	spec := f.spec_with_container({"securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"]}}})
	inp := f.pod(spec)
	count(capabilities_added.deny) == 0 with input as inp
}

test_pod_adding_capabilities if {
	inp := f.pod(adding_spec)
	results := capabilities_added.deny with input as inp
	count(results) == 1
	some r in results
	r.msg == `Pod web: container "app" adds capabilities outside the allow-list: NET_ADMIN, SYS_ADMIN`
	r.details.capabilities == ["NET_ADMIN", "SYS_ADMIN"]
}

test_deployment_adding_capabilities if {
	inp := f.deployment(adding_spec)
	results := capabilities_added.deny with input as inp
	count(results) == 1
	some r in results
	r.msg == `Deployment web: container "app" adds capabilities outside the allow-list: NET_ADMIN, SYS_ADMIN`
	r.details.field == "spec.template.spec.containers[0].securityContext.capabilities.add"
}

test_allow_list_parameter if {
	inp := f.deployment(adding_spec)
	results := capabilities_added.deny with input as inp
		with data.gitops_bot.parameters as {"allowed_capabilities": ["net_admin"]}
	count(results) == 1
	some r in results
	r.msg == `Deployment web: container "app" adds capabilities outside the allow-list: NET_BIND_SERVICE, SYS_ADMIN`
}
