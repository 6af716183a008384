# METADATA
# title: Required labels
# description: >-
#   A resource lacks one of the labels listed in the `required_labels` parameter. Inactive until
#   the parameter is set.
# custom:
#   id: required-labels
#   severity: error
#   rationale: >-
#     Labels such as owner, team or app are how people, cost reports, alerts and policies find
#     who is responsible for a resource. A resource without them is orphaned from the start.
#   remediation: >-
#     Add the missing labels under `metadata.labels` (kustomize's `labels:` / `commonLabels:`
#     adds them to every resource of a kustomization).
#   parameters:
#     required_labels: >-
#       Label keys every resource must carry, e.g. [app.kubernetes.io/name, team]. The rule is
#       inactive when unset or empty.
package gitops_bot.hygiene.required_labels

import data.lib.kubernetes as k8s

required := k8s.string_set(k8s.parameter("required_labels"))

deny contains result if {
	count(required) > 0
	k8s.input_kind != ""
	present := {key | some key, _ in k8s.labels(input)}
	missing := sort(required - present)
	count(missing) > 0
	result := {
		"msg": sprintf(
			"%s: missing required label(s) %s",
			[k8s.input_identity, concat(", ", missing)],
		),
		"details": {"missing": missing, "field": "metadata.labels"},
	}
}
