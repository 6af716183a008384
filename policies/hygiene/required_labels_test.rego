package gitops_bot.hygiene.required_labels_test

import data.gitops_bot.hygiene.required_labels
import data.lib.fixtures_test as f

test_inactive_without_parameter if {
	inp := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web"}}
	count(required_labels.deny) == 0 with input as inp
	count(required_labels.deny) == 0 with input as inp with data.gitops_bot.parameters as {"required_labels": []}
}

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(required_labels.deny) == 0 with input as w with data.gitops_bot.parameters as {"required_labels": ["app", "team"]}
	}
}

test_pod_missing_labels if {
	inp := f.pod(f.good_pod_spec)
	results := required_labels.deny with input as inp
		with data.gitops_bot.parameters as {"required_labels": ["team", "owner", "cost-center"]}
	count(results) == 1
	some r in results
	r.msg == "Pod web: missing required label(s) cost-center, owner"
	r.details == {"missing": ["cost-center", "owner"], "field": "metadata.labels"}
}

test_deployment_without_labels if {
	inp := json.remove(f.deployment(f.good_pod_spec), ["metadata/labels"])
	results := required_labels.deny with input as inp
		with data.gitops_bot.parameters as {"required_labels": ["team"]}
	count(results) == 1
	some r in results
	r.msg == "Deployment web: missing required label(s) team"
}
