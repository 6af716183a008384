"""Schema validation against verdicts written by others: kubectl-validate's test cases (the API
server's own answer, as a `metav1.Status`), kubeconform's fixtures with the exit statuses of its
`acceptance.bats`, and pluto's table of deprecated and removed Kubernetes APIs.

Every case runs `validate_files()` with the real JsonSchemaCatalog. Where JSON Schema cannot
decide what the oracle decides, the case is listed in an explicit table of known differences with
the reason; a listed case must still differ (so the tables cannot go stale) and is printed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.memory_tree import InMemoryTree
from bot.core.safe_yaml import load_yaml_documents
from bot.core.validate.files import validate_files
from bot.engines.schema_catalog import JsonSchemaCatalog
from bot.model.finding import Finding, Severity
from bot.model.repo_config import ClusterConfig, RepoConfig, ValidationConfig
from bot.model.resource import Location
from bot.model.validation import ValidationSummary

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parents[2].parent / "shared/fixtures"
if not (FIXTURES / "validation").is_dir() or not (FIXTURES / "deprecations").is_dir():
    raise FileNotFoundError(
        f"oracle fixtures are missing: expected {FIXTURES}/validation and "
        f"{FIXTURES}/deprecations (the shared fixtures next to the project checkout)"
    )
KUBECTL_VALIDATE = FIXTURES / "validation/kubectl-validate/testcases"
KUBECONFORM = FIXTURES / "validation/kubeconform/fixtures"
PLUTO = FIXTURES / "deprecations/pluto-versions.yaml"

CATALOG = JsonSchemaCatalog()
NEWEST = "1.37"  # kubectl-validate's cases state no version: it validates against its newest


def validate(
    files: Mapping[str, bytes],
    *,
    version: str = NEWEST,
    strict: bool = True,
    missing: Severity | None = Severity.WARNING,
    schemas: Mapping[str, bytes] | None = None,
    schema_dirs: tuple[str, ...] = (),
) -> tuple[list[Finding], ValidationSummary]:
    config = RepoConfig(
        clusters=(ClusterConfig("oracle", version),),
        validation=ValidationConfig(strict=strict, missing_schema=missing, schema_dirs=schema_dirs),
    )
    findings, summary = validate_files(
        InMemoryTree(files), CATALOG, config, InMemoryTree(schemas or {})
    )
    assert summary is not None
    return findings, summary


def errors(findings: list[Finding], path: str | None = None) -> list[Finding]:
    return [
        f
        for f in findings
        if f.severity is Severity.ERROR
        and (path is None or (f.location is not None and f.location.path == path))
    ]


def show(findings: list[Finding]) -> str:
    return "\n".join(
        f"  {f.severity.label} [{f.rule_id}] {f.location.display() if f.location else '-'} "
        f"{f.message}"
        for f in findings
    )


def test_bundled_schemas_reach_the_oracles_version() -> None:
    assert CATALOG.kubernetes_versions()[-1] == NEWEST


# --- kubectl-validate -----------------------------------------------------------------------
# Each document of each manifest starts with a comment holding the API server's verdict as a
# metav1.Status. Documents are validated one by one, as kubectl-validate does (so two documents
# of one file with the same name are not `duplicate-resource`), with every CRD of `crds/` and
# `more-crds/` in the tree (kubectl-validate --local-crds).

KUBECTL_VALIDATE_DIFFERENCES: dict[str, str] = {
    "error_cel_basic.yaml": "CEL rule (x-kubernetes-validations `self > 0`) is not evaluated",
    "error_cel_basic_multiple.yaml": "CEL rule across fields (`other_value % value == 0`) is not "
    "evaluated",
    "error_enum_invalid.yaml": "the bundled schemas (kubernetes-validate's) give "
    "ports[].protocol no `enum`; kubectl-validate reads the OpenAPI v3 spec, which does",
    "error_invalid_label.yaml": "label value syntax is checked by the API server's hand-written "
    "ObjectMeta validation, not by the OpenAPI schema",
    "error_invalid_name.yaml": "metadata.name must be an RFC 1123 subdomain: an API-server-only "
    "semantic check (the schema says just `string`)",
    "error_missing_image.yaml": "containers[].image is optional in the OpenAPI schema; the API "
    "server's Pod validation requires it",
    "error_missing_name.yaml": "`name or generateName is required` is API-server ObjectMeta "
    "validation; the schema marks neither required",
    "error_multiple_resources_all_invalid.yaml#2": "same as error_missing_name.yaml: a ConfigMap "
    "without metadata.name",
    "error_name_exceeds_max_length.yaml": "metadata.name longer than 253 characters: an "
    "API-server-only length check",
    "error_x_list_map_default.yaml": "list-map key uniqueness after defaulting (the missing "
    "`protocol` defaults to TCP, duplicating the first item's key) needs defaulting + "
    "x-kubernetes-list-map-keys, which JSON Schema cannot express",
    "error_x_list_map_duplicate_key.yaml": "uniqueness of (containerPort, protocol) in a "
    "`x-kubernetes-list-type: map` list cannot be expressed in JSON Schema",
}


@dataclass(frozen=True)
class KubectlValidateCase:
    id: str
    path: str  # in the files tree
    content: bytes  # the document alone, at its own line numbers
    status: Mapping[str, Any]  # the expected metav1.Status


def _documents(text: str) -> list[tuple[int, str]]:
    """(1-based first line, text) of each `---`-separated chunk of `text`."""
    chunks: list[tuple[int, str]] = []
    start, lines = 1, []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if line.rstrip() == "---":
            chunks.append((start, "".join(lines)))
            start, lines = number + 1, []
        else:
            lines.append(line)
    chunks.append((start, "".join(lines)))
    return chunks


def _leading_status(chunk: str) -> Mapping[str, Any] | None:
    """The JSON value in the chunk's leading comment block, if it has one."""
    comments = []
    for line in chunk.splitlines():
        if not line.startswith("#"):
            break
        comments.append(re.sub(r"^#\s?", "", line))
    text = "\n".join(comments).strip()
    if not text.startswith("{"):
        return None
    status, _ = json.JSONDecoder().raw_decode(text)
    assert isinstance(status, dict)
    return status


def _is_empty(chunk: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in chunk.splitlines())


def kubectl_validate_cases() -> list[KubectlValidateCase]:
    cases = []
    for file in sorted((KUBECTL_VALIDATE / "manifests").glob("*.yaml")):  # not *.disabled
        path = f"manifests/{file.name}"
        chunks = _documents(file.read_text(encoding="utf-8"))
        documents = [(i, line, c) for i, (line, c) in enumerate(chunks, 1) if not _is_empty(c)]
        if not documents:  # only separators and comments: nothing to apply, nothing to report
            cases.append(KubectlValidateCase(file.name, path, file.read_bytes(), {}))
        for index, line, chunk in documents:
            status = _leading_status(chunk)
            assert status is not None, f"{file.name} document {index} has no expected status"
            case_id = file.name if len(documents) == 1 else f"{file.name}#{index}"
            content = ("\n" * (line - 1) + chunk).encode()
            cases.append(KubectlValidateCase(case_id, path, content, status))
    return cases


def local_crds() -> dict[str, bytes]:
    return {
        f"crds/{file.parent.name}/{file.name}": file.read_bytes()
        for folder in ("crds", "more-crds")
        for file in sorted((KUBECTL_VALIDATE / folder).glob("*.yaml"))
    }


KUBECTL_VALIDATE_CASES = kubectl_validate_cases()


def test_kubectl_validate_cases_were_found() -> None:
    ids = {c.id for c in KUBECTL_VALIDATE_CASES}
    assert len(ids) == len(KUBECTL_VALIDATE_CASES) >= 30
    assert set(KUBECTL_VALIDATE_DIFFERENCES) <= ids, "a listed difference names no case"
    print("\nkubectl-validate cases where JSON Schema cannot decide (known differences):")
    for case_id, reason in sorted(KUBECTL_VALIDATE_DIFFERENCES.items()):
        print(f"  {case_id}: {reason}")


def _field_lines(case: KubectlValidateCase) -> Mapping[str, int]:
    load = load_yaml_documents(case.content, case.path)
    return load.documents[0].field_lines if load.documents else {}


@pytest.mark.parametrize("case", KUBECTL_VALIDATE_CASES, ids=lambda c: c.id)
def test_kubectl_validate_verdict(case: KubectlValidateCase) -> None:
    findings, _summary = validate({**local_crds(), case.path: case.content})
    report = f"expected {json.dumps(case.status.get('message', 'Success'))}, we said:\n"
    report += show(findings) or "  nothing"
    # The CRDs (cert-manager, jobset, ...) are all valid, and every kind has a schema.
    crds = [f for f in findings if f.location and f.location.path.startswith("crds/")]
    assert crds == [], report
    assert [f for f in findings if f.rule_id == "no-schema"] == [], report
    expected_valid = case.status.get("status", "Success") == "Success"
    ours_valid = not errors(findings, case.path)
    if case.id in KUBECTL_VALIDATE_DIFFERENCES:
        print(f"\nknown difference {case.id}: {KUBECTL_VALIDATE_DIFFERENCES[case.id]}")
        assert ours_valid != expected_valid, f"no longer a difference, unlist it: {report}"
        return
    assert ours_valid == expected_valid, report
    if not expected_valid:  # the error is on the line of a field the API server names
        causes = case.status.get("details", {}).get("causes", [])
        lines = _field_lines(case)
        wanted = {lines[c["field"]] for c in causes if c.get("field") in lines}
        if wanted:
            ours = {f.location.line for f in errors(findings, case.path) if f.location}
            assert ours & wanted, f"no error on line {sorted(wanted)}: {report}"
    else:
        assert findings == [], report


# --- kubeconform ------------------------------------------------------------------------------
# Expected exit statuses from acceptance.bats (kubeconform exit 1 = invalid); where bats has no
# test for a fixture, from kubeval's TestValidateValidInputs (the fixtures come from kubeval), or
# our own reading, stated in `source`. Mapping of options: kubeconform's default (fail on a
# missing schema) is missing_schema=error; -ignore-missing-schemas is our default (warning);
# -schema-location DIR is validation.schema_dirs.

KUBECONFORM_DIFFERENCES: dict[str, str] = {
    "duplicate_property-not-strict": "a duplicate mapping key is always an error for us "
    "(`yaml-duplicate-key`): which value wins depends on the parser, and kubectl --validate=strict "
    "(its default) rejects it too; kubeconform only checks in -strict",
    "missing_kind": "a document without apiVersion/kind is `not-a-kubernetes-object`, a "
    "warning: GitOps folders hold non-Kubernetes YAML (values, configs) next to manifests",
    "missing_kind_value": "as missing_kind: `kind:` with no value",
    "duplicates-with-namespace-default": "kubeval read the document without a namespace as "
    "`the-default-namespace` (its -default-namespace flag); we cannot know where an object "
    "without a namespace lands, so we compare it as written",
}


@dataclass(frozen=True)
class KubeconformCase:
    id: str
    files: tuple[str, ...]  # fixture paths, relative to kubeconform/fixtures
    exit: int  # 1: invalid
    source: str
    rules: frozenset[str] = frozenset()  # rule ids of all our findings
    strict: bool = True
    missing: Severity | None = Severity.WARNING
    resources: int | None = None  # resources found, where the source says
    schema_dir: tuple[str, str] | None = None  # (fixture file, its path in the schemas tree)


def kc(case_id: str, *files: str, exit: int, source: str, **kw: Any) -> KubeconformCase:
    rules = frozenset(kw.pop("rules", ()))
    return KubeconformCase(case_id, files or (f"{case_id}.yaml",), exit, source, rules, **kw)


BATS_VALID = "acceptance.bats: Pass when parsing a valid Kubernetes config"
KUBEVAL_VALID = "kubeval TestValidateValidInputs (the fixture's origin)"
KUBECONFORM_CASES = [
    kc("valid", exit=0, source=BATS_VALID + " YAML file", resources=1),
    kc("valid-json", "valid.json", exit=0, source=BATS_VALID + " JSON file", resources=1),
    kc(
        "folder",
        "folder/valid.yaml",
        "folder/multi_valid.yaml",
        exit=0,
        source="acceptance.bats: Pass when parsing a folder containing valid YAML files",
        resources=7,
    ),
    kc("int_or_string", exit=0, source=BATS_VALID + " file with int_to_string vars"),
    kc("generate_name", exit=0, source=BATS_VALID + " YAML file with generate name"),
    kc("quantity", exit=0, source="acceptance.bats: string and integer quantities"),
    kc("null_string", exit=0, source=BATS_VALID + " file with null strings", resources=1),
    kc("null_array", exit=0, source=KUBEVAL_VALID),
    kc("full_domain_group", exit=0, source=KUBEVAL_VALID),
    kc("multi_valid", exit=0, source="acceptance.bats: multi-document config file", resources=6),
    kc(
        "multi_invalid",
        exit=1,
        source="acceptance.bats: one invalid resource",
        rules={"schema-invalid"},
    ),
    kc(
        "invalid",
        exit=1,
        source="acceptance.bats: invalid Kubernetes config file",
        rules={"schema-invalid"},
    ),
    kc("blank", exit=0, source="acceptance.bats: blank config file", resources=0),
    kc("comment", exit=0, source="acceptance.bats: blank config file with a comment", resources=0),
    kc(
        "missing_kind",
        exit=1,
        source="acceptance.bats: missing a Kind",
        rules={"not-a-kubernetes-object"},
    ),
    kc(
        "missing_apiversion",
        exit=1,
        source="acceptance.bats: missing an apiVersion",
        rules={"not-a-kubernetes-object"},
    ),
    kc(
        "missing_kind_value",
        exit=1,
        source="acceptance.bats: missing a Kind value",
        rules={"not-a-kubernetes-object"},
    ),
    kc(
        "test_crd-no-crd",
        "test_crd.yaml",
        exit=1,
        source="acceptance.bats: Fail when parsing a config with CRD (no schema for it)",
        missing=Severity.ERROR,
        rules={"no-schema"},
    ),
    kc(
        "test_crd-no-crd-ignore-missing",
        "test_crd.yaml",
        exit=0,
        source="acceptance.bats: Custom Resource and ignoring missing schemas",
        rules={"no-schema"},
    ),
    kc(
        "test_crd-with-its-crd",
        "test_crd.yaml",
        "crd_schema.yaml",
        exit=1,
        source="ours: the TrainingJob is valid against its CRD; the CRD itself is "
        "apiextensions.k8s.io/v1beta1, removed in Kubernetes 1.22",
        missing=Severity.ERROR,
        rules={"api-removed"},
        resources=2,
    ),
    kc("extra_property", exit=0, source="acceptance.bats: additional properties", strict=False),
    kc(
        "extra_property-strict",
        "extra_property.yaml",
        exit=1,
        source="acceptance.bats: additional properties and strict set",
        rules={"schema-invalid"},
    ),
    kc(
        "duplicate_property-strict",
        "duplicate_property.yaml",
        exit=1,
        source="acceptance.bats: duplicate properties and strict set",
        rules={"yaml-duplicate-key"},
    ),
    kc(
        "duplicate_property-not-strict",
        "duplicate_property.yaml",
        exit=0,
        source="acceptance.bats: duplicate properties and strict NOT set",
        strict=False,
        rules={"yaml-duplicate-key"},
    ),
    kc("list_valid", exit=0, source="acceptance.bats: a file containing a List", resources=6),
    kc(
        "list_invalid",
        exit=1,
        source="acceptance.bats: a List that contains an invalid resource",
        rules={"schema-invalid"},
        resources=2,
    ),
    kc("list_empty_valid", exit=0, source="acceptance.bats: valid, empty list", resources=0),
    kc("multi_with_list", exit=0, source="acceptance.bats: one resource, one list", resources=2),
    kc(
        "httpproxy",
        exit=0,
        source="acceptance.bats: a CRD that does not have the JSONSchema set",
        rules={"no-schema"},
    ),
    kc(
        "grafana-alert-rule-group",
        "grafana-alert-rule-group-sample.yaml",
        exit=0,
        source="acceptance.bats: duration not in ISO8601, with the schema from "
        "-schema-location (formats are not asserted)",
        schema_dir=(
            "grafanaalertrulegroup_v1beta1.json",
            "schemas/grafana.integreatly.org/grafanaalertrulegroup_v1beta1.json",
        ),
    ),
    kc(
        "unconventional_keys",
        exit=0,
        source=KUBEVAL_VALID + "; keys 5, 3.14, true become "
        "strings when kubectl or Flux turns YAML into JSON",
    ),
    kc(
        "same-kind-different-api",
        exit=1,
        source="ours: apps/v1beta1 Deployment is removed, and apps/v1 and apps/v1beta1 "
        "Deployments of one name are the same object",
        rules={"api-removed", "duplicate-resource"},
    ),
    kc("valid_version", exit=0, source="ours: autoscaling/v1 HPA is served by 1.37"),
    kc(
        "duplicates",
        exit=1,
        source="the fixture: same name, same namespace",
        rules={"duplicate-resource"},
    ),
    kc(
        "duplicates-with-namespace",
        exit=1,
        source="the fixture: same name, same namespace",
        rules={"duplicate-resource"},
    ),
    kc(
        "duplicates-non-namespaced",
        exit=1,
        source="the fixture: same name, cluster-scoped kind",
        rules={"duplicate-resource"},
    ),
    kc(
        "duplicates-with-namespace-default",
        exit=1,
        source="the fixture: one namespace not given = kubeval's default namespace",
    ),
    kc("same-object-different-namespace", exit=0, source="the fixture: different namespaces"),
    kc(
        "same-object-different-namespace-default",
        exit=0,
        source="the fixture: different namespaces",
    ),
]


def test_kubeconform_known_differences() -> None:
    ids = {c.id for c in KUBECONFORM_CASES}
    assert len(ids) == len(KUBECONFORM_CASES)
    assert set(KUBECONFORM_DIFFERENCES) <= ids, "a listed difference names no case"
    print("\nkubeconform verdicts we do not share (known differences):")
    for case_id, reason in sorted(KUBECONFORM_DIFFERENCES.items()):
        print(f"  {case_id}: {reason}")


@pytest.mark.parametrize("case", KUBECONFORM_CASES, ids=lambda c: c.id)
def test_kubeconform_verdict(case: KubeconformCase) -> None:
    files = {name: (KUBECONFORM / name).read_bytes() for name in case.files}
    schemas, dirs = {}, ()
    if case.schema_dir:
        source, target = case.schema_dir
        schemas[target] = (KUBECONFORM / source).read_bytes()
        dirs = (target.split("/")[0],)
    findings, summary = validate(
        files, strict=case.strict, missing=case.missing, schemas=schemas, schema_dirs=dirs
    )
    report = f"{case.source}: kubeconform exit {case.exit}; we said:\n" + (
        show(findings) or "  nothing"
    )
    ours = 1 if errors(findings) else 0
    assert {f.rule_id for f in findings} == case.rules, report
    if case.resources is not None:
        assert summary.resources == case.resources, report
    if case.id in KUBECONFORM_DIFFERENCES:
        print(f"\nknown difference {case.id}: {KUBECONFORM_DIFFERENCES[case.id]}")
        assert ours != case.exit, f"no longer a difference, unlist it: {report}"
    else:
        assert ours == case.exit, report


def test_custom_resource_is_validated_by_its_crd() -> None:
    """The TrainingJob of test_crd.yaml gets its schema from crd_schema.yaml (a v1beta1 CRD:
    unknown fields are kept, so not strict), and a type error in it is found at its line."""
    crd = (KUBECONFORM / "crd_schema.yaml").read_bytes()
    job = (KUBECONFORM / "test_crd.yaml").read_bytes()
    broken = job.replace(b"instanceCount: 1", b"instanceCount: one")
    findings, summary = validate({"crd.yaml": crd, "job.yaml": broken}, missing=Severity.ERROR)
    assert summary.crd_kinds == 1
    assert summary.without_schema == 0
    invalid = [f for f in findings if f.rule_id == "schema-invalid"]
    line = broken.decode().splitlines().index("    instanceCount: one") + 1
    assert [(f.location, f.metadata) for f in invalid] == [
        (Location("job.yaml", line), {"path": "spec.resourceConfig.instanceCount"})
    ], show(findings)


# --- pluto ------------------------------------------------------------------------------------
# For each Kubernetes API pluto lists as removed by 1.37: a minimal manifest validated against a
# version that no longer serves it must get `api-removed` (never `api-unavailable`), naming
# pluto's replacement when that is served then, and "removed in <pluto's removed-in>" when the
# removal is within our bundled versions (1.25+). Where pluto says deprecated-but-served, we say
# `api-deprecated` only when a GA version of the same group and kind is served (narrower than
# pluto). Other components' APIs (istio, cert-manager) are not Kubernetes': no api-* finding.

PLUTO_DIFFERENCES: dict[str, str] = {
    **{
        f"removed:audit.k8s.io/{version}/{kind}@1.25": "audit.k8s.io is a kube-apiserver "
        "configuration-file API (--audit-policy-file), never served over REST, so it is not in "
        "the OpenAPI: to us it is an unknown (custom) group, reported as no-schema"
        for version in ("v1alpha1", "v1beta1")
        for kind in ("Policy", "PolicyList", "Event", "EventList")
    },
    "removed:flowcontrol.apiserver.k8s.io/v1beta1/FlowSchema@1.29": "pluto says removed in "
    "1.29; the bundled OpenAPI stops serving v1beta1 in 1.26 (Kubernetes' deprecation guide "
    "agrees), and we suggest the GA flowcontrol.apiserver.k8s.io/v1, not pluto's v1beta3",
    "removed:flowcontrol.apiserver.k8s.io/v1beta1/PriorityLevelConfiguration@1.29": "as "
    "FlowSchema: removed in 1.26 by the bundled OpenAPI, and we suggest the GA v1",
    "removed:flowcontrol.apiserver.k8s.io/v1beta2/FlowSchema@1.29": "we suggest the GA "
    "flowcontrol.apiserver.k8s.io/v1 (served since 1.29) rather than pluto's v1beta3, itself "
    "removed in 1.32",
    "removed:flowcontrol.apiserver.k8s.io/v1beta2/PriorityLevelConfiguration@1.29": "we suggest "
    "the GA flowcontrol.apiserver.k8s.io/v1 rather than pluto's v1beta3",
    "removed:admissionregistration.k8s.io/v1alpha1/ValidatingAdmissionPolicy@1.33": "pluto says "
    "removed in 1.33; the bundled 1.32 OpenAPI already does not serve it",
    "removed:admissionregistration.k8s.io/v1alpha1/ValidatingAdmissionPolicyBinding@1.33": "as "
    "ValidatingAdmissionPolicy: gone from the bundled OpenAPI in 1.32",
    **{
        f"removed:resource.k8s.io/v1beta1/{kind}@1.36": "pluto says removed in 1.36, but the "
        "bundled 1.36 and 1.37 OpenAPI still serve resource.k8s.io/v1beta1: we say "
        "api-deprecated (superseded by the GA resource.k8s.io/v1)"
        for kind in ("ResourceSlice", "ResourceClaim", "DeviceClass", "ResourceClaimTemplate")
    },
    **{
        f"deprecated:flowcontrol.apiserver.k8s.io/{version}/{kind}@1.25": "no GA flowcontrol "
        "version is served before 1.29, so we do not call it deprecated at 1.25"
        for version in ("v1beta1", "v1beta2")
        for kind in ("FlowSchema", "PriorityLevelConfiguration")
    },
    "deprecated:flowcontrol.apiserver.k8s.io/v1beta3/FlowSchema@1.25": "pluto's deprecated-in "
    "1.24 predates the API: v1beta3 is first served in 1.26, so at 1.25 we say api-unavailable",
    **{
        f"deprecated:admissionregistration.k8s.io/v1alpha1/{kind}@1.28": "the GA "
        "admissionregistration.k8s.io/v1 policy kinds are first served in 1.30"
        for kind in ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")
    },
    **{
        f"deprecated:resource.k8s.io/{version}/{kind}@{at}": "the GA resource.k8s.io/v1 is "
        "first served in 1.34"
        for version, at in (("v1beta1", "1.33"), ("v1alpha3", "1.32"))
        for kind in ("ResourceSlice", "ResourceClaim", "DeviceClass", "ResourceClaimTemplate")
    },
    "deprecated:storage.k8s.io/v1alpha1/VolumeAttributesClass@1.31": "the GA storage.k8s.io/v1 "
    "VolumeAttributesClass is first served in 1.34",
    **{
        f"{check}:flowcontrol.apiserver.k8s.io/v1beta1/FlowControl@{at}": "FlowControl is not a "
        "Kubernetes kind (the group's kinds are FlowSchema and PriorityLevelConfiguration), so "
        "no bundled version ever served it: api-removed, but not `removed in 1.26` nor deprecated"
        for check, at in (("removed", "1.26"), ("deprecated", "1.25"))
    },
    "other:rbac.istio.io/AuthorizationPolicies@1.37": "pluto's `version: rbac.istio.io` has no "
    "`/`: as an apiVersion it names version `rbac.istio.io` of the core group, which no "
    "Kubernetes serves, so api-removed is right for this manifest",
}


@dataclass(frozen=True)
class PlutoCase:
    id: str
    check: str  # "removed", "deprecated" or "other"
    api_version: str
    kind: str
    at: str  # the Kubernetes version validated against
    entry: Mapping[str, Any]


def _minor(version: object) -> int | None:
    match = re.fullmatch(r"v?1\.(\d+)(\.\d+)?", str(version or ""))
    return int(match[1]) if match else None


def pluto_cases() -> list[PlutoCase]:
    data = yaml.safe_load(PLUTO.read_text(encoding="utf-8"))
    oldest = _minor(CATALOG.kubernetes_versions()[0])
    newest = _minor(CATALOG.kubernetes_versions()[-1])
    assert oldest is not None and newest is not None
    cases: dict[str, PlutoCase] = {}
    for entry in data["deprecated-versions"]:
        version, kind = str(entry["version"]), str(entry.get("kind") or "")
        wanted: list[tuple[str, int]] = []
        if entry["component"] != "k8s":
            wanted.append(("other", newest))
        else:
            removed, deprecated = (
                _minor(entry.get("removed-in")),
                _minor(entry.get("deprecated-in")),
            )
            if removed is not None and removed <= newest:
                wanted.append(("removed", max(removed, oldest)))
            if deprecated is not None:
                at = max(deprecated, oldest)
                if at <= newest and (removed is None or at < removed):
                    wanted.append(("deprecated", at))
        for check, minor in wanted:
            case_id = f"{check}:{version}/{kind}@1.{minor}"
            cases.setdefault(  # pluto lists audit.k8s.io/v1alpha1 Policy twice
                case_id, PlutoCase(case_id, check, version, kind, f"1.{minor}", entry)
            )
    return list(cases.values())


PLUTO_CASES = pluto_cases()


def test_pluto_known_differences() -> None:
    ids = {c.id for c in PLUTO_CASES}
    assert {c.check for c in PLUTO_CASES} == {"removed", "deprecated", "other"}
    assert sum(c.check == "removed" for c in PLUTO_CASES) >= 80
    assert set(PLUTO_DIFFERENCES) <= ids, "a listed difference names no case"
    print("\npluto verdicts we do not share (known differences):")
    for case_id, reason in sorted(PLUTO_DIFFERENCES.items()):
        print(f"  {case_id}: {reason}")


def _served(api_version: str, kind: str, at: str) -> bool:
    group, _, version = api_version.rpartition("/")
    return (group, version, kind) in CATALOG.kubernetes_kinds(at)


def pluto_problems(case: PlutoCase, findings: list[Finding]) -> list[str]:
    """How our findings disagree with pluto's entry (empty: they agree)."""
    api = [f for f in findings if f.rule_id.startswith("api-")]
    said = ", ".join(f"[{f.rule_id}] {f.message}" for f in api) or "no api-* finding"
    entry = case.entry
    if case.check == "other":
        return [f"a {entry['component']} API is not Kubernetes', yet: {said}"] if api else []
    if case.check == "deprecated":
        if any(f.rule_id == "api-deprecated" for f in api):
            return []
        return [f"pluto: deprecated in {entry['deprecated-in']}; we: {said}"]
    problems = []
    removed = [f for f in api if f.rule_id == "api-removed"]
    if [f for f in api if f.rule_id == "api-unavailable"] or not removed:
        problems.append(f"pluto: removed in {entry['removed-in']}; we: {said}")
    message = " ".join(f.message for f in removed)
    replacement = str(entry.get("replacement-api") or "")
    served = bool(replacement) and _served(replacement, case.kind, case.at)
    if removed and served and f"use {replacement}" not in message:
        problems.append(f"pluto's replacement {replacement} is served, we said: {message}")
    removed_in = _minor(entry["removed-in"])
    oldest = _minor(CATALOG.kubernetes_versions()[0])
    within = removed_in is not None and oldest is not None and removed_in > oldest
    if removed and within and f"removed in Kubernetes 1.{removed_in}," not in message:
        problems.append(f"pluto: removed in 1.{removed_in}; we: {message}")
    return problems


@pytest.mark.parametrize("case", PLUTO_CASES, ids=lambda c: c.id)
def test_pluto_api_lifecycle(case: PlutoCase) -> None:
    body = f"apiVersion: {case.api_version}\nkind: {case.kind}\nmetadata:\n  name: pluto\n"
    findings, _summary = validate({"manifest.yaml": body.encode()}, version=case.at)
    problems = pluto_problems(case, findings)
    if case.id in PLUTO_DIFFERENCES:
        print(f"\nknown difference {case.id}: {PLUTO_DIFFERENCES[case.id]}")
        assert problems, f"no longer a difference, unlist it:\n{show(findings)}"
    else:
        assert problems == [], show(findings)
    if case.check == "other" and case.kind and case.id not in PLUTO_DIFFERENCES:
        assert [f.rule_id for f in findings] == ["no-schema"], show(findings)
