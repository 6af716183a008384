package gitops_bot.security.privilege_escalation_test

import data.gitops_bot.security.privilege_escalation
import data.lib.fixtures_test as f

escalating_spec := f.spec_with_container({"securityContext": {"allowPrivilegeEscalation": true}})

unset_spec := f.spec_with({"containers": [json.remove(f.good_container, ["securityContext/allowPrivilegeEscalation"])]})

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(privilege_escalation.warn) == 0 with input as w
	}
}

test_pod_allowing_escalation if {
	inp := f.pod(escalating_spec)
	results := privilege_escalation.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Pod web: container "app" does not set securityContext.allowPrivilegeEscalation: false`
	r.details.field == "spec.containers[0].securityContext.allowPrivilegeEscalation"
}

test_statefulset_leaving_it_unset if {
	inp := f.statefulset(unset_spec)
	results := privilege_escalation.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `StatefulSet web: container "app" does not set securityContext.allowPrivilegeEscalation: false`
}

test_job_init_container_without_security_context if {
	spec := object.union(f.good_pod_spec, {"initContainers": [{"name": "migrate", "image": "app:1"}]})
	inp := f.job(spec)
	results := privilege_escalation.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Job web: init container "migrate" does not set securityContext.allowPrivilegeEscalation: false`
}
