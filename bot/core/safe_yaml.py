"""Load untrusted YAML safely: size, depth and alias-expansion bounds, findings instead of crashes.

Pure: takes bytes/str, returns values. Uses PyYAML's libyaml-backed safe loader, minus the
timestamp resolver (Kubernetes keeps `2024-01-01` a string).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Protocol

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from bot.model.finding import Finding, Severity
from bot.model.resource import Location

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_NEEDS_BRACKETS = re.compile(r"[.\[\]\s]")
# What PyYAML's safe constructors raise (besides YAMLError) on bad values, e.g. `!!int abc`.
_CONSTRUCT_ERRORS = (ValueError, TypeError, LookupError, AttributeError, OverflowError)


class _Mark(Protocol):  # yaml.error.Mark, or libyaml's yaml._yaml.Mark
    @property
    def line(self) -> int: ...  # 0-based
    @property
    def column(self) -> int: ...  # 0-based


@dataclass(frozen=True, slots=True)
class YamlLimits:
    max_bytes: int = 2 * 1024 * 1024
    max_depth: int = 200  # nesting of mappings/sequences
    max_nodes: int = 1_000_000  # nodes after alias expansion (alias-bomb bound), per stream


@dataclass(frozen=True, slots=True)
class YamlDocument:
    data: Any  # never None: empty documents are dropped
    line: int  # 1-based line where the document's content starts
    index: int  # 0-based position in the stream, empty documents included
    field_lines: Mapping[str, int]  # format_field_path() path -> 1-based line


@dataclass(frozen=True, slots=True)
class YamlLoad:
    documents: tuple[YamlDocument, ...]
    findings: tuple[Finding, ...]  # non-empty: the stream stopped at the (first) problem


def _resolvers_without_timestamps() -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    """A copy of CSafeLoader's implicit resolvers (never mutated) minus the timestamp one."""
    resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for first, entries in yaml.CSafeLoader.yaml_implicit_resolvers.items():
        kept = [(tag, regexp) for tag, regexp in entries if tag != _TIMESTAMP_TAG]
        if kept:
            resolvers[first] = kept
    return resolvers


def _json_key(key: Any) -> Any:
    """A YAML key as sigs.k8s.io/yaml writes it into JSON; None and collections stay as they are
    (they are refused later, as Kubernetes refuses them)."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        if math.isnan(key):
            return ".nan"
        if math.isinf(key):
            return ".inf" if key > 0 else "-.inf"
        return repr(key).removesuffix(".0")
    return key


class _Loader(yaml.CSafeLoader):
    """CSafeLoader without implicit timestamps; bad scalar values become ConstructorErrors."""

    yaml_implicit_resolvers = _resolvers_without_timestamps()

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        # kubectl and Flux convert YAML to JSON (sigs.k8s.io/yaml), where every key is a string.
        mapping = super().construct_mapping(node, deep)
        if all(isinstance(key, str) for key in mapping):
            return mapping
        return {_json_key(key): value for key, value in mapping.items()}

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except _CONSTRUCT_ERRORS as exc:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            shown = f" {node.value!r}" if isinstance(node, ScalarNode) else ""
            problem = f"invalid value{shown} for tag {tag} ({type(exc).__name__})"
            raise ConstructorError(None, None, problem, node.start_mark) from exc


class _RejectError(Exception):
    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding

    def finding_in(self, path: str) -> Finding:
        """The finding, located in the file being loaded (node walkers do not know its name)."""
        location = self.finding.location
        if location is None or location.path == path:
            return self.finding
        return replace(self.finding, location=replace(location, path=path))


def format_field_path(parts: Sequence[str | int]) -> str:
    """`["spec", "containers", 0, "app.kubernetes.io/name"]` -> `spec.containers[0]["app..."]`."""
    path = ""
    for part in parts:
        path = _join(path, part)
    return path


def _join(path: str, part: str | int) -> str:
    if isinstance(part, int):
        return f"{path}[{part}]"
    if not part or _NEEDS_BRACKETS.search(part):
        return f"{path}[{json.dumps(part, ensure_ascii=False)}]"
    return f"{path}.{part}" if path else part


def load_yaml_documents(
    content: bytes | str, path: str, limits: YamlLimits = YamlLimits()
) -> YamlLoad:
    if isinstance(content, str):
        try:
            data = content.encode("utf-8")
        except UnicodeEncodeError as exc:
            return _fail(_not_utf8(path, content[: exc.start].encode()))
    else:
        data = content
    if len(data) > limits.max_bytes:
        return _fail(
            Finding(
                "file-too-large",
                Severity.ERROR,
                f"file is {len(data)} bytes, over the limit of {limits.max_bytes} bytes",
                Location(path, 1),
                hint="split the file or raise render.max_file_bytes in .gitops-bot.yaml",
            )
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _fail(_not_utf8(path, data[: exc.start]))
    return _load(data, path, limits)


def _fail(finding: Finding) -> YamlLoad:
    return YamlLoad((), (finding,))


def _load(data: bytes, path: str, limits: YamlLimits) -> YamlLoad:
    too_deep = _depth_violation(data, limits.max_depth)
    stop = too_deep[0] if too_deep else -1
    documents: list[YamlDocument] = []
    findings: list[Finding] = []
    used = 0
    loader = _Loader(data)
    try:
        index = 0
        while index != stop and loader.check_node():
            node = loader.get_node()
            if node is not None:
                lines: dict[str, int] = {}
                used += _walk(node, lines, limits.max_nodes - used, limits, path)
                value = loader.construct_document(node)
                if value is not None:
                    documents.append(YamlDocument(value, lines[""], index, MappingProxyType(lines)))
            index += 1
        if too_deep:
            findings.append(_too_deep(path, too_deep[1], f"more than {limits.max_depth} levels"))
    except _RejectError as rejected:
        findings.append(rejected.finding_in(path))
    except yaml.YAMLError as exc:
        findings.append(_yaml_error(exc, path, data))
    finally:
        loader.dispose()
    return YamlLoad(tuple(documents), tuple(findings))


def _depth_violation(data: bytes, max_depth: int) -> tuple[int, _Mark | None] | None:
    """(document index, mark) where nesting first exceeds max_depth, streaming parse events.

    The composer and constructor recurse, so depth must be checked before composing. Syntax
    errors are left for the compose pass, which reports them after the documents before them.
    """
    depth, document = 0, -1
    try:
        for event in yaml.parse(data, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > max_depth:
                    return document, event.start_mark
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.DocumentStartEvent):
                document += 1
    except yaml.YAMLError:
        return None
    return None


def _children(node: Node, path: str | None) -> Iterator[tuple[Node, str | None, int, bool]]:
    """(child, its path or None, its line, line-is-the-key's): keys carry no path of their own."""
    if isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            yield item, None if path is None else f"{path}[{i}]", _line(item.start_mark), False
    elif isinstance(node, MappingNode):
        seen: dict[str, Node] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.tag != _MERGE_TAG:
                first = seen.setdefault(key.value, key)
                if first is not key:
                    raise _RejectError(_duplicate_key(key, first))
            yield key, None, 0, False
            named = path is not None and isinstance(key, ScalarNode) and key.tag != _MERGE_TAG
            child_path = _join(path, key.value) if named and path is not None else None
            yield value, child_path, _line(key.start_mark), True


@dataclass(slots=True)
class _Frame:
    node: Node
    children: Iterator[tuple[Node, str | None, int, bool]]
    size: int = 1
    depth: int = 1


def _walk(root: Node, lines: dict[str, int], budget: int, limits: YamlLimits, path: str) -> int:
    """Expanded node count of a document (aliases counted at every use) and its field lines.

    Sizes are memoized per node, so the walk is linear in the unexpanded graph; a node reached
    while it is still being walked is a recursive alias. Lines are recorded for first
    occurrences, and for aliased mapping values (at the key's line).
    """
    lines[""] = _line(root.start_mark)
    if not isinstance(root, MappingNode | SequenceNode):
        return 1
    done: dict[int, tuple[int, int]] = {}
    active = {id(root)}
    stack = [_Frame(root, _children(root, ""))]
    while True:
        frame = stack[-1]
        child = next(frame.children, None)
        if child is None:
            stack.pop()
            active.discard(id(frame.node))
            done[id(frame.node)] = (frame.size, frame.depth)
            if not stack:
                return frame.size
            size, depth, frame = frame.size, frame.depth, stack[-1]
        else:
            node, child_path, line, is_key_line = child
            known = done.get(id(node))
            if child_path is not None and (known is None or is_key_line):
                lines[child_path] = line
            if id(node) in active:
                raise _RejectError(
                    _alias_bomb(path, node, "an alias (*name) refers to its own anchor (&name)")
                )
            if known is None and isinstance(node, MappingNode | SequenceNode):
                active.add(id(node))
                stack.append(_Frame(node, _children(node, child_path)))
                continue
            if known is None:  # a scalar, remembered so that its aliases are known as such
                known = done[id(node)] = (1, 0)
            size, depth = known
        frame.size += size
        frame.depth = max(frame.depth, depth + 1)
        if frame.size > budget:
            reason = f"expands to more than {limits.max_nodes} nodes (aliases count at each use)"
            raise _RejectError(_alias_bomb(path, frame.node, reason))
        if frame.depth > limits.max_depth:
            reached = f"more than {limits.max_depth} levels once aliases are expanded"
            raise _RejectError(_too_deep(path, frame.node.start_mark, reached))


def _duplicate_key(key: ScalarNode, first: Node) -> Finding:
    # kustomize, kubectl and Flux refuse these files; silently keeping the last value would
    # show a clean diff for a manifest that is never applied.
    return Finding(
        "yaml-duplicate-key",
        Severity.ERROR,
        f"mapping key {key.value!r} already defined at line {_line(first.start_mark)}",
        _location("", key.start_mark),
        hint="remove one of the two entries",
    )


def _line(mark: _Mark | None) -> int:
    return mark.line + 1 if mark else 1


def _location(path: str, mark: _Mark | None) -> Location:
    return Location(path, mark.line + 1, mark.column + 1) if mark else Location(path, 1)


def _too_deep(path: str, mark: _Mark | None, reached: str) -> Finding:
    return Finding(
        "yaml-too-deep",
        Severity.ERROR,
        f"YAML nesting is too deep: {reached}",
        _location(path, mark),
        hint="flatten the structure; deep nesting is rejected to protect the parser",
    )


def _alias_bomb(path: str, node: Node, reason: str) -> Finding:
    return Finding(
        "yaml-alias-bomb",
        Severity.ERROR,
        f"YAML rejected: {reason}",
        _location(path, node.start_mark),
        hint="write values out instead of aliasing (*name) anchors (&name), or split the file",
    )


def _at_end_of(path: str, before: bytes) -> Location:
    column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
    return Location(path, before.count(b"\n") + 1, column)


def _not_utf8(path: str, before: bytes) -> Finding:
    message, location = "file is not valid UTF-8 text", _at_end_of(path, before)
    return Finding(
        "yaml-malformed", Severity.ERROR, message, location, hint="save the file as UTF-8"
    )


def _yaml_error(exc: yaml.YAMLError, path: str, data: bytes) -> Finding:
    if isinstance(exc, yaml.MarkedYAMLError):
        message = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context:
            where = f" at line {exc.context_mark.line + 1}" if exc.context_mark else ""
            message = f"{exc.problem} ({exc.context}{where})"
        if exc.note:
            message = f"{message}; {exc.note}"
        if exc.problem == "exceeded maximum nesting depth":  # libyaml's own limit (1000)
            return _too_deep(path, exc.problem_mark, message)
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark and "end of stream" in (exc.problem or ""):
            mark = exc.context_mark  # an unclosed quote or bracket: point at where it opens
        location = _location(path, mark)
    else:
        message = next(iter(str(exc).splitlines()), type(exc).__name__)
        before = data[: exc.position] if isinstance(exc, ReaderError) else b""
        location = _at_end_of(path, before)
    hint = "fix the YAML syntax at this line (check indentation and quoting)"
    if isinstance(exc, ConstructorError):
        hint = "check the value and any explicit tag (!!...) here; only plain YAML types load"
    return Finding(
        "yaml-malformed", Severity.ERROR, f"invalid YAML: {message}", location, hint=hint
    )
