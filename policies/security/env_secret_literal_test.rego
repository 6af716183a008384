package gitops_bot.security.env_secret_literal_test

import data.gitops_bot.security.env_secret_literal
import data.lib.fixtures_test as f

literal_spec := f.spec_with_container({"env": [
	{"name": "LOG_LEVEL", "value": "debug"},
	{"name": "db_password", "value": "hunter2"},
]})

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(env_secret_literal.deny) == 0 with input as w
	}
}

test_empty_and_reference_values_pass if {
	spec := f.spec_with_container({"env": [
		{"name": "API_TOKEN", "value": ""},
		{"name": "AUTH_TOKEN", "value": "$(API_TOKEN)"},
		{"name": "APIKEY", "valueFrom": {"secretKeyRef": {"name": "api", "key": "key"}}},
	]})
	inp := f.pod(spec)
	count(env_secret_literal.deny) == 0 with input as inp
}

test_pod_literal_password if {
	inp := f.pod(literal_spec)
	results := env_secret_literal.deny with input as inp
	count(results) == 1
	some r in results
	r.msg == `Pod web: container "app" sets the secret-looking variable db_password to a literal value`
	r.details == {"container": "app", "variable": "db_password", "field": "spec.containers[0].env[1].value"}
}

test_message_never_contains_the_value if {
	inp := f.pod(literal_spec)
	results := env_secret_literal.deny with input as inp
	every r in results {
		not contains(json.marshal(r), "hunter2")
	}
}

test_cronjob_every_secret_like_name if {
	spec := f.spec_with_container({"env": [
		{"name": "GITHUB_TOKEN", "value": "ghp_x"},
		{"name": "Stripe_Api_Key", "value": "sk_x"},
		{"name": "APIKEY", "value": "k"},
		{"name": "CLIENT_SECRET", "value": "s"},
	]})
	inp := f.cronjob(spec)
	results := env_secret_literal.deny with input as inp
	count(results) == 4
	some r in results
	r.msg == `CronJob web: container "app" sets the secret-looking variable GITHUB_TOKEN to a literal value`
}
