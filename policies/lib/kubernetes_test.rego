package lib.kubernetes_test

import data.lib.fixtures_test as f
import data.lib.kubernetes as k8s

# --- safe lookups

test_lookups_fall_back_on_wrong_types if {
	k8s.object_at({"a": "text"}, ["a"]) == {}
	k8s.object_at(3, ["a"]) == {}
	k8s.array_at({"a": {"b": 1}}, ["a"]) == []
	k8s.array_at({"a": [1]}, ["a"]) == [1]
	k8s.string_at({"a": 1}, ["a"]) == ""
	k8s.string_at({"a": {"b": "x"}}, ["a", "b"]) == "x"
	k8s.string_set(["a", 1, "b", "a"]) == {"a", "b"}
	k8s.string_set("a") == set()
}

# --- identity

test_identity if {
	k8s.identity(f.deployment(f.good_pod_spec)) == "Deployment web"
	k8s.identity({"kind": "Pod", "metadata": {"generateName": "job-"}}) == "Pod job-*"
	k8s.identity({"kind": "Pod"}) == "Pod (unnamed)"
}

test_api_group if {
	k8s.api_group({"apiVersion": "apps/v1"}) == "apps"
	k8s.api_group({"apiVersion": "v1"}) == ""
	k8s.api_group({}) == ""
}

# --- pod specs

test_pod_spec_of_every_workload_kind if {
	every w in f.all_workloads(f.good_pod_spec) {
		k8s.pod_spec(w).containers == [f.good_container]
	}
}

test_pod_spec_field if {
	k8s.pod_spec_field(f.pod(f.good_pod_spec)) == "spec"
	k8s.pod_spec_field(f.deployment(f.good_pod_spec)) == "spec.template.spec"
	k8s.pod_spec_field(f.cronjob(f.good_pod_spec)) == "spec.jobTemplate.spec.template.spec"
}

test_no_pod_spec_for_other_kinds if {
	not k8s.pod_spec({"apiVersion": "v1", "kind": "Service", "spec": {"containers": []}})
	not k8s.pod_spec({"apiVersion": "example.com/v1", "kind": "Deployment", "spec": {"template": {"spec": {}}}})
	not k8s.pod_spec({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": {"spec": "oops"}}})
	not k8s.pod_spec([{"kind": "Pod"}])
}

test_pod_labels if {
	k8s.pod_labels(f.deployment(f.good_pod_spec)) == {"app": "web"}
	k8s.pod_labels(f.cronjob(f.good_pod_spec)) == {"app": "web"}
	k8s.pod_labels(f.pod(f.good_pod_spec)) == f.metadata.labels
}

test_runs_to_completion if {
	k8s.runs_to_completion(f.job(f.good_pod_spec))
	k8s.runs_to_completion(f.cronjob(f.good_pod_spec))
	k8s.runs_to_completion(f.pod(f.spec_with({"restartPolicy": "Never"})))
	not k8s.runs_to_completion(f.pod(f.good_pod_spec))
	not k8s.runs_to_completion(f.deployment(f.good_pod_spec))
}

# --- containers

spec_with_every_container_kind := object.union(f.good_pod_spec, {
	"initContainers": [
		{"name": "setup", "image": "busybox:1.36"},
		{"name": "proxy", "image": "envoy:1.30", "restartPolicy": "Always"},
	],
	"ephemeralContainers": [{"name": "debug", "image": "busybox:1.36"}],
})

test_containers_lists_every_kind_with_paths if {
	entries := k8s.containers(f.deployment(spec_with_every_container_kind))
	[e.what | some e in entries] == [
		`init container "setup"`,
		`init container "proxy"`,
		`container "app"`,
		`ephemeral container "debug"`,
	]
	[e.path | some e in entries] == [
		"spec.template.spec.initContainers[0]",
		"spec.template.spec.initContainers[1]",
		"spec.template.spec.containers[0]",
		"spec.template.spec.ephemeralContainers[0]",
	]
}

test_scheduled_containers_leave_out_ephemeral if {
	entries := k8s.scheduled_containers(f.pod(spec_with_every_container_kind))
	[e.name | some e in entries] == ["setup", "proxy", "app"]
}

test_serving_containers_are_regular_and_sidecars if {
	entries := k8s.serving_containers(f.pod(spec_with_every_container_kind))
	[e.name | some e in entries] == ["proxy", "app"]
}

test_containers_skip_malformed_entries if {
	k8s.containers(f.pod({"containers": "oops"})) == []
	[e.name | some e in k8s.containers(f.pod({"containers": [1, {"name": "a"}]}))] == ["a"]
	k8s.containers({"apiVersion": "v1", "kind": "Service"}) == []
}

test_effective_security if {
	spec := {"securityContext": {"runAsUser": 1000, "runAsNonRoot": true}}
	k8s.effective_security(spec, {"securityContext": {"runAsUser": 0}}, "runAsUser") == 0
	k8s.effective_security(spec, {}, "runAsUser") == 1000
	k8s.effective_security({}, {}, "runAsUser") == null
	k8s.effective_security(spec, {"securityContext": {"runAsNonRoot": false}}, "runAsNonRoot") == false
}

# --- images

test_image_reference if {
	k8s.image_reference("nginx") == {"registry": "docker.io", "repository": "library/nginx", "tag": "", "digest": ""}
	k8s.image_reference("bitnami/redis:7.2") == {"registry": "docker.io", "repository": "bitnami/redis", "tag": "7.2", "digest": ""}
	k8s.image_reference("ghcr.io/acme/app:1.2@sha256:abc") == {"registry": "ghcr.io", "repository": "acme/app", "tag": "1.2", "digest": "sha256:abc"}
	k8s.image_reference("localhost:5000/app") == {"registry": "localhost:5000", "repository": "app", "tag": "", "digest": ""}
	k8s.image_reference("Index.Docker.io/foo/bar:latest").registry == "docker.io"
	k8s.image_reference("quay.io/a/b/c@sha256:def") == {"registry": "quay.io", "repository": "a/b/c", "tag": "", "digest": "sha256:def"}
	not k8s.image_reference(3)
}

# --- combine mode

test_combined_resources if {
	inp := [
		{"path": "a.yaml", "contents": [{"kind": "A"}, "text", {"kind": "B"}]},
		{"path": "c.yaml", "contents": {"kind": "C"}},
		{"path": "empty.yaml", "contents": null},
		"junk",
	]
	k8s.combined_resources(inp) == [
		{"path": "a.yaml", "line": 1, "resource": {"kind": "A"}},
		{"path": "a.yaml", "line": 1, "resource": {"kind": "B"}},
		{"path": "c.yaml", "line": 1, "resource": {"kind": "C"}},
	]
	k8s.combined_resources({"kind": "Pod"}) == []
}

test_combined_resources_keep_a_given_line if {
	inp := [{"path": "a.yaml", "line": 12, "contents": {"kind": "A"}}, {"path": "b.yaml", "line": "x", "contents": {}}]
	k8s.combined_resources(inp) == [
		{"path": "a.yaml", "line": 12, "resource": {"kind": "A"}},
		{"path": "b.yaml", "line": 1, "resource": {}},
	]
}

# --- selectors

test_selector_match_labels if {
	k8s.selector_matches({"matchLabels": {"app": "web"}}, {"app": "web", "tier": "front"})
	not k8s.selector_matches({"matchLabels": {"app": "web", "tier": "back"}}, {"app": "web", "tier": "front"})
}

test_selector_empty_and_null if {
	k8s.selector_matches({}, {"app": "web"})
	not k8s.selector_matches(null, {"app": "web"})
}

test_selector_match_expressions if {
	labels := {"app": "web", "tier": "front"}
	k8s.selector_matches({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "x"]}]}, labels)
	not k8s.selector_matches({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["back"]}]}, labels)
	k8s.selector_matches({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["back"]}]}, labels)
	k8s.selector_matches({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, labels)
	k8s.selector_matches({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, labels)
	not k8s.selector_matches({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}, labels)
	k8s.selector_matches({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}, labels)
	not k8s.selector_matches({"matchExpressions": [{"key": "app", "operator": "Bogus"}]}, labels)
}

# --- parameters

test_parameter if {
	k8s.parameter("x") == [1] with data.gitops_bot.parameters as {"x": [1]}
	not k8s.parameter("x") with data.gitops_bot.parameters as {}
}
