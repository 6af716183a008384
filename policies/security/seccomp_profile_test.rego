package gitops_bot.security.seccomp_profile_test

import data.gitops_bot.security.seccomp_profile
import data.lib.fixtures_test as f

# No profile anywhere.
unset_spec := f.spec_with({
	"securityContext": {"seccompProfile": null},
	"containers": [json.remove(f.good_container, ["securityContext/seccompProfile"])],
})

test_compliant_workloads_pass if {
	every w in f.all_workloads(f.good_pod_spec) {
		count(seccomp_profile.warn) == 0 with input as w
	}
}

test_pod_level_profile_is_enough if {
	spec := f.spec_with({"containers": [json.remove(f.good_container, ["securityContext/seccompProfile"])]})
	inp := f.pod(spec)
	count(seccomp_profile.warn) == 0 with input as inp
}

test_localhost_profile_passes if {
	spec := f.spec_with_container({"securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}}})
	inp := f.pod(spec)
	count(seccomp_profile.warn) == 0 with input as inp
}

test_pod_without_profile if {
	inp := f.pod(unset_spec)
	results := seccomp_profile.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Pod web: container "app" has no seccomp profile (RuntimeDefault or Localhost)`
}

test_deployment_container_unconfined if {
	spec := f.spec_with_container({"securityContext": {"seccompProfile": {"type": "Unconfined"}}})
	inp := f.deployment(spec)
	results := seccomp_profile.warn with input as inp
	count(results) == 1
	some r in results
	r.msg == `Deployment web: container "app" uses the seccomp profile Unconfined, not RuntimeDefault or Localhost`
	r.details.type == "Unconfined"
}
