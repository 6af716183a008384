# METADATA
# title: Resources in the default namespace
# description: >-
#   A resource is in the `default` namespace: it says `namespace: default`, or it is of a
#   namespaced built-in kind and sets no namespace at all.
# custom:
#   id: default-namespace
#   severity: warning
#   rationale: >-
#     The default namespace is where everything ends up by accident. Resources there share
#     quotas, RBAC and network policies with whatever else was dropped in, and a manifest without
#     a namespace lands wherever the applying tool's context points.
#   remediation: >-
#     Set `metadata.namespace` to the application's own namespace (or set `namespace:` in the
#     kustomization, which the bot renders before checking). If your GitOps tool assigns the
#     namespace at apply time (an Argo CD Application's destination namespace, a Flux
#     Kustomization's targetNamespace), disable this rule.
package gitops_bot.hygiene.default_namespace

import data.lib.kubernetes as k8s

# Built-in kinds that live in a namespace (custom resources are not checked when unset: whether
# they are namespaced is only known from their CRD).
namespaced_kinds := {
	"ConfigMap", "ControllerRevision", "CronJob", "CSIStorageCapacity", "DaemonSet", "Deployment",
	"Endpoints", "EndpointSlice", "Event", "HorizontalPodAutoscaler", "Ingress", "Job", "Lease",
	"LimitRange", "NetworkPolicy", "PersistentVolumeClaim", "Pod", "PodDisruptionBudget",
	"PodTemplate", "ReplicaSet", "ReplicationController", "ResourceQuota", "Role", "RoleBinding",
	"Secret", "Service", "ServiceAccount", "StatefulSet",
}

warn contains result if {
	k8s.input_namespace == "default"
	result := {
		"msg": sprintf("%s: uses the default namespace", [k8s.input_identity]),
		"details": {"field": "metadata.namespace"},
	}
}

warn contains result if {
	k8s.input_kind in namespaced_kinds
	k8s.input_namespace == ""
	result := {
		"msg": sprintf(
			"%s: sets no namespace (it lands in the default namespace, or wherever the applying tool points)",
			[k8s.input_identity],
		),
		"details": {"field": "metadata.namespace"},
	}
}
