# METADATA
# title: Image registry not allowed
# description: >-
#   A container image comes from a registry (or repository prefix) that is not in the
#   `allowed_registries` parameter. Inactive until the parameter is set.
# custom:
#   id: image-registry-not-allowed
#   severity: error
#   rationale: >-
#     Images from arbitrary registries bypass the organisation's scanning, signing and mirroring,
#     and a typo-squatted name on a public registry runs someone else's code in the cluster.
#   remediation: >-
#     Use an image from an allowed registry (mirror it there), or add the registry to
#     `policies.builtin.parameters.allowed_registries`.
#   parameters:
#     allowed_registries: >-
#       Registry hosts or repository prefixes, e.g. [registry.example.com, ghcr.io/acme,
#       docker.io/library]. Images without a registry are docker.io images ("nginx" is
#       docker.io/library/nginx). The rule is inactive when unset or empty.
package gitops_bot.security.image_registry

import data.lib.kubernetes as k8s

allowed := [trim_suffix(lower(a), "/") | some a in k8s.parameter("allowed_registries"); is_string(a)] if {
	is_array(k8s.parameter("allowed_registries"))
}

# "registry.example.com" allows every image of that registry; "ghcr.io/acme" only that prefix.
is_allowed(ref) if {
	full := concat("/", [ref.registry, ref.repository])
	some prefix in allowed
	prefix != ""
	startswith(concat("", [full, "/"]), concat("", [prefix, "/"]))
}

deny contains result if {
	count(allowed) > 0
	some e in k8s.input_containers
	image := k8s.string_at(e.container, ["image"])
	image != ""
	ref := k8s.image_reference(image)
	not is_allowed(ref)
	result := {
		"msg": sprintf(
			"%s: %s uses the image %s from %s, which is not an allowed registry",
			[k8s.input_identity, e.what, image, ref.registry],
		),
		"details": {
			"container": e.name,
			"image": image,
			"registry": ref.registry,
			"allowed_registries": allowed,
			"field": sprintf("%s.image", [e.path]),
		},
	}
}
