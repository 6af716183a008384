package gitops_bot.networking.ingress_tls_test

import data.gitops_bot.networking.ingress_tls

ingress(spec) := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "Ingress",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": spec,
}

rules(hosts) := [{"host": h, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}} | some h in hosts]

test_tls_for_every_host_passes if {
	inp := ingress({
		"tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}, {"hosts": ["*.api.example.com"], "secretName": "api-tls"}],
		"rules": rules(["shop.example.com", "v1.api.example.com"]),
	})
	count(ingress_tls.warn) == 0 with input as inp
}

test_ingress_without_tls if {
	inp := ingress({"rules": rules(["shop.example.com"])})
	results := ingress_tls.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == "Ingress web: the Ingress has no TLS (spec.tls is empty)"
}

test_host_outside_tls if {
	inp := ingress({
		"tls": [{"hosts": ["*.example.com"], "secretName": "wild"}],
		"rules": rules(["shop.example.com", "a.b.example.com"]),
	})
	results := ingress_tls.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == "Ingress web: host a.b.example.com is not covered by spec.tls"
	r.details == {"host": "a.b.example.com", "field": "spec.rules[1].host"}
}

test_extensions_ingress_is_checked if {
	inp := object.union(ingress({"rules": rules(["shop.example.com"])}), {"apiVersion": "extensions/v1beta1"})
	count(ingress_tls.warn) == 1 with input as inp
}
