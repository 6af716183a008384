# METADATA
# title: NodePort Service
# description: >-
#   A Service has `type: NodePort`.
# custom:
#   id: service-node-port
#   severity: warning
#   rationale: >-
#     A NodePort Service opens the same port on every node of the cluster, reachable wherever
#     the nodes are, outside network policies' usual view, from a small shared port range that
#     collides easily.
#   remediation: >-
#     Use a ClusterIP Service, exposed through an Ingress or Gateway when it must be reached from
#     outside the cluster.
package gitops_bot.networking.service_node_port

import data.lib.kubernetes as k8s

warn contains result if {
	k8s.is_kind(input, "Service", {""})
	input.spec.type == "NodePort"
	result := {
		"msg": sprintf("%s: the Service has type NodePort", [k8s.input_identity]),
		"details": {
			"nodePorts": [p.nodePort | some p in k8s.array_at(input, ["spec", "ports"]); is_number(p.nodePort)],
			"field": "spec.type",
		},
	}
}
