# METADATA
# title: Ingress with a wildcard host
# description: An Ingress rule's host is a wildcard (`*` or `*.example.com`).
# custom:
#   id: ingress-wildcard-host
#   severity: warning
#   rationale: >-
#     A wildcard host routes every matching name to this backend, including names other teams
#     intend to serve; in a shared ingress controller it can capture (or hijack) their traffic,
#     and typo or attacker-chosen subdomains reach the application.
#   remediation: >-
#     List the exact host names the application serves.
package gitops_bot.networking.ingress_wildcard_host

import data.lib.kubernetes as k8s

warn contains result if {
	k8s.is_kind(input, "Ingress", {"networking.k8s.io", "extensions"})
	some i, rule in k8s.array_at(input, ["spec", "rules"])
	host := k8s.string_at(rule, ["host"])
	startswith(host, "*")
	result := {
		"msg": sprintf("%s: rule %d uses the wildcard host %s", [k8s.input_identity, i, host]),
		"details": {"host": host, "field": sprintf("spec.rules[%d].host", [i])},
	}
}
