package gitops_bot.reliability.image_latest_tag_test

import data.gitops_bot.reliability.image_latest_tag
import data.lib.fixtures_test as f

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(image_latest_tag.deny) == 0 with input as w
	}
}

test_digests_pass if {
	every image in ["nginx@sha256:0123abcd", "nginx:latest@sha256:0123abcd", "localhost:5000/app:1.0"] {
		inp := f.pod(f.spec_with_container({"image": image}))
		count(image_latest_tag.deny) == 0 with input as inp
	}
}

test_pod_latest_tag if {
	inp := f.pod(f.spec_with_container({"image": "ghcr.io/acme/app:latest"}))
	results := image_latest_tag.deny with input as inp
	count(results) == 1
	some r in results
	r.msg == `Pod web: container "app" uses the image ghcr.io/acme/app:latest with the mutable tag latest`
	r.details == {"container": "app", "image": "ghcr.io/acme/app:latest", "field": "spec.containers[0].image"}
}

test_deployment_untagged_image if {
	inp := f.deployment(f.spec_with_container({"image": "localhost:5000/app"}))
	results := image_latest_tag.deny with input as inp
	count(results) == 1
	some r in results
	r.msg == `Deployment web: container "app" uses the image localhost:5000/app without a tag (it means latest)`
	r.details.field == "spec.template.spec.containers[0].image"
}

test_cronjob_init_container_latest if {
	spec := object.union(f.good_pod_spec, {"initContainers": [{"name": "setup", "image": "busybox:LATEST"}]})
	inp := f.cronjob(spec)
	results := image_latest_tag.deny with input as inp
	count(results) == 1
	some r in results
	r.msg == `CronJob web: init container "setup" uses the image busybox:LATEST with the mutable tag latest`
}
