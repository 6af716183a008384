# METADATA
# title: Added Linux capabilities
# description: >-
#   A container adds Linux capabilities outside the allow-list (`securityContext.capabilities.add`).
# custom:
#   id: capabilities-added
#   severity: error
#   rationale: >-
#     Capabilities such as SYS_ADMIN, NET_ADMIN, SYS_PTRACE or SYS_MODULE give a container
#     kernel-level power that is most of the way to privileged, and are the usual ingredients of
#     container escapes. The Pod Security Standards (restricted) allow adding only
#     NET_BIND_SERVICE.
#   remediation: >-
#     Remove the capability from `capabilities.add`. If the workload really needs it, extend the
#     allow-list with the `allowed_capabilities` parameter, or disable the rule.
#   parameters:
#     allowed_capabilities: >-
#       Capabilities a container may add (names with or without the CAP_ prefix). Default:
#       [NET_BIND_SERVICE].
package gitops_bot.security.capabilities_added

import data.lib.kubernetes as k8s

default_allowed := {"NET_BIND_SERVICE"}

canonical(cap) := trim_prefix(upper(cap), "CAP_")

allowed := {canonical(c) | some c in k8s.parameter("allowed_capabilities"); is_string(c)} if {
	is_array(k8s.parameter("allowed_capabilities"))
} else := default_allowed

deny contains result if {
	some e in k8s.input_containers
	added := k8s.string_set(k8s.array_at(e.container, ["securityContext", "capabilities", "add"]))
	extra := {canonical(c) | some c in added} - allowed
	count(extra) > 0
	names := sort(extra)
	result := {
		"msg": sprintf(
			"%s: %s adds capabilities outside the allow-list: %s",
			[k8s.input_identity, e.what, concat(", ", names)],
		),
		"details": {
			"container": e.name,
			"capabilities": names,
			"allowed": sort(allowed),
			"field": sprintf("%s.securityContext.capabilities.add", [e.path]),
		},
	}
}
