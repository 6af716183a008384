# METADATA
# title: Mutable latest image tag
# description: >-
#   A container image uses the `latest` tag or no tag at all (which means latest), and is not
#   pinned by digest.
# custom:
#   id: image-latest-tag
#   severity: error
#   rationale: >-
#     `latest` points at whatever was pushed last. The manifest in Git then no longer says what
#     runs: two nodes can run different code, a restart silently upgrades, and a rollback to an
#     earlier commit changes nothing. GitOps relies on the repository describing the cluster.
#   remediation: >-
#     Use an immutable version tag (e.g. `:1.4.2`) or pin the digest (`@sha256:...`), and let an
#     image-update tool bump it through pull requests.
package gitops_bot.reliability.image_latest_tag

import data.lib.kubernetes as k8s

deny contains result if {
	some e in k8s.input_containers
	image := k8s.string_at(e.container, ["image"])
	image != ""
	ref := k8s.image_reference(image)
	ref.digest == ""
	problem := tag_problem(ref.tag)
	result := {
		"msg": sprintf("%s: %s uses the image %s %s", [k8s.input_identity, e.what, image, problem]),
		"details": {"container": e.name, "image": image, "field": sprintf("%s.image", [e.path])},
	}
}

tag_problem(tag) := "without a tag (it means latest)" if tag == ""

tag_problem(tag) := "with the mutable tag latest" if lower(tag) == "latest"
