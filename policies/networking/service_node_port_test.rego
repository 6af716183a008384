package gitops_bot.networking.service_node_port_test

import data.gitops_bot.networking.service_node_port

service(type) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"type": type, "selector": {"app": "web"}, "ports": [{"port": 80, "nodePort": 30080}]},
}

test_cluster_ip_passes if {
	inp := service("ClusterIP")
	count(service_node_port.warn) == 0 with input as inp
}

test_load_balancer_is_not_this_rule if {
	inp := service("LoadBalancer")
	count(service_node_port.warn) == 0 with input as inp
}

test_node_port if {
	inp := service("NodePort")
	results := service_node_port.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == "Service web: the Service has type NodePort"
	r.details == {"nodePorts": [30080], "field": "spec.type"}
}
