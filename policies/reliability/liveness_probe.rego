# METADATA
# title: Missing liveness probe
# description: >-
#   A long-running container (a regular container or a native sidecar, in a pod that is not a
#   Job's and does not use `restartPolicy: Never|OnFailure`) has no `livenessProbe`.
# custom:
#   id: liveness-probe-missing
#   severity: warning
#   rationale: >-
#     Without a liveness probe a process that hangs (deadlock, exhausted thread pool) keeps its
#     container running forever; Kubernetes only restarts containers whose process exits.
#   remediation: >-
#     Add a `livenessProbe` that fails only when the process cannot recover by itself (not when
#     a dependency is down), with a generous `failureThreshold` or a `startupProbe` for slow
#     starts.
package gitops_bot.reliability.liveness_probe

import data.lib.kubernetes as k8s

warn contains result if {
	not k8s.runs_to_completion(input)
	some e in k8s.serving_containers(input)
	not is_object(object.get(e.container, "livenessProbe", null))
	result := {
		"msg": sprintf("%s: %s has no liveness probe", [k8s.input_identity, e.what]),
		"details": {"container": e.name, "field": sprintf("%s.livenessProbe", [e.path])},
	}
}
