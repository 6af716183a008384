# METADATA
# title: Privileged containers
# description: A container sets `securityContext.privileged` to true.
# custom:
#   id: privileged-container
#   severity: error
#   rationale: >-
#     A privileged container has every capability and access to all host devices; escaping it
#     to the node is trivial, so one compromised process owns the node and its other pods. The
#     Pod Security Standards (baseline) forbid it.
#   remediation: >-
#     Remove `privileged: true`. If the container needs one specific kernel feature, add only
#     that capability, or run the workload in a dedicated namespace with an admission exemption.
package gitops_bot.security.privileged

import data.lib.kubernetes as k8s

deny contains result if {
	some e in k8s.input_containers
	e.container.securityContext.privileged == true
	result := {
		"msg": sprintf("%s: %s is privileged", [k8s.input_identity, e.what]),
		"details": {"container": e.name, "field": sprintf("%s.securityContext.privileged", [e.path])},
	}
}
