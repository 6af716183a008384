# METADATA
# title: Privilege escalation allowed
# description: >-
#   A container does not set `securityContext.allowPrivilegeEscalation` to false (Kubernetes
#   allows escalation by default).
# custom:
#   id: privilege-escalation-allowed
#   severity: warning
#   rationale: >-
#     With privilege escalation allowed, a process can gain more privileges than its parent
#     (setuid binaries, file capabilities), turning a foothold in the container into root. The
#     Pod Security Standards (restricted) require `allowPrivilegeEscalation: false`.
#   remediation: >-
#     Set `securityContext.allowPrivilegeEscalation: false` on every container.
package gitops_bot.security.privilege_escalation

import data.lib.kubernetes as k8s

warn contains result if {
	some e in k8s.input_containers
	not e.container.securityContext.allowPrivilegeEscalation == false
	result := {
		"msg": sprintf(
			"%s: %s does not set securityContext.allowPrivilegeEscalation: false",
			[k8s.input_identity, e.what],
		),
		"details": {
			"container": e.name,
			"field": sprintf("%s.securityContext.allowPrivilegeEscalation", [e.path]),
		},
	}
}
