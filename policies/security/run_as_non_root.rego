# METADATA
# title: Containers may run as root
# description: >-
#   Neither the container nor the pod sets `securityContext.runAsNonRoot: true` (nor a non-zero
#   `runAsUser`), or the container explicitly runs as UID 0.
# custom:
#   id: run-as-non-root
#   severity: warning
#   rationale: >-
#     Most images run as root unless told otherwise. Root in a container is root on the node's
#     kernel: a container escape or a writable host mount then has full power. With
#     `runAsNonRoot: true` the kubelet refuses to start a container whose image would run as UID
#     0. The Pod Security Standards (restricted) require it.
#   remediation: >-
#     Set `securityContext.runAsNonRoot: true` on the pod (it applies to every container) or on
#     each container, and build the image with a non-root `USER` (or set `runAsUser` to a
#     non-zero UID).
package gitops_bot.security.run_as_non_root

import data.lib.kubernetes as k8s

# The container's UID as the kubelet will use it (container over pod); null when unset.
run_as_user(spec, c) := k8s.effective_security(spec, c, "runAsUser")

non_root(spec, c) if k8s.effective_security(spec, c, "runAsNonRoot") == true

non_root(spec, c) if {
	uid := run_as_user(spec, c)
	is_number(uid)
	uid > 0
}

warn contains result if {
	spec := k8s.input_pod_spec
	some e in k8s.input_containers
	run_as_user(spec, e.container) == 0
	result := {
		"msg": sprintf("%s: %s runs as root (runAsUser: 0)", [k8s.input_identity, e.what]),
		"details": {"container": e.name, "field": sprintf("%s.securityContext.runAsUser", [e.path])},
	}
}

warn contains result if {
	spec := k8s.input_pod_spec
	some e in k8s.input_containers
	not run_as_user(spec, e.container) == 0
	not non_root(spec, e.container)
	result := {
		"msg": sprintf(
			"%s: %s may run as root: runAsNonRoot is not true in the container or pod securityContext",
			[k8s.input_identity, e.what],
		),
		"details": {"container": e.name, "field": sprintf("%s.securityContext.runAsNonRoot", [e.path])},
	}
}
