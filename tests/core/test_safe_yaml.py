from __future__ import annotations

import datetime
from typing import Any

import pytest
import yaml

from bot.core.safe_yaml import (
    YamlDocument,
    YamlLimits,
    YamlLoad,
    format_field_path,
    load_yaml_documents,
)
from bot.model.finding import Severity
from bot.model.resource import Location

PATH = "apps/web/deploy.yaml"
SYNTAX_HINT = "fix the YAML syntax at this line (check indentation and quoting)"


DEFAULTS = YamlLimits()


def load(content: bytes | str, limits: YamlLimits = DEFAULTS) -> YamlLoad:
    return load_yaml_documents(content, PATH, limits)


def docs(result: YamlLoad) -> list[tuple[int, int, Any]]:
    return [(d.index, d.line, d.data) for d in result.documents]


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = ["l0: &l0 [" + ", ".join(['"lol"'] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def block_mapping(depth: int) -> str:
    # One-space indentation; the file grows quadratically with depth (1900 levels ~ 1.8 MB).
    return "".join(" " * i + "k:\n" for i in range(depth))


def nested_flow(depth: int) -> str:
    return "[" * depth + "]" * depth


# --- documents ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", []),
        ("# only a comment\n", []),
        ("---\n---\n", []),
        ("a: 1\n", [(0, 1, {"a": 1})]),
        (
            "a: 1\n---\n---\n# comment\n\nb: 2\n...\n---\n- x\n",
            [(0, 1, {"a": 1}), (2, 6, {"b": 2}), (3, 9, ["x"])],
        ),
        ("# header\n---\n\n  name: x\n", [(0, 4, {"name": "x"})]),
        ("--- hello\n---\n42\n", [(0, 1, "hello"), (1, 3, 42)]),
        (b"\xef\xbb\xbfa: 1\n", [(0, 1, {"a": 1})]),
        ("k: caf\u00e9\n".encode(), [(0, 1, {"k": "caf\u00e9"})]),
        (
            "d: 2024-01-01\nt: 2024-01-01T10:00:00Z\ne: !!timestamp 2024-01-01\n",
            [
                (
                    0,
                    1,
                    {
                        "d": "2024-01-01",
                        "t": "2024-01-01T10:00:00Z",
                        "e": datetime.date(2024, 1, 1),
                    },
                )
            ],
        ),
        (
            "a: yes\nb: on\nc: no\nd: off\ne: y\nf: 'yes'\ng: 0o17\nh: 017\n",
            [
                (
                    0,
                    1,
                    # PyYAML's YAML 1.1 rules, pinned so that a change shows up here.
                    {"a": True, "b": True, "c": False, "d": False, "e": "y", "f": "yes"}
                    | {"g": "0o17", "h": 15},
                )
            ],
        ),
        (
            "base: &base {cpu: 1, mem: 2}\nsmall:\n  <<: *base\n  mem: 1\n"
            "multi: {<<: [*base, {x: 1}]}\n",
            [
                (
                    0,
                    1,
                    {
                        "base": {"cpu": 1, "mem": 2},
                        "small": {"cpu": 1, "mem": 1},
                        "multi": {"cpu": 1, "mem": 2, "x": 1},
                    },
                )
            ],
        ),
        (
            "img: &img nginx:1.27\nenv: &env [{name: A}]\n"
            "a: {image: *img, env: *env}\nb: [*img, *env]\n",
            [
                (
                    0,
                    1,
                    {
                        "img": "nginx:1.27",
                        "env": [{"name": "A"}],
                        "a": {"image": "nginx:1.27", "env": [{"name": "A"}]},
                        "b": ["nginx:1.27", [{"name": "A"}]],
                    },
                )
            ],
        ),
    ],
    ids=[
        "empty",
        "comment-only",
        "empty-docs-dropped",
        "single",
        "multi-doc-indices-and-lines",
        "content-line-after-comments",
        "scalar-documents",
        "utf8-bom",
        "utf8-bytes",
        "timestamps-stay-strings",
        "yaml11-booleans-and-octals",
        "merge-keys",
        "small-aliases",
    ],
)
def test_documents(content: bytes | str, expected: list[tuple[int, int, Any]]) -> None:
    result = load(content)
    assert result.findings == ()
    assert docs(result) == expected


def test_loader_leaves_csafeloader_resolvers_alone() -> None:
    assert load("d: 2024-01-01\n").documents[0].data == {"d": "2024-01-01"}
    assert yaml.load("d: 2024-01-01\n", Loader=yaml.CSafeLoader) == {"d": datetime.date(2024, 1, 1)}


# --- field lines -------------------------------------------------------------------------------

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app.kubernetes.io/name: web
    "my key": x
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: app
          image: nginx:1.27
          ports: [{containerPort: 80},
                  {containerPort: 443}]
        -
          name: sidecar
"""


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            DEPLOYMENT,
            {
                "": 1,
                "apiVersion": 1,
                "kind": 2,
                "metadata": 3,
                "metadata.name": 4,
                "metadata.labels": 5,
                'metadata.labels["app.kubernetes.io/name"]': 6,
                'metadata.labels["my key"]': 7,
                "spec": 8,
                "spec.replicas": 9,
                "spec.template": 10,
                "spec.template.spec": 11,
                "spec.template.spec.containers": 12,
                "spec.template.spec.containers[0]": 13,
                "spec.template.spec.containers[0].name": 13,
                "spec.template.spec.containers[0].image": 14,
                "spec.template.spec.containers[0].ports": 15,
                "spec.template.spec.containers[0].ports[0]": 15,
                "spec.template.spec.containers[0].ports[0].containerPort": 15,
                "spec.template.spec.containers[0].ports[1]": 16,
                "spec.template.spec.containers[0].ports[1].containerPort": 16,
                "spec.template.spec.containers[1]": 18,
                "spec.template.spec.containers[1].name": 18,
            },
        ),
        ("- a\n- [b, c]\n", {"": 1, "[0]": 1, "[1]": 2, "[1][0]": 2, "[1][1]": 2}),
        ("---\n\nhello\n", {"": 3}),
        (
            # Aliased values: mapping keys keep their own line, aliased list items are left out
            # (their node's line is the anchor's). Merged-in fields are not listed either.
            "a: &x {k: 1}\nb: *x\nc:\n  - *x\n  - &s 5\nd:\n  <<: *x\n  z: 2\n",
            {"": 1, "a": 1, "a.k": 1, "b": 2, "c": 3, "c[1]": 5, "d": 6, "d.z": 8},
        ),
        ("1: one\ntrue: t\n'q': 3\n", {"": 1, "1": 1, "true": 2, "q": 3}),
    ],
    ids=["deployment", "root-sequence", "root-scalar", "aliases-and-merge", "non-string-keys"],
)
def test_field_lines(content: str, expected: dict[str, int]) -> None:
    result = load(content)
    assert result.findings == ()
    assert dict(result.documents[0].field_lines) == expected


def test_field_lines_are_per_document() -> None:
    result = load("a: 1\n---\nb:\n  c: 2\n")
    assert [dict(d.field_lines) for d in result.documents] == [
        {"": 1, "a": 1},
        {"": 3, "b": 3, "b.c": 4},
    ]


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([], ""),
        (["spec", "replicas"], "spec.replicas"),
        (["spec", "containers", 0, "image"], "spec.containers[0].image"),
        ([0, 1, "a"], "[0][1].a"),
        (
            ["metadata", "labels", "app.kubernetes.io/name"],
            'metadata.labels["app.kubernetes.io/name"]',
        ),
        (["metadata", "annotations", "example.com/a b"], 'metadata.annotations["example.com/a b"]'),
        (["a/b", "c"], "a/b.c"),
        (["x[0]"], '["x[0]"]'),
        (["tab\there"], '["tab\\there"]'),
        (["", 'q"uote.d'], '[""]["q\\"uote.d"]'),
        (["0"], "0"),
    ],
    ids=[
        "root",
        "keys",
        "list-index",
        "root-list",
        "dotted-key",
        "space-in-key",
        "slash-stays-bare",
        "brackets-in-key",
        "whitespace-escaped",
        "empty-and-quoted",
        "numeric-string-key",
    ],
)
def test_format_field_path(parts: list[str | int], expected: str) -> None:
    assert format_field_path(parts) == expected


# --- findings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "limits", "rule_id", "location", "message", "kept"),
    [
        (
            "a: 1\n---\nb: c: d\n",
            YamlLimits(),
            "yaml-malformed",
            (3, 5),
            "invalid YAML: mapping values are not allowed in this context",
            [(0, 1, {"a": 1})],
        ),
        (
            "a:\n  b: 1\n c: 2\n",
            YamlLimits(),
            "yaml-malformed",
            (3, 2),
            "invalid YAML: did not find expected key (while parsing a block mapping at line 1)",
            [],
        ),
        (
            "k: [a, b\nother: 1\n",
            YamlLimits(),
            "yaml-malformed",
            (2, 6),
            "invalid YAML: did not find expected ',' or ']' "
            "(while parsing a flow sequence at line 1)",
            [],
        ),
        (
            "x: 1\n---\ncmd: !!python/object/apply:os.system [id]\n",
            YamlLimits(),
            "yaml-malformed",
            (3, 6),
            "invalid YAML: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object/apply:os.system'",
            [(0, 1, {"x": 1})],
        ),
        (
            "a: 1\nb: [!!int abc]\n",
            YamlLimits(),
            "yaml-malformed",
            (2, 5),
            "invalid YAML: invalid value 'abc' for tag !!int (ValueError)",
            [],
        ),
        (
            "a: !!bool maybe\n",
            YamlLimits(),
            "yaml-malformed",
            (1, 4),
            "invalid YAML: invalid value 'maybe' for tag !!bool (KeyError)",
            [],
        ),
        (
            "{[1]: 2}\n",
            YamlLimits(),
            "yaml-malformed",
            (1, 2),
            "invalid YAML: found unhashable key (while constructing a mapping at line 1)",
            [],
        ),
        (
            "a: *nope\n",
            YamlLimits(),
            "yaml-malformed",
            (1, 4),
            "invalid YAML: found undefined alias",
            [],
        ),
        (
            b"a: 1\nkey: \x07\n",
            YamlLimits(),
            "yaml-malformed",
            (2, 6),
            "invalid YAML: unacceptable character #x0007: control characters are not allowed",
            [],
        ),
        (
            b"a: 1\nb: \xff\n",
            YamlLimits(),
            "yaml-malformed",
            (2, 4),
            "file is not valid UTF-8 text",
            [],
        ),
        (
            "k: caf\u00e9 \udc80\n",
            YamlLimits(),
            "yaml-malformed",
            (1, 9),
            "file is not valid UTF-8 text",
            [],
        ),
        (
            b"k: caf\xc3\xa9\xe9\n",
            YamlLimits(),
            "yaml-malformed",
            (1, 8),
            "file is not valid UTF-8 text",
            [],
        ),
        (
            b"a: 1\n" * 3,
            YamlLimits(max_bytes=14),
            "file-too-large",
            (1, 1),
            "file is 15 bytes, over the limit of 14 bytes",
            [],
        ),
        (
            "k: \u00e9\u00e9\u00e9\u00e9\n",  # 8 characters, 12 bytes
            YamlLimits(max_bytes=11),
            "file-too-large",
            (1, 1),
            "file is 12 bytes, over the limit of 11 bytes",
            [],
        ),
        (
            "a: 1\n---\n" + nested_flow(6),
            YamlLimits(max_depth=5),
            "yaml-too-deep",
            (3, 6),
            "YAML nesting is too deep: more than 5 levels",
            [(0, 1, {"a": 1})],
        ),
        (
            "[" * 100_000,
            YamlLimits(),
            "yaml-too-deep",
            (1, 1001),
            "YAML nesting is too deep: exceeded maximum nesting depth "
            "(while increasing flow level at line 1)",
            [],
        ),
        (
            "ok: 1\n---\n" + "{a: " * 100_000,
            YamlLimits(),
            "yaml-too-deep",
            (3, 801),
            "YAML nesting is too deep: more than 200 levels",
            [(0, 1, {"ok": 1})],
        ),
        (
            "- " * 100_000 + "x\n",
            YamlLimits(),
            "yaml-too-deep",
            (1, 401),
            "YAML nesting is too deep: more than 200 levels",
            [],
        ),
        (
            block_mapping(1900),
            YamlLimits(),
            "yaml-too-deep",
            (201, 201),
            "YAML nesting is too deep: more than 200 levels",
            [],
        ),
        (
            "a0: &a0 [1]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 6)),
            YamlLimits(max_depth=5),
            "yaml-too-deep",
            (1, 1),  # the root mapping is the first node to cross the limit
            "YAML nesting is too deep: more than 5 levels once aliases are expanded",
            [],
        ),
        (
            billion_laughs(),
            YamlLimits(),
            "yaml-alias-bomb",
            (7, 5),  # a node's mark starts at its anchor
            "YAML rejected: expands to more than 1000000 nodes (aliases count at each use)",
            [],
        ),
        (
            "a: &a [*a]\n",
            YamlLimits(),
            "yaml-alias-bomb",
            (1, 4),
            "YAML rejected: an alias (*name) refers to its own anchor (&name)",
            [],
        ),
        (
            "ok: 1\n---\nm: &m {self: *m}\n",
            YamlLimits(),
            "yaml-alias-bomb",
            (3, 4),
            "YAML rejected: an alias (*name) refers to its own anchor (&name)",
            [(0, 1, {"ok": 1})],
        ),
        (
            "a: [1, 2, 3]\n---\nb: [1, 2, 3]\n",  # 6 nodes each, budget shared by the stream
            YamlLimits(max_nodes=10),
            "yaml-alias-bomb",
            (3, 1),
            "YAML rejected: expands to more than 10 nodes (aliases count at each use)",
            [(0, 1, {"a": [1, 2, 3]})],
        ),
    ],
    ids=[
        "mapping-value-in-plain-scalar-keeps-earlier-docs",
        "bad-indentation",
        "unclosed-flow-sequence",
        "python-tag-keeps-earlier-docs",
        "bad-int",
        "bad-bool",
        "unhashable-key",
        "undefined-alias",
        "control-character",
        "non-utf8-bytes",
        "lone-surrogate-str",
        "non-utf8-after-multibyte",
        "too-large-bytes",
        "too-large-counts-utf8-bytes",
        "depth-limit-boundary",
        "flow-list-1e5-deep-libyaml-limit",
        "flow-mapping-1e5-deep",
        "block-sequence-1e5-deep",
        "block-mapping-1900-deep",
        "alias-chain-too-deep",
        "billion-laughs",
        "recursive-alias-list",
        "recursive-alias-mapping-keeps-earlier-docs",
        "node-budget-spans-stream",
    ],
)
def test_findings(
    content: bytes | str,
    limits: YamlLimits,
    rule_id: str,
    location: tuple[int, int],
    message: str,
    kept: list[tuple[int, int, Any]],
) -> None:
    result = load(content, limits)
    assert [(f.rule_id, f.message) for f in result.findings] == [(rule_id, message)]
    finding = result.findings[0]
    assert finding.severity is Severity.ERROR
    assert finding.location == Location(PATH, *location)
    assert finding.hint
    assert docs(result) == kept


@pytest.mark.parametrize(
    ("content", "limits"),
    [
        (b"a: 1\nb: 1\nc: 1\n", YamlLimits(max_bytes=15)),
        ("a: 1\n---\n" + nested_flow(5), YamlLimits(max_depth=5)),
        (
            "a0: &a0 [1]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 4)),
            YamlLimits(max_depth=5),
        ),
        ("a: [1, 2, 3]\n---\nb: [1]\n", YamlLimits(max_nodes=10)),
        (billion_laughs(levels=5), YamlLimits()),
        (nested_flow(200), YamlLimits()),
    ],
    ids=[
        "size-at-limit",
        "depth-at-limit",
        "alias-depth-at-limit",
        "nodes-at-limit",
        "small-laughs",
        "flow-200-deep",
    ],
)
def test_limits_are_inclusive(content: bytes | str, limits: YamlLimits) -> None:
    result = load(content, limits)
    assert result.findings == ()
    assert result.documents


@pytest.mark.parametrize(
    ("content", "expected_rule"),
    [
        # The first problem in the stream wins: too deep before malformed, and the other way round.
        ("a: 1\n---\n" + "[" * 300 + "\n---\nb: c: d\n", "yaml-too-deep"),
        ("a: 1\n---\nb: c: d\n---\n" + "[" * 300, "yaml-malformed"),
        ("a: 1\n---\nb: *undefined\n---\n" + nested_flow(300), "yaml-malformed"),
    ],
    ids=["deep-then-malformed", "malformed-then-deep", "composer-error-then-deep"],
)
def test_first_problem_stops_the_stream(content: str, expected_rule: str) -> None:
    result = load(content)
    assert [f.rule_id for f in result.findings] == [expected_rule]
    assert result.documents == (YamlDocument({"a": 1}, 1, 0, {"": 1, "a": 1}),)


@pytest.mark.parametrize(
    ("content", "limits", "hint"),
    [
        ("a: b: c\n", DEFAULTS, SYNTAX_HINT),
        (
            "a: !!python/name:os.system x\n",
            DEFAULTS,
            "check the value and any explicit tag (!!...) here; only plain YAML types load",
        ),
        (b"\xff", DEFAULTS, "save the file as UTF-8"),
        (
            "a: 1\n",
            YamlLimits(max_bytes=1),
            "split the file or raise render.max_file_bytes in .gitops-bot.yaml",
        ),
        (
            "[[1]]",
            YamlLimits(max_depth=1),
            "flatten the structure; deep nesting is rejected to protect the parser",
        ),
        (
            "a: &a [*a]",
            DEFAULTS,
            "write values out instead of aliasing (*name) anchors (&name), or split the file",
        ),
    ],
    ids=["syntax", "tag", "encoding", "size", "depth", "aliases"],
)
def test_hints(content: bytes | str, limits: YamlLimits, hint: str) -> None:
    assert [f.hint for f in load(content, limits).findings] == [hint]


@pytest.mark.parametrize(
    ("content", "line", "column", "first"),
    [
        ("a: 1\nb: 2\na: 3\n", 3, 1, 1),
        ("spec:\n  x: 1\n  y: 2\n  x: 1\n", 4, 3, 2),
        ("---\nok: 1\n---\nlist:\n  - k: 1\n    k: 2\n", 6, 5, 5),
    ],
    ids=["top-level", "nested", "in-list-item-of-second-doc"],
)
def test_duplicate_keys_are_rejected_like_kustomize(
    content: str, line: int, column: int, first: int
) -> None:
    result = load(content)
    assert [(f.rule_id, f.location) for f in result.findings] == [
        ("yaml-duplicate-key", Location(PATH, line, column))
    ]
    assert f"already defined at line {first}" in result.findings[0].message


def test_merge_keys_are_not_duplicates() -> None:
    result = load("base: &b {x: 1}\nderived:\n  <<: *b\n  <<: *b\n  y: 2\n")
    assert result.findings == ()


@pytest.mark.parametrize(
    ("content", "keys"),
    [
        ("5: a\n", ["5"]),
        ("true: a\nfalse: b\n", ["true", "false"]),
        ("3.14: a\n1.0: b\n", ["3.14", "1"]),
        (".inf: a\n-.inf: b\n.nan: c\n", [".inf", "-.inf", ".nan"]),
        ("plain: a\n", ["plain"]),
    ],
    ids=["int", "bool", "float", "special-floats", "strings-untouched"],
)
def test_keys_become_strings_as_kubernetes_reads_them(content: str, keys: list[str]) -> None:
    (doc,) = load(content).documents
    assert list(doc.data) == keys
