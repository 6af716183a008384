# METADATA
# title: Ingress without TLS
# description: >-
#   An Ingress has no `spec.tls` entry, or serves a host that none of its `spec.tls` entries
#   covers.
# custom:
#   id: ingress-tls-missing
#   severity: warning
#   rationale: >-
#     Without TLS the traffic (credentials, session cookies, personal data) crosses the network
#     in clear text and can be read or modified on the way.
#   remediation: >-
#     Add a `spec.tls` entry listing the Ingress's hosts with a certificate Secret (e.g. issued
#     by cert-manager through its annotation).
package gitops_bot.networking.ingress_tls

import data.lib.kubernetes as k8s

is_ingress(r) if k8s.is_kind(r, "Ingress", {"networking.k8s.io", "extensions"})

tls_entries := [t | some t in k8s.array_at(input, ["spec", "tls"]); is_object(t)]

tls_hosts := {h | some t in tls_entries; some h in k8s.string_set(k8s.array_at(t, ["hosts"]))}

covered(host) if host in tls_hosts

# A wildcard certificate host covers one more label: *.example.com covers a.example.com.
covered(host) if {
	some pattern in tls_hosts
	startswith(pattern, "*.")
	suffix := trim_prefix(pattern, "*")
	endswith(host, suffix)
	not contains(trim_suffix(host, suffix), ".")
}

warn contains result if {
	is_ingress(input)
	count(tls_entries) == 0
	result := {
		"msg": sprintf("%s: the Ingress has no TLS (spec.tls is empty)", [k8s.input_identity]),
		"details": {"field": "spec.tls"},
	}
}

warn contains result if {
	is_ingress(input)
	count(tls_entries) > 0
	some i, rule in k8s.array_at(input, ["spec", "rules"])
	host := k8s.string_at(rule, ["host"])
	host != ""
	not covered(host)
	result := {
		"msg": sprintf("%s: host %s is not covered by spec.tls", [k8s.input_identity, host]),
		"details": {"host": host, "field": sprintf("spec.rules[%d].host", [i])},
	}
}
