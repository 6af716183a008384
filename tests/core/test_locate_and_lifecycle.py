import pytest

from bot.core.validate.lifecycle import judge_api
from bot.core.validate.locate import locate
from bot.model.finding import Severity
from bot.model.resource import Location, Resource, ResourceKey, SourceDocument

KEY = ResourceKey("apps", "Deployment", "prod", "web")
BODY = {"spec": {"replicas": 3, "template": {"spec": {"containers": [{"image": "a:1"}]}}}}
BASE_DATA = {"spec": {"replicas": 1, "template": {"spec": {"containers": [{"image": "a:1"}]}}}}
PATCH_DATA = {"spec": {"replicas": 3}}
BASE = SourceDocument(
    "base/deploy.yaml",
    1,
    {"": 1, "spec": 5, "spec.replicas": 6, "spec.template.spec.containers[0].image": 12},
    BASE_DATA,
)
PATCH = SourceDocument("prod/replicas.yaml", 1, {"": 1, "spec": 4, "spec.replicas": 5}, PATCH_DATA)
RESOURCE = Resource(KEY, BODY, Location("base/deploy.yaml", 1), "t", (BASE, PATCH))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("spec", "replicas"), Location("prod/replicas.yaml", 5)),
        (("spec", "template", "spec", "containers", 0, "image"), Location("base/deploy.yaml", 12)),
        (
            ("spec", "template", "spec", "containers", 0, "imagePullPolicy"),
            Location("base/deploy.yaml", 5),
        ),
        (("status",), Location("base/deploy.yaml", 1)),
    ],
    ids=["patched-value-points-at-patch", "base-value", "missing-field-uses-ancestor", "unknown"],
)
def test_locate_credits_the_document_holding_the_rendered_value(path, expected):
    assert locate(RESOURCE, path) == expected


def test_plain_document_lines_are_trusted_as_is():
    plain = Resource(
        KEY, BODY, Location("d.yaml", 3), "t", (SourceDocument("d.yaml", 3, {"spec.replicas": 9}),)
    )
    assert locate(plain, ("spec", "replicas")) == Location("d.yaml", 9)
    assert locate(Resource(KEY, BODY, Location("h.yaml", 1), "t"), ("spec",)) == Location(
        "h.yaml", 1
    )


SERVED = {
    "1.30": frozenset(
        {
            ("apps", "v1", "Deployment"),
            ("autoscaling", "v2", "HorizontalPodAutoscaler"),
            ("autoscaling", "v2beta2", "HorizontalPodAutoscaler"),
            ("policy", "v1beta1", "PodSecurityPolicy"),
        }
    ),
    "1.31": frozenset(
        {("apps", "v1", "Deployment"), ("autoscaling", "v2", "HorizontalPodAutoscaler")}
    ),
    "1.33": frozenset(
        {
            ("apps", "v1", "Deployment"),
            ("autoscaling", "v2", "HorizontalPodAutoscaler"),
            ("resource.k8s.io", "v1", "DeviceClass"),
        }
    ),
}


@pytest.mark.parametrize(
    ("gvk", "target", "rule", "replacement", "text"),
    [
        (("apps", "v1", "Deployment"), "1.31", None, "", ""),
        (("example.com", "v1", "Widget"), "1.31", None, "", ""),
        (
            ("autoscaling", "v2beta2", "HorizontalPodAutoscaler"),
            "1.30",
            "api-deprecated",
            "autoscaling/v2",
            "superseded",
        ),
        (
            ("autoscaling", "v2beta2", "HorizontalPodAutoscaler"),
            "1.31",
            "api-removed",
            "autoscaling/v2",
            "removed in Kubernetes 1.31",
        ),
        (
            ("policy", "v1beta1", "PodSecurityPolicy"),
            "1.33",
            "api-removed",
            "",
            "removed in Kubernetes 1.31",
        ),
        (
            ("extensions", "v1beta1", "Deployment"),
            "1.31",
            "api-removed",
            "apps/v1",
            "not served by any Kubernetes",
        ),
        (
            ("resource.k8s.io", "v1", "DeviceClass"),
            "1.31",
            "api-unavailable",
            "",
            "first served in 1.33",
        ),
    ],
    ids=[
        "served",
        "not-a-kubernetes-group",
        "deprecated",
        "removed-with-replacement",
        "removed-no-replacement",
        "legacy-group",
        "not-yet-served",
    ],
)
def test_api_lifecycle(gvk, target, rule, replacement, text):
    verdict = judge_api(gvk, target, SERVED)
    if rule is None:
        assert verdict is None
        return
    assert (verdict.rule_id, verdict.replacement) == (rule, replacement)
    assert text in verdict.message
    assert verdict.severity is (Severity.WARNING if rule == "api-deprecated" else Severity.ERROR)


@pytest.mark.parametrize(
    ("versions", "best"),
    [
        (["v1", "v2"], "v2"),
        (["v2beta2", "v1"], "v1"),
        (["v1alpha1", "v1beta1"], "v1beta1"),
        (["v10", "v9"], "v10"),
    ],
    ids=["ga-major", "ga-beats-beta", "beta-beats-alpha", "numeric-not-lexical"],
)
def test_replacement_prefers_the_most_mature_version(versions, best):
    served = {"1.31": frozenset(("autoscaling", v, "HorizontalPodAutoscaler") for v in versions)}
    served["1.30"] = frozenset({("autoscaling", "v2beta1", "HorizontalPodAutoscaler")})
    verdict = judge_api(("autoscaling", "v2beta1", "HorizontalPodAutoscaler"), "1.31", served)
    assert verdict.replacement == f"autoscaling/{best}"
