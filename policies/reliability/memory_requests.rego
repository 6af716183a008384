# METADATA
# title: Missing memory request
# description: A container sets neither `resources.requests.memory` nor `resources.limits.memory`.
# custom:
#   id: memory-requests-missing
#   severity: warning
#   rationale: >-
#     Without a memory request the scheduler can pack the pod onto a node that has no memory
#     for it, and under memory pressure the kubelet evicts pods without requests first.
#   remediation: >-
#     Set `resources.requests.memory` to the container's working set (e.g. `128Mi`). A memory
#     limit alone also works, since the request then defaults to the limit.
package gitops_bot.reliability.memory_requests

import data.lib.kubernetes as k8s

has_memory(c) if object.get(k8s.object_at(c, ["resources", "requests"]), "memory", null) != null

has_memory(c) if object.get(k8s.object_at(c, ["resources", "limits"]), "memory", null) != null

warn contains result if {
	some e in k8s.scheduled_containers(input)
	not has_memory(e.container)
	result := {
		"msg": sprintf("%s: %s has no memory request", [k8s.input_identity, e.what]),
		"details": {"container": e.name, "field": sprintf("%s.resources.requests.memory", [e.path])},
	}
}
