# METADATA
# title: LoadBalancer Service
# description: >-
#   A Service has `type: LoadBalancer`.
# custom:
#   id: service-load-balancer
#   severity: warning
#   rationale: >-
#     A LoadBalancer Service provisions a cloud load balancer, usually reachable from the
#     internet unless annotated otherwise, and billed per Service. Exposure is easier to review
#     and to protect (TLS, authentication, WAF) when it goes through a shared Ingress or Gateway.
#   remediation: >-
#     Use a ClusterIP Service behind an Ingress or Gateway, or make the load balancer internal
#     (cloud-specific annotation) and restrict `loadBalancerSourceRanges`; disable the rule for
#     repositories that deliberately expose Services this way.
package gitops_bot.networking.service_load_balancer

import data.lib.kubernetes as k8s

warn contains result if {
	k8s.is_kind(input, "Service", {""})
	input.spec.type == "LoadBalancer"
	result := {
		"msg": sprintf("%s: the Service has type LoadBalancer", [k8s.input_identity]),
		"details": {
			"loadBalancerSourceRanges": k8s.array_at(input, ["spec", "loadBalancerSourceRanges"]),
			"field": "spec.type",
		},
	}
}
