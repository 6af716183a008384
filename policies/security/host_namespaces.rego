# METADATA
# title: Host namespaces
# description: A pod shares the node's network, PID or IPC namespace (hostNetwork, hostPID, hostIPC).
# custom:
#   id: host-namespaces
#   severity: error
#   rationale: >-
#     hostNetwork lets the pod see and bind every interface of the node and bypasses network
#     policies; hostPID lets it see and signal every process on the node; hostIPC lets it read
#     other processes' shared memory. Each breaks the isolation between the pod and the node.
#     The Pod Security Standards (baseline) forbid all three.
#   remediation: >-
#     Remove `hostNetwork`, `hostPID` and `hostIPC` (or set them to false). Expose ports through
#     a Service instead of the host network.
package gitops_bot.security.host_namespaces

import data.lib.kubernetes as k8s

host_fields := ["hostNetwork", "hostPID", "hostIPC"]

deny contains result if {
	spec := k8s.input_pod_spec
	some field in host_fields
	spec[field] == true
	result := {
		"msg": sprintf("%s: the pod sets %s: true", [k8s.input_identity, field]),
		"details": {"field": sprintf("%s.%s", [k8s.pod_spec_field(input), field])},
	}
}
