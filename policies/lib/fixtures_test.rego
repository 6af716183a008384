# Test fixtures shared by the rule tests: a container and pod spec that pass every built-in
# rule, and the workload kinds wrapped around a pod spec. Being a `_test.rego` file, this module
# is loaded with the tests only, never into the bot's built-in policy set.
package lib.fixtures_test

import data.lib.kubernetes as k8s

metadata := {
	"name": "web",
	"namespace": "shop",
	"labels": {"app": "web", "team": "payments"},
}

# A container every rule accepts.
good_container := {
	"name": "app",
	"image": "registry.example.com/shop/web:1.4.2",
	"ports": [{"name": "http", "containerPort": 8080}],
	"env": [
		{"name": "LOG_LEVEL", "value": "info"},
		{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
	],
	"resources": {
		"requests": {"cpu": "100m", "memory": "128Mi"},
		"limits": {"memory": "256Mi"},
	},
	"livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
	"readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
	"securityContext": {
		"allowPrivilegeEscalation": false,
		"readOnlyRootFilesystem": true,
		"runAsNonRoot": true,
		"capabilities": {"drop": ["ALL"]},
		"seccompProfile": {"type": "RuntimeDefault"},
	},
	"volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
}

# A pod spec every rule accepts.
good_pod_spec := {
	"automountServiceAccountToken": false,
	"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
	"containers": [good_container],
	"volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
}

# good_container deep-merged with `patch`.
container(patch) := object.union(good_container, patch)

# good_pod_spec with one container: good_container deep-merged with `patch`.
spec_with_container(patch) := object.union(good_pod_spec, {"containers": [container(patch)]})

# good_pod_spec deep-merged with `patch` (pod-level fields).
spec_with(patch) := object.union(good_pod_spec, patch)

pod(spec) := {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}

template(spec) := {"metadata": {"labels": {"app": "web"}}, "spec": spec}

deployment(spec) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": metadata,
	"spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": template(spec)},
}

statefulset(spec) := {
	"apiVersion": "apps/v1",
	"kind": "StatefulSet",
	"metadata": metadata,
	"spec": {
		"replicas": 3,
		"serviceName": "web",
		"selector": {"matchLabels": {"app": "web"}},
		"template": template(spec),
	},
}

daemonset(spec) := {
	"apiVersion": "apps/v1",
	"kind": "DaemonSet",
	"metadata": metadata,
	"spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template(spec)},
}

replicaset(spec) := {
	"apiVersion": "apps/v1",
	"kind": "ReplicaSet",
	"metadata": metadata,
	"spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": template(spec)},
}

job(spec) := {
	"apiVersion": "batch/v1",
	"kind": "Job",
	"metadata": metadata,
	"spec": {"template": template(object.union(spec, {"restartPolicy": "Never"}))},
}

cronjob(spec) := {
	"apiVersion": "batch/v1",
	"kind": "CronJob",
	"metadata": metadata,
	"spec": {
		"schedule": "*/5 * * * *",
		"jobTemplate": {"spec": {"template": template(object.union(spec, {"restartPolicy": "OnFailure"}))}},
	},
}

# Every workload kind around the same pod spec.
all_workloads(spec) := [
	pod(spec),
	deployment(spec),
	statefulset(spec),
	daemonset(spec),
	replicaset(spec),
	job(spec),
	cronjob(spec),
]

test_every_fixture_kind_has_the_pod_spec if {
	every w in all_workloads(good_pod_spec) {
		k8s.pod_spec(w).containers == [good_container]
	}
}

test_container_patch_is_a_deep_merge if {
	c := container({"securityContext": {"privileged": true}})
	c.securityContext.privileged == true
	c.securityContext.runAsNonRoot == true
}
