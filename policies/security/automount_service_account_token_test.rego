package gitops_bot.security.automount_service_account_token_test

import data.gitops_bot.security.automount_service_account_token as automount
import data.lib.fixtures_test as f

mounting_spec := object.remove(f.good_pod_spec, ["automountServiceAccountToken"])

service_account(extra) := object.union(
	{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web", "namespace": "shop"}},
	extra,
)

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(automount.warn) == 0 with input as w
	}
}

test_service_account_opting_out_passes if {
	inp := service_account({"automountServiceAccountToken": false})
	count(automount.warn) == 0 with input as inp
}

test_pod_mounting_the_token if {
	inp := f.pod(mounting_spec)
	results := automount.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == "Pod web: the pod does not set automountServiceAccountToken: false"
	r.details.field == "spec.automountServiceAccountToken"
}

test_deployment_mounting_the_token if {
	inp := f.deployment(object.union(mounting_spec, {"serviceAccountName": "web"}))
	results := automount.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == "Deployment web: the pod does not set automountServiceAccountToken: false"
	r.details == {"serviceAccountName": "web", "field": "spec.template.spec.automountServiceAccountToken"}
}

test_service_account_mounting_the_token if {
	inp := service_account({})
	results := automount.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == "ServiceAccount web: the service account does not set automountServiceAccountToken: false"
}
