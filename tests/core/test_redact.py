import json

import pytest

from bot.core.diff.redact import HIDDEN, HIDDEN_NEW, HIDDEN_OLD, LAST_APPLIED, redact_pair
from bot.core.diff.states import diff_resources
from bot.model.diff import ChangeKind, SecretKeyChange
from bot.model.repo_config import DiffConfig
from bot.model.resource import Location, Resource, ResourceKey

SECRET_VALUES = ("s3cr3t-old", "s3cr3t-new", "c2VjcmV0", "ENC[AES256_GCM,data:abc,iv:x]", "hunter2")


def secret(**fields):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, **fields}


@pytest.mark.parametrize(
    ("base", "head", "expected_base", "expected_head", "changes"),
    [
        (
            secret(stringData={"password": "s3cr3t-old", "user": "app"}),
            secret(stringData={"password": "s3cr3t-new", "user": "app"}),
            {"password": HIDDEN_OLD, "user": HIDDEN},
            {"password": HIDDEN_NEW, "user": HIDDEN},
            (SecretKeyChange("stringData.password", ChangeKind.MODIFIED),),
        ),
        (
            secret(data={"a": "c2VjcmV0"}),
            secret(data={"b": "c2VjcmV0"}),
            {"a": HIDDEN},
            {"b": HIDDEN},
            (
                SecretKeyChange("data.a", ChangeKind.REMOVED),
                SecretKeyChange("data.b", ChangeKind.ADDED),
            ),
        ),
        (
            None,
            secret(data={"token": "hunter2"}),
            None,
            {"token": HIDDEN},
            (SecretKeyChange("data.token", ChangeKind.ADDED),),
        ),
    ],
    ids=["value-changed", "key-renamed", "secret-added"],
)
def test_secret_values_never_survive(base, head, expected_base, expected_head, changes):
    rb, rh, found = redact_pair(base, head)
    field = "stringData" if "stringData" in (head or {}) else "data"
    assert (rb[field] if rb else None) == expected_base
    assert rh[field] == expected_head
    assert found == changes
    assert not any(v in json.dumps([rb, rh]) for v in SECRET_VALUES)


def test_sops_ciphertext_and_metadata_are_hidden_pairwise():
    base = {
        "kind": "ConfigMap",
        "data": {"k": "ENC[AES256_GCM,data:abc,iv:x]", "plain": "1"},
        "sops": {"mac": "x"},
    }
    head = {
        "kind": "ConfigMap",
        "data": {"k": "ENC[AES256_GCM,data:def,iv:y]", "plain": "1"},
        "sops": {"mac": "y"},
    }
    rb, rh, _ = redact_pair(base, head)
    assert rb == {"kind": "ConfigMap", "data": {"k": HIDDEN_OLD, "plain": "1"}, "sops": HIDDEN_OLD}
    assert rh == {"kind": "ConfigMap", "data": {"k": HIDDEN_NEW, "plain": "1"}, "sops": HIDDEN_NEW}


def test_last_applied_annotation_is_hidden():
    body = {
        "kind": "Deployment",
        "metadata": {"annotations": {LAST_APPLIED: '{"password":"hunter2"}'}},
    }
    _, rh, _ = redact_pair(None, body)
    assert rh["metadata"]["annotations"][LAST_APPLIED] == HIDDEN


def test_resource_diff_of_a_secret_shows_keys_not_values():
    key = ResourceKey("", "Secret", "prod", "db")
    base = Resource(key, secret(stringData={"password": "s3cr3t-old"}), Location("s.yaml"), "t")
    head = Resource(key, secret(stringData={"password": "s3cr3t-new"}), Location("s.yaml"), "t")
    diff = diff_resources(base, head, DiffConfig())
    assert diff is not None
    assert diff.change is ChangeKind.MODIFIED
    assert [f.path for f in diff.fields] == ["stringData.password"]
    assert "-  password: '<hidden: old value>'" in diff.unified_diff
    assert "s3cr3t" not in diff.unified_diff
    assert base.body["stringData"]["password"] == "s3cr3t-old"  # the input was not mutated
