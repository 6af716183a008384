"""`spec.destination.namespace` applied as Argo CD applies it: to namespaced objects that name
no namespace of their own. Cluster-scoped kinds are left alone; besides the built-in list, a
CRD rendered by the same app that declares `scope: Cluster` makes its kind cluster-scoped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.model.resource import Resource, ResourceKey

_CLUSTER_SCOPED = frozenset(
    {
        ("", "Namespace"),
        ("", "Node"),
        ("", "PersistentVolume"),
        ("", "ComponentStatus"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("apiregistration.k8s.io", "APIService"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
        ("storage.k8s.io", "StorageClass"),
        ("storage.k8s.io", "CSIDriver"),
        ("storage.k8s.io", "CSINode"),
        ("storage.k8s.io", "VolumeAttachment"),
        ("storage.k8s.io", "VolumeAttributesClass"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("node.k8s.io", "RuntimeClass"),
        ("networking.k8s.io", "IngressClass"),
        ("networking.k8s.io", "IPAddress"),
        ("networking.k8s.io", "ServiceCIDR"),
        ("policy", "PodSecurityPolicy"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("certificates.k8s.io", "ClusterTrustBundle"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("resource.k8s.io", "DeviceClass"),
        # Common add-ons whose CRDs usually live in another app.
        ("cert-manager.io", "ClusterIssuer"),
        ("gateway.networking.k8s.io", "GatewayClass"),
        ("kyverno.io", "ClusterPolicy"),
        ("external-secrets.io", "ClusterSecretStore"),
        ("external-secrets.io", "ClusterExternalSecret"),
        ("templates.gatekeeper.sh", "ConstraintTemplate"),
        ("argoproj.io", "ClusterWorkflowTemplate"),
    }
)


def _crd_scopes(resources: Iterable[Resource]) -> set[tuple[str, str]]:
    scoped = set()
    for resource in resources:
        if resource.key.kind != "CustomResourceDefinition":
            continue
        spec: Any = resource.body.get("spec")
        if not isinstance(spec, Mapping) or spec.get("scope") != "Cluster":
            continue
        names = spec.get("names")
        if isinstance(names, Mapping) and isinstance(names.get("kind"), str):
            scoped.add((str(spec.get("group", "")), names["kind"]))
    return scoped


def is_cluster_scoped(key: ResourceKey, crds: set[tuple[str, str]] | None = None) -> bool:
    group_kind = (key.api_group, key.kind)
    return group_kind in _CLUSTER_SCOPED or (
        key.api_group == "constraints.gatekeeper.sh" or group_kind in (crds or set())
    )


def apply_destination_namespace(
    resources: tuple[Resource, ...], namespace: str
) -> tuple[Resource, ...]:
    if not namespace:
        return resources
    crds = _crd_scopes(resources)
    result = []
    for resource in resources:
        if resource.key.namespace or is_cluster_scoped(resource.key, crds):
            result.append(resource)
            continue
        metadata = resource.body.get("metadata")
        body = dict(resource.body)
        body["metadata"] = {
            **(metadata if isinstance(metadata, Mapping) else {}),
            "namespace": namespace,
        }
        result.append(
            Resource(
                ResourceKey.of(body),
                body,
                resource.origin,
                resource.target,
                resource.sources,
            )
        )
    return tuple(result)
