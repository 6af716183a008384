package gitops_bot.networking.service_load_balancer_test

import data.gitops_bot.networking.service_load_balancer

service(type) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"type": type, "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
}

test_cluster_ip_passes if {
	inp := service("ClusterIP")
	count(service_load_balancer.warn) == 0 with input as inp
}

test_other_kinds_pass if {
	inp := {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"type": "LoadBalancer"}}
	count(service_load_balancer.warn) == 0 with input as inp
}

test_load_balancer if {
	inp := service("LoadBalancer")
	results := service_load_balancer.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == "Service web: the Service has type LoadBalancer"
	r.details == {"loadBalancerSourceRanges": [], "field": "spec.type"}
}
