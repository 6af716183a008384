package gitops_bot.networking.ingress_wildcard_host_test

import data.gitops_bot.networking.ingress_wildcard_host

ingress(hosts) := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "Ingress",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"rules": [{"host": h} | some h in hosts]},
}

test_exact_hosts_pass if {
	inp := ingress(["shop.example.com", "api.example.com"])
	count(ingress_wildcard_host.warn) == 0 with input as inp
}

test_wildcard_host if {
	inp := ingress(["shop.example.com", "*.example.com"])
	results := ingress_wildcard_host.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == "Ingress web: rule 1 uses the wildcard host *.example.com"
	r.details == {"host": "*.example.com", "field": "spec.rules[1].host"}
}
