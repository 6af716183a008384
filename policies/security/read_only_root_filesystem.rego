# METADATA
# title: Writable root file system
# description: >-
#   A container does not set `securityContext.readOnlyRootFilesystem: true`.
# custom:
#   id: read-only-root-filesystem
#   severity: warning
#   rationale: >-
#     A writable root file system lets an attacker drop tools, modify binaries or persist
#     changes for the life of the container, and lets a buggy process fill the node's disk. A
#     read-only root makes the image the only source of code that runs.
#   remediation: >-
#     Set `securityContext.readOnlyRootFilesystem: true` and mount an emptyDir (with a
#     sizeLimit) where the application must write, e.g. /tmp.
package gitops_bot.security.read_only_root_filesystem

import data.lib.kubernetes as k8s

warn contains result if {
	some e in k8s.input_containers
	not e.container.securityContext.readOnlyRootFilesystem == true
	result := {
		"msg": sprintf(
			"%s: %s does not set securityContext.readOnlyRootFilesystem: true",
			[k8s.input_identity, e.what],
		),
		"details": {"container": e.name, "field": sprintf("%s.securityContext.readOnlyRootFilesystem", [e.path])},
	}
}
