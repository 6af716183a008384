"""CONFIG_SCHEMA: the generated docs file, the parsers it must agree with, and the errors it gives.

Regenerate docs/config.schema.json with `pytest tests/core/test_config_schema.py --update-goldens`.
"""

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.core.approval import predicate_config, rules
from bot.core.config.reader import KNOWN_KEYS
from bot.core.config.schema import CONFIG_SCHEMA, schema_json
from bot.core.config.schema_check import check_config_schema
from bot.core.safe_yaml import load_yaml_documents
from bot.core.trusted_inputs import parse_config, parse_trusted
from bot.model.errors import TrustedInputError
from bot.model.resource import Location

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "docs" / "config.schema.json"


def test_docs_schema_file_is_generated_from_the_dict(request):
    if request.config.getoption("--update-goldens"):
        SCHEMA_FILE.write_text(schema_json(), encoding="utf-8")
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_json(), (
        "docs/config.schema.json is stale: pytest tests/core/test_config_schema.py --update-goldens"
    )


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(CONFIG_SCHEMA)


def _properties(path: str) -> set[str]:
    node = CONFIG_SCHEMA
    for part in filter(None, path.split(".")):
        node = node["properties"][part]
    return set(node["properties"])


@pytest.mark.parametrize("path", sorted(KNOWN_KEYS), ids=lambda p: p or "top")
def test_schema_keys_are_the_readers_keys(path):
    assert _properties(path) == KNOWN_KEYS[path]


def test_schema_keys_are_the_approval_parsers_keys():
    approval = CONFIG_SCHEMA["properties"]["approval"]
    rule = approval["properties"]["rules"]["items"]
    assert set(approval["properties"]) == {"rules", "policy", "config_owners"}
    assert set(rule["properties"]) == rules._RULE_KEYS
    assert set(CONFIG_SCHEMA["$defs"]["requirement"]["properties"]) == rules._REQUIRES_KEYS
    assert set(rule["properties"]["if"]["properties"]) == set(predicate_config._PARSERS)
    assert CONFIG_SCHEMA["$defs"]["requirement"]["properties"]["permissions"]["items"]["enum"] == (
        list(rules.PERMISSIONS)
    )


def _yaml_blocks(markdown: Path, whole_files_only: bool) -> list[str]:
    """```yaml blocks; with `whole_files_only`, those that set `version: 1`."""
    blocks = re.findall(r"```yaml\n(.*?)```", markdown.read_text(encoding="utf-8"), re.S)
    return [b for b in blocks if not whole_files_only or re.search(r"^version: 1$", b, re.M)]


CONFIG_FILES = sorted(ROOT.glob("examples/**/.gitops-bot.yaml"))
# Every block of the reference is a valid (partial) config; the README's is the whole-file one.
DOC_EXAMPLES = [
    pytest.param(block, id=f"{doc.name}#{i}")
    for doc, whole in ((ROOT / "README.md", True), (ROOT / "docs" / "config.md", False))
    for i, block in enumerate(_yaml_blocks(doc, whole))
]


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_example_repositories_configs_are_valid(path):
    jsonschema.validate(yaml.safe_load(path.read_bytes()), CONFIG_SCHEMA)
    parse_trusted(path.read_bytes())


@pytest.mark.parametrize("block", DOC_EXAMPLES)
def test_documented_configs_are_valid(block):
    jsonschema.validate(yaml.safe_load(block), CONFIG_SCHEMA)
    parse_trusted(block.encode())


def test_every_key_is_documented():
    text = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    missing = []

    def walk(node, path):
        for key, sub in node.get("properties", {}).items():
            full = f"{path}.{key}" if path else key
            if f"`{key}`" not in text and f"`{full}`" not in text and f"{key}:" not in text:
                missing.append(full)
            walk(sub, full)

    walk(CONFIG_SCHEMA, "")
    walk(CONFIG_SCHEMA["$defs"]["requirement"], "approval.rules[].requires")
    assert missing == []


RELEASE = "render:\n  helm:\n    releases:\n      - chart: charts/app\n"

# (config, line, path shown, message, hint): problems only the schema notices.
SCHEMA_ONLY = [
    (
        RELEASE + "        vaules: [v.yaml]\n",
        5,
        "render.helm.releases[0].vaules",
        "unknown key 'vaules'",
        "allowed keys: chart, name, namespace, values",
    ),
    (
        "validation:\n  schemas:\n    - schema: s.json\n      kind: [ConfigMap]\n",
        4,
        "validation.schemas[0].kind",
        '["ConfigMap"] is not of type "string"',
        "see docs/config.md",
    ),
    (
        "signatures:\n  gpg_keys: [a.asc, b.asc]\n",
        2,
        "signatures.gpg_keys",
        '["a.asc","b.asc"] is not of type "string"',
        "see docs/config.md",
    ),
    (
        "signatures:\n  people:\n    SHA256:abc: [dana]\n",
        3,
        "signatures.people.SHA256:abc",
        '["dana"] is not of type "string"',
        "see docs/config.md",
    ),
    (
        "policies:\n  change_namespace: 7\n",
        2,
        "policies.change_namespace",
        '7 is not of type "string"',
        "see docs/config.md",
    ),
    (
        RELEASE + "        name: 7\n        namespace: [prod]\n",
        5,
        "render.helm.releases[0].name",
        '7 is not of type "string"',
        "see docs/config.md (1 more problem after this one)",
    ),
]


@pytest.mark.parametrize(
    ("content", "line", "path", "message", "hint"),
    SCHEMA_ONLY,
    ids=[
        "release-typo",
        "custom-schema-kind-list",
        "list-for-path",
        "people-list",
        "int-ns",
        "two",
    ],
)
def test_schema_errors_name_file_line_and_key_path(content, line, path, message, hint):
    with pytest.raises(TrustedInputError) as raised:
        parse_config(content.encode())
    error = raised.value
    assert error.message == f".gitops-bot.yaml: {path}: {message}"
    assert error.location == Location(".gitops-bot.yaml", line)
    assert error.hint == hint


TYPOS = [
    ("fail_onn: error\n", 1, "fail_onn", "approval, clusters, diff, fail_on"),
    ("render:\n  timout_seconds: 3\n", 2, "render.timout_seconds", "timeout_seconds"),
    ("clusters:\n  prod:\n    kubernets: '1.31'\n", 3, "clusters.prod.kubernets", "kubernetes"),
    ("policies:\n  builtin:\n    disable: [x]\n", 3, "policies.builtin.disable", "disabled"),
    (
        "approval:\n  rules:\n    - name: r\n      requires: {cuont: 1}\n",
        4,
        "approval.rules[0].requires.cuont",
        "author_can_approve, count",
    ),
    (
        "approval:\n  rules:\n    - name: r\n      if:\n        rendered: {kind: [Secret]}\n",
        5,
        "approval.rules[0].if.rendered.kind",
        "kinds",
    ),
    ("approval:\n  polcy: r\n", 2, "approval.polcy", "config_owners, policy, rules"),
    (
        "validation:\n  schemas:\n    - schema: s.json\n      path: [x]\n",
        4,
        "validation.schemas[0].path",
        "api_version, kind, paths, schema",
    ),
]


@pytest.mark.parametrize(
    ("content", "line", "path", "allowed"),
    TYPOS,
    ids=["top", "render", "cluster", "builtin", "requires", "rendered", "approval", "schemas"],
)
def test_typos_name_the_key_path_and_the_allowed_keys(content, line, path, allowed):
    doc = load_yaml_documents(content, ".gitops-bot.yaml").documents[0]
    with pytest.raises(TrustedInputError) as raised:
        check_config_schema(doc.data, doc.field_lines)
    error = raised.value
    assert error.message == f".gitops-bot.yaml: {path}: unknown key {path.rsplit('.', 1)[-1]!r}"
    assert error.location == Location(".gitops-bot.yaml", line)
    assert error.hint.startswith("allowed keys: ") and allowed in error.hint


def test_a_valid_config_passes_and_json_round_trips():
    doc = load_yaml_documents(
        (ROOT / "examples" / "gitops-repo" / ".gitops-bot.yaml").read_bytes(), ".gitops-bot.yaml"
    ).documents[0]
    check_config_schema(doc.data, doc.field_lines)
    assert json.loads(schema_json()) == CONFIG_SCHEMA
