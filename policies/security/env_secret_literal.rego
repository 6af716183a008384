# METADATA
# title: Secrets in environment variable literals
# description: >-
#   A container sets an environment variable whose name looks like a secret (password, secret,
#   token, api_key, apikey) to a literal `value` in the manifest.
# custom:
#   id: env-secret-literal
#   severity: error
#   rationale: >-
#     A literal value is committed to Git, visible to everyone who can read the repository or the
#     workload object (`kubectl get -o yaml`), and shows up in diffs and review comments.
#     Credentials belong in a Secret (ideally one synced from a secret manager or encrypted in
#     Git with SOPS/Sealed Secrets).
#   remediation: >-
#     Move the value into a Secret and reference it with `valueFrom.secretKeyRef` (or `envFrom`
#     a Secret); rotate the credential, since it is in the Git history.
package gitops_bot.security.env_secret_literal

import data.lib.kubernetes as k8s

secret_name_pattern := `(?i)(password|secret|token|api_?key)`

# `$(OTHER_VAR)` only refers to another variable: no secret is written down.
reference_pattern := `^\$\([A-Za-z_][A-Za-z0-9_.-]*\)$`

deny contains result if {
	some e in k8s.input_containers
	some i, env in k8s.array_at(e.container, ["env"])
	is_object(env)
	name := k8s.string_at(env, ["name"])
	regex.match(secret_name_pattern, name)
	value := object.get(env, "value", "")
	not value in {"", null}
	not is_reference(value)
	# The message never repeats the value.
	result := {
		"msg": sprintf(
			"%s: %s sets the secret-looking variable %s to a literal value",
			[k8s.input_identity, e.what, name],
		),
		"details": {"container": e.name, "variable": name, "field": sprintf("%s.env[%d].value", [e.path, i])},
	}
}

is_reference(value) if {
	is_string(value)
	regex.match(reference_pattern, value)
}
