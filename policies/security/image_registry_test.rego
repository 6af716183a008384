package gitops_bot.security.image_registry_test

import data.gitops_bot.security.image_registry
import data.lib.fixtures_test as f

allowed := {"allowed_registries": ["registry.example.com", "ghcr.io/acme/", "docker.io/library"]}

hub_spec := f.spec_with_container({"image": "bitnami/redis:7.2"})

test_inactive_without_parameter if {
	inp := f.pod(hub_spec)
	count(image_registry.deny) == 0 with input as inp
	count(image_registry.deny) == 0 with input as inp with data.gitops_bot.parameters as {}
	count(image_registry.deny) == 0 with input as inp
		with data.gitops_bot.parameters as {"allowed_registries": []}
}

test_compliant_workloads_pass if {
	params := allowed
	every w in f.all_workloads(f.good_pod_spec) {
		count(image_registry.deny) == 0 with input as w with data.gitops_bot.parameters as params
	}
}

test_allowed_prefixes_pass if {
	params := allowed
	every image in ["nginx:1.27", "docker.io/library/nginx:1.27", "ghcr.io/acme/app:1", "REGISTRY.example.com/x:1"] {
		inp := f.pod(f.spec_with_container({"image": image}))
		count(image_registry.deny) == 0 with input as inp
			with data.gitops_bot.parameters as params
	}
}

test_prefix_must_end_at_a_path_boundary if {
	params := allowed
	inp := f.pod(f.spec_with_container({"image": "ghcr.io/acme-evil/app:1"}))
	results := image_registry.deny with input as inp
		with data.gitops_bot.parameters as params
	count(results) == 1
}

test_pod_image_from_docker_hub_org if {
	params := allowed
	inp := f.pod(hub_spec)
	results := image_registry.deny with input as inp with data.gitops_bot.parameters as params
	count(results) == 1
	some r in results
	r.msg == `Pod web: container "app" uses the image bitnami/redis:7.2 from docker.io, which is not an allowed registry`
	r.details.registry == "docker.io"
}

test_deployment_image_from_other_registry if {
	params := allowed
	spec := f.spec_with_container({"image": "quay.io/prometheus/node-exporter:v1.8.0"})
	inp := f.deployment(spec)
	results := image_registry.deny with input as inp with data.gitops_bot.parameters as params
	count(results) == 1
	some r in results
	r.msg == `Deployment web: container "app" uses the image quay.io/prometheus/node-exporter:v1.8.0 from quay.io, which is not an allowed registry`
	r.details.field == "spec.template.spec.containers[0].image"
}
