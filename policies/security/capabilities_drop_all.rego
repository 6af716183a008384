# METADATA
# title: Capabilities not dropped
# description: A container does not drop ALL Linux capabilities (`securityContext.capabilities.drop`).
# custom:
#   id: capabilities-not-dropped
#   severity: warning
#   rationale: >-
#     Container runtimes grant a default set of capabilities (CHOWN, DAC_OVERRIDE, FOWNER,
#     SETUID, NET_RAW, ...) that most applications never use but an attacker can. Dropping ALL
#     and adding back only what is needed is the least-privilege baseline; the Pod Security
#     Standards (restricted) require it.
#   remediation: >-
#     Set `securityContext.capabilities.drop: [ALL]` on every container, and add back only the
#     capabilities the process needs (e.g. NET_BIND_SERVICE).
package gitops_bot.security.capabilities_drop_all

import data.lib.kubernetes as k8s

drops_all(c) if {
	some cap in k8s.array_at(c, ["securityContext", "capabilities", "drop"])
	is_string(cap)
	upper(cap) in {"ALL", "CAP_ALL"}
}

warn contains result if {
	some e in k8s.input_containers
	not drops_all(e.container)
	result := {
		"msg": sprintf(
			"%s: %s does not drop ALL capabilities",
			[k8s.input_identity, e.what],
		),
		"details": {"container": e.name, "field": sprintf("%s.securityContext.capabilities.drop", [e.path])},
	}
}
