package gitops_bot.hygiene.default_namespace_test

import data.gitops_bot.hygiene.default_namespace
import data.lib.fixtures_test as f

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(default_namespace.warn) == 0 with input as w
	}
}

test_cluster_scoped_and_custom_kinds_without_namespace_pass if {
	every r in [
		{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
		{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "x"}},
		{"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": "le"}},
	] {
		count(default_namespace.warn) == 0 with input as r
	}
}

test_pod_in_default_namespace if {
	inp := json.patch(f.pod(f.good_pod_spec), [{"op": "replace", "path": "/metadata/namespace", "value": "default"}])
	results := default_namespace.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == "Pod web: uses the default namespace"
	r.details == {"field": "metadata.namespace"}
}

test_deployment_without_namespace if {
	inp := json.remove(f.deployment(f.good_pod_spec), ["metadata/namespace"])
	results := default_namespace.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == "Deployment web: sets no namespace (it lands in the default namespace, or wherever the applying tool points)"
}
