# METADATA
# title: hostPath volumes
# description: A pod mounts a directory or file of the node through a `hostPath` volume.
# custom:
#   id: host-path-volume
#   severity: error
#   rationale: >-
#     A hostPath volume gives the pod the node's file system: the container runtime socket,
#     kubelet credentials, other pods' data. Writable mounts of paths like / or /var/run are a
#     direct route to the node. The Pod Security Standards (baseline) forbid hostPath volumes.
#   remediation: >-
#     Use a PersistentVolumeClaim, an emptyDir, a ConfigMap/Secret or a CSI volume instead. Node
#     agents (log shippers, CSI drivers) that need the host's files can disable this rule.
package gitops_bot.security.host_path

import data.lib.kubernetes as k8s

deny contains result if {
	spec := k8s.input_pod_spec
	some i, volume in k8s.array_at(spec, ["volumes"])
	host_path := volume.hostPath
	path := k8s.string_at(host_path, ["path"])
	result := {
		"msg": sprintf(
			"%s: volume \"%s\" mounts the host path \"%s\"",
			[k8s.input_identity, k8s.string_at(volume, ["name"]), path],
		),
		"details": {
			"volume": k8s.string_at(volume, ["name"]),
			"path": path,
			"field": sprintf("%s.volumes[%d].hostPath", [k8s.pod_spec_field(input), i]),
		},
	}
}
