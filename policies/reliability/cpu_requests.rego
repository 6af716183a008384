# METADATA
# title: Missing CPU request
# description: A container sets neither `resources.requests.cpu` nor `resources.limits.cpu`.
# custom:
#   id: cpu-requests-missing
#   severity: warning
#   rationale: >-
#     The scheduler places pods by their requests. Without a CPU request the pod is scheduled as
#     if it needed no CPU, lands on busy nodes, and is the first to be starved under contention
#     (BestEffort/Burstable QoS). Autoscalers that work on CPU utilisation need it too.
#   remediation: >-
#     Set `resources.requests.cpu` to the container's typical usage (e.g. `100m`). A CPU limit
#     alone also works, since the request then defaults to the limit. A namespace LimitRange
#     may set a default; this rule cannot see it and can be disabled then.
package gitops_bot.reliability.cpu_requests

import data.lib.kubernetes as k8s

has_cpu(c) if object.get(k8s.object_at(c, ["resources", "requests"]), "cpu", null) != null

has_cpu(c) if object.get(k8s.object_at(c, ["resources", "limits"]), "cpu", null) != null

warn contains result if {
	some e in k8s.scheduled_containers(input)
	not has_cpu(e.container)
	result := {
		"msg": sprintf("%s: %s has no CPU request", [k8s.input_identity, e.what]),
		"details": {"container": e.name, "field": sprintf("%s.resources.requests.cpu", [e.path])},
	}
}
