# METADATA
# title: emptyDir without size limit
# description: A pod's `emptyDir` volume has no `sizeLimit`.
# custom:
#   id: emptydir-size-limit
#   severity: warning
#   rationale: >-
#     An emptyDir lives on the node's disk (or, with `medium: Memory`, in its RAM) and grows
#     without bound: a runaway log or cache fills the node and gets other pods evicted. With a
#     sizeLimit the kubelet evicts only the offending pod.
#   remediation: >-
#     Set `emptyDir.sizeLimit` (e.g. `1Gi`) on every emptyDir volume, and a memory limit on the
#     containers using a memory-backed one.
package gitops_bot.reliability.emptydir_size_limit

import data.lib.kubernetes as k8s

warn contains result if {
	spec := k8s.input_pod_spec
	some i, volume in k8s.array_at(spec, ["volumes"])
	is_object(volume)
	"emptyDir" in object.keys(volume)
	object.get(k8s.object_at(volume, ["emptyDir"]), "sizeLimit", null) == null
	name := k8s.string_at(volume, ["name"])
	result := {
		"msg": sprintf("%s: emptyDir volume \"%s\" has no sizeLimit", [k8s.input_identity, name]),
		"details": {
			"volume": name,
			"medium": k8s.string_at(volume, ["emptyDir", "medium"]),
			"field": sprintf("%s.volumes[%d].emptyDir.sizeLimit", [k8s.pod_spec_field(input), i]),
		},
	}
}
