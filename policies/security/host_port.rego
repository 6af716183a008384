# METADATA
# title: Host ports
# description: A container port sets `hostPort`.
# custom:
#   id: host-port
#   severity: warning
#   rationale: >-
#     A hostPort binds the port on the node's own address: it bypasses Services and network
#     policies, exposes the pod wherever the node is reachable, and limits scheduling to one such
#     pod per node. The Pod Security Standards (baseline) disallow host ports.
#   remediation: >-
#     Remove `hostPort` and expose the port through a Service (ClusterIP, or a LoadBalancer or
#     Ingress for outside traffic). Node agents that truly need it can disable this rule.
package gitops_bot.security.host_port

import data.lib.kubernetes as k8s

warn contains result if {
	some e in k8s.input_containers
	some i, port in k8s.array_at(e.container, ["ports"])
	is_object(port)
	host_port := object.get(port, "hostPort", 0)
	is_number(host_port)
	host_port != 0
	result := {
		"msg": sprintf("%s: %s uses hostPort %d", [k8s.input_identity, e.what, host_port]),
		"details": {
			"container": e.name,
			"hostPort": host_port,
			"field": sprintf("%s.ports[%d].hostPort", [e.path, i]),
		},
	}
}
