# METADATA
# title: Missing memory limit
# description: A container does not set `resources.limits.memory`.
# custom:
#   id: memory-limits-missing
#   severity: warning
#   rationale: >-
#     Memory is not compressible: a container without a limit can grow until the node runs out,
#     and then the kernel's OOM killer picks victims among all pods of the node. With a limit
#     only the leaking container is restarted.
#   remediation: >-
#     Set `resources.limits.memory` (commonly equal to, or a little above, the memory request).
package gitops_bot.reliability.memory_limits

import data.lib.kubernetes as k8s

warn contains result if {
	some e in k8s.scheduled_containers(input)
	object.get(k8s.object_at(e.container, ["resources", "limits"]), "memory", null) == null
	result := {
		"msg": sprintf("%s: %s has no memory limit", [k8s.input_identity, e.what]),
		"details": {"container": e.name, "field": sprintf("%s.resources.limits.memory", [e.path])},
	}
}
