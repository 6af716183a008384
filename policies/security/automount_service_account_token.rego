# METADATA
# title: Service account token mounted
# description: >-
#   A pod or ServiceAccount does not set `automountServiceAccountToken: false`, so the pod gets
#   an API token mounted.
# custom:
#   id: automount-service-account-token
#   severity: warning
#   rationale: >-
#     Every container of the pod can read the mounted token and call the Kubernetes API with its
#     service account's permissions. Most applications never talk to the API; for them the token
#     is only something for an attacker to steal.
#   remediation: >-
#     Set `automountServiceAccountToken: false` on the ServiceAccount or the pod spec. Pods that
#     do call the API can mount a projected token explicitly, or keep the default and disable
#     this rule.
package gitops_bot.security.automount_service_account_token

import data.lib.kubernetes as k8s

warn contains result if {
	spec := k8s.input_pod_spec
	not spec.automountServiceAccountToken == false
	result := {
		"msg": sprintf(
			"%s: the pod does not set automountServiceAccountToken: false",
			[k8s.input_identity],
		),
		"details": {
			"serviceAccountName": k8s.string_at(spec, ["serviceAccountName"]),
			"field": sprintf("%s.automountServiceAccountToken", [k8s.pod_spec_field(input)]),
		},
	}
}

warn contains result if {
	k8s.is_kind(input, "ServiceAccount", {""})
	not input.automountServiceAccountToken == false
	result := {
		"msg": sprintf(
			"%s: the service account does not set automountServiceAccountToken: false",
			[k8s.input_identity],
		),
		"details": {"field": "automountServiceAccountToken"},
	}
}
