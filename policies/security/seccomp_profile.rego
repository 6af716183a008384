# METADATA
# title: Seccomp profile
# description: >-
#   A container runs without a seccomp profile of type RuntimeDefault or Localhost (neither the
#   container's nor the pod's `securityContext.seccompProfile` sets one).
# custom:
#   id: seccomp-profile
#   severity: warning
#   rationale: >-
#     Without a seccomp profile a container can call every system call of the node's kernel,
#     including the rarely used ones behind most kernel exploits. Kubernetes runs pods
#     Unconfined unless told otherwise. The Pod Security Standards (restricted) require
#     RuntimeDefault or Localhost.
#   remediation: >-
#     Set `securityContext.seccompProfile.type: RuntimeDefault` on the pod (it applies to every
#     container), or a Localhost profile where the runtime default is too strict.
package gitops_bot.security.seccomp_profile

import data.lib.kubernetes as k8s

confined := {"RuntimeDefault", "Localhost"}

warn contains result if {
	spec := k8s.input_pod_spec
	some e in k8s.input_containers
	profile := k8s.effective_security(spec, e.container, "seccompProfile")
	profile_type := k8s.string_at(profile, ["type"])
	not profile_type in confined
	result := {
		"msg": sprintf("%s: %s %s", [k8s.input_identity, e.what, describe(profile_type)]),
		"details": {
			"container": e.name,
			"type": profile_type,
			"field": sprintf("%s.securityContext.seccompProfile.type", [e.path]),
		},
	}
}

describe(profile_type) := "has no seccomp profile (RuntimeDefault or Localhost)" if {
	profile_type == ""
} else := sprintf("uses the seccomp profile %s, not RuntimeDefault or Localhost", [profile_type])
