# METADATA
# title: Missing readiness probe
# description: >-
#   A long-running container (a regular container or a native sidecar, in a pod that is not a
#   Job's and does not use `restartPolicy: Never|OnFailure`) has no `readinessProbe`.
# custom:
#   id: readiness-probe-missing
#   severity: warning
#   rationale: >-
#     Without a readiness probe a pod receives traffic as soon as its containers start, before
#     the application can serve, and keeps receiving it when it cannot; rolling updates then
#     replace working pods with ones that are not ready yet.
#   remediation: >-
#     Add a `readinessProbe` that checks the container can serve requests (e.g. an HTTP
#     endpoint).
package gitops_bot.reliability.readiness_probe

import data.lib.kubernetes as k8s

warn contains result if {
	not k8s.runs_to_completion(input)
	some e in k8s.serving_containers(input)
	not is_object(object.get(e.container, "readinessProbe", null))
	result := {
		"msg": sprintf("%s: %s has no readiness probe", [k8s.input_identity, e.what]),
		"details": {"container": e.name, "field": sprintf("%s.readinessProbe", [e.path])},
	}
}
