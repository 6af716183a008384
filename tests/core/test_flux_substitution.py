"""postBuild variables (where they come from, in which order) and their substitution into what
kustomize built: loops, unresolved Secrets, SOPS, opt-outs, syntax errors."""

from typing import Any

import pytest

from bot.core.render.flux.postbuild import substitute
from bot.core.render.flux.variables import Variables, collect_variables
from bot.core.safe_yaml import YamlLimits, load_yaml_documents
from bot.model.resource import Location, Resource, ResourceKey

LIMITS = YamlLimits(max_bytes=1 << 20)
WHERE = Location("clusters/prod/apps.yaml", 3)


def where(field: str) -> Location:
    return Location("clusters/prod/apps.yaml", {"spec.postBuild.substitute.a": 12}.get(field, 3))


def config_map(name: str, data: dict[str, str], sops: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "flux-system"},
        "data": data,
    }
    if sops:
        body["sops"] = {"mac": "ENC[...]"}
    return body


def applied(*bodies: dict[str, Any]) -> tuple[Resource, ...]:
    return tuple(Resource(ResourceKey.of(b), b, Location("x", 1), "parent") for b in bodies)


def refs(*entries: tuple[str, str, bool]) -> list[dict[str, Any]]:
    return [{"kind": k, "name": n, "optional": o} for k, n, o in entries]


@pytest.mark.parametrize(
    ("post_build", "parent", "declared", "values", "unreadable", "rules"),
    [
        pytest.param(
            {"substitute": {"a": "inline"}},
            (),
            {},
            {"a": "inline"},
            (),
            [],
            id="inline",
        ),
        pytest.param(
            {
                "substituteFrom": refs(
                    ("ConfigMap", "first", False), ("ConfigMap", "second", False)
                ),
                "substitute": {"b": "inline wins"},
            },
            (config_map("first", {"a": "1", "b": "1"}), config_map("second", {"a": "2"})),
            {},
            {"a": "2", "b": "inline wins"},  # later sources win, inline last
            (),
            [],
            id="order",
        ),
        pytest.param(
            {"substituteFrom": refs(("ConfigMap", "vars", False))},
            (),
            {("flux-system", "vars"): config_map("vars", {"a": "from the repo\n"})},
            {"a": "from the repo"},  # newlines are dropped, as the controller does
            (),
            [],
            id="declared-in-repo",
        ),
        pytest.param(
            {"substituteFrom": refs(("ConfigMap", "vars", False))},
            (config_map("vars", {"a": "applied"}),),
            {("flux-system", "vars"): config_map("vars", {"a": "declared"})},
            {"a": "applied"},  # what the parent applies (generated, patched) comes first
            (),
            [],
            id="applied-before-declared",
        ),
        pytest.param(
            {"substituteFrom": refs(("Secret", "secrets", False), ("ConfigMap", "gone", True))},
            (),
            {},
            {},
            ("Secret flux-system/secrets",),
            [],
            id="secret-and-optional-missing",
        ),
        pytest.param(
            {"substituteFrom": refs(("ConfigMap", "gone", False))},
            (),
            {},
            {},
            ("ConfigMap flux-system/gone",),
            ["flux-substitute-missing"],
            id="missing",
        ),
        pytest.param(
            {"substituteFrom": refs(("ConfigMap", "vars", False))},
            (config_map("vars", {"a": "ENC[AES256_GCM,data:x]"}, sops=True),),
            {},
            {},
            ("ConfigMap flux-system/vars (SOPS-encrypted)",),
            [],
            id="sops",
        ),
        pytest.param(
            {"substitute": {"a": "${b}", "b": "${a}"}},
            (),
            {},
            {"a": "${b}", "b": "${a}"},
            (),
            ["flux-substitution-loop"],
            id="loop",
        ),
        pytest.param(
            {"substitute": {"a": "${a}"}},
            (),
            {},
            {"a": "${a}"},
            (),
            ["flux-substitution-loop"],
            id="self-loop",
        ),
        pytest.param(
            {"substitute": {"a": "x-${b}", "b": "y"}},
            (),
            {},
            {"a": "x-${b}", "b": "y"},
            (),
            ["flux-substitution-nested"],
            id="nested",
        ),
        pytest.param(
            {"substitute": {"bad-name": "x"}},
            (),
            {},
            {"bad-name": "x"},
            (),
            ["flux-substitute-invalid"],
            id="invalid-name",
        ),
    ],
)
def test_collect_variables(
    post_build: dict[str, Any],
    parent: tuple[dict[str, Any], ...],
    declared: dict[tuple[str, str], dict[str, Any]],
    values: dict[str, str],
    unreadable: tuple[str, ...],
    rules: list[str],
) -> None:
    variables = collect_variables(post_build, "flux-system", applied(*parent), declared, where)

    assert dict(variables.values) == values
    assert variables.unreadable == unreadable
    assert [f.rule_id for f in variables.findings] == rules


def test_loop_finding_names_the_cycle_and_the_line() -> None:
    variables = collect_variables({"substitute": {"a": "${b}", "b": "${a}"}}, "ns", (), {}, where)

    (finding,) = variables.findings
    assert finding.location == Location("clusters/prod/apps.yaml", 12)
    assert "a -> b -> a" in finding.message


def bodies(stream: bytes) -> list[Any]:
    return [d.data for d in load_yaml_documents(stream, "out", LIMITS).documents]


DOC = b"""apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg-${env}
data:
  replicas: ${n}
  shell: $HOME
  kept: $${env}
"""


def test_substitution_types_and_escapes() -> None:
    result = substitute(DOC, Variables({"env": "prod", "n": "3"}, ()), WHERE, LIMITS)

    (body,) = bodies(result.stream)
    assert body["metadata"]["name"] == "cfg-prod"
    assert body["data"] == {"replicas": 3, "shell": "$HOME", "kept": "${env}"}
    assert result.findings == ()


def test_no_variables_no_substitution() -> None:
    result = substitute(DOC, Variables({}, ()), WHERE, LIMITS)
    assert result.stream == DOC


def test_opted_out_and_encrypted_objects_are_left_alone() -> None:
    opted = DOC.replace(
        b"  name: cfg-${env}\n",
        b"  name: x\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n",
    )
    encrypted = (
        b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  a: ${env}\nsops:\n  mac: m\n"
    )
    result = substitute(
        opted + b"---\n" + encrypted, Variables({"env": "prod", "n": "3"}, ()), WHERE, LIMITS
    )

    first, second = bodies(result.stream)
    assert first["data"]["replicas"] == "${n}"
    assert second["data"]["a"] == "${env}"


def test_unset_and_unresolved_variables_are_reported() -> None:
    unset = substitute(DOC, Variables({"env": "prod"}, ()), WHERE, LIMITS)
    (finding,) = unset.findings
    assert (finding.rule_id, finding.severity.label) == ("flux-variable-unset", "warning")
    assert "${n}" in finding.message
    assert bodies(unset.stream)[0]["data"]["replicas"] is None  # empty, as Flux does

    unknown = substitute(DOC, Variables({"env": "prod"}, ("Secret flux-system/s",)), WHERE, LIMITS)
    (finding,) = unknown.findings
    assert (finding.rule_id, finding.severity.label) == ("flux-variable-unresolved", "info")
    assert "Secret flux-system/s" in finding.message
    assert bodies(unknown.stream)[0]["data"]["replicas"] == "${n}"  # never guessed


def test_a_syntax_error_fails_with_the_object_named() -> None:
    broken = DOC.replace(b"${n}", b"${n")
    result = substitute(broken, Variables({"env": "prod", "n": "3"}, ()), WHERE, LIMITS)

    (finding,) = result.findings
    assert finding.rule_id == "flux-substitution-failed"
    assert finding.severity.label == "error"
    assert "ConfigMap cfg-${env}" in finding.message
    assert finding.location == WHERE
