"""POST /graphql is not in the REST description: a small parser checks that a request is a
well-formed GraphQL document, and the one mutation the bot sends (minimizeComment) its inputs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tests.contract.github_spec import ContractViolationError

_TOKEN = re.compile(
    r'\s*(?:(?P<punct>[{}()\[\]:!$=,])|(?P<name>[_A-Za-z][_0-9A-Za-z]*)|(?P<string>"(?:[^"\\]|\\.)*")'
    r"|(?P<number>-?\d+(?:\.\d+)?))"
)
CLASSIFIERS = frozenset({"ABUSE", "DUPLICATE", "OFF_TOPIC", "OUTDATED", "RESOLVED", "SPAM"})
_MUTATION_INPUTS = {"minimizeComment": "MinimizeCommentInput"}


@dataclass(frozen=True)
class Field:
    name: str
    arguments: dict[str, Any]  # values: ("var", name) | literals
    selections: tuple[Field, ...]


@dataclass(frozen=True)
class Operation:
    kind: str  # query | mutation
    variables: dict[str, str]  # $name -> type, e.g. "MinimizeCommentInput!"
    selections: tuple[Field, ...]


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[str] = []
        pos = 0
        text = re.sub(r"#[^\n]*", "", text)  # comments
        while pos < len(text.rstrip()):
            match = _TOKEN.match(text, pos)
            if match is None:
                raise ContractViolationError(
                    f"GraphQL: unexpected character at {pos}: {text[pos:][:20]!r}"
                )
            self.tokens.append(match.group().strip())
            pos = match.end()
        self.at = 0

    def peek(self) -> str:
        return self.tokens[self.at] if self.at < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if not token or (expected is not None and token != expected):
            raise ContractViolationError(f"GraphQL: expected {expected or 'more'}, got {token!r}")
        self.at += 1
        return token

    def name(self) -> str:
        token = self.take()
        if not re.fullmatch(r"[_A-Za-z][_0-9A-Za-z]*", token):
            raise ContractViolationError(f"GraphQL: expected a name, got {token!r}")
        return token

    def operation(self) -> Operation:
        kind = "query"
        if self.peek() in ("query", "mutation"):
            kind = self.take()
            if self.peek() not in ("(", "{"):
                self.name()
        variables: dict[str, str] = {}
        if self.peek() == "(":
            self.take("(")
            while self.peek() != ")":
                self.take("$")
                var = self.name()
                self.take(":")
                variables[var] = self.type()
                if self.peek() == ",":
                    self.take(",")
            self.take(")")
        selections = self.selection_set()
        if self.peek():
            raise ContractViolationError(
                f"GraphQL: trailing input after the operation: {self.peek()!r}"
            )
        return Operation(kind, variables, selections)

    def type(self) -> str:
        if self.peek() == "[":
            self.take("[")
            inner = self.type()
            self.take("]")
            text = f"[{inner}]"
        else:
            text = self.name()
        if self.peek() == "!":
            self.take("!")
            text += "!"
        return text

    def selection_set(self) -> tuple[Field, ...]:
        self.take("{")
        fields = []
        while self.peek() != "}":
            fields.append(self.field())
        self.take("}")
        if not fields:
            raise ContractViolationError("GraphQL: empty selection set")
        return tuple(fields)

    def field(self) -> Field:
        name = self.name()
        arguments: dict[str, Any] = {}
        if self.peek() == "(":
            self.take("(")
            while self.peek() != ")":
                key = self.name()
                self.take(":")
                arguments[key] = self.value()
                if self.peek() == ",":
                    self.take(",")
            self.take(")")
        selections = self.selection_set() if self.peek() == "{" else ()
        return Field(name, arguments, selections)

    def value(self) -> Any:
        token = self.peek()
        if token == "$":
            self.take("$")
            return ("var", self.name())
        if token.startswith('"'):
            return json.loads(self.take())
        if token in ("{", "["):
            raise ContractViolationError("GraphQL: inline object/list arguments are not expected")
        return self.take()


def parse(query: str) -> Operation:
    return _Parser(query).operation()


def check_graphql(body: bytes | None) -> tuple[Operation, dict[str, Any]]:
    """The parsed operation and its variables; raises ContractViolationError."""
    try:
        payload = json.loads(body or b"")
    except ValueError:
        raise ContractViolationError("POST /graphql: the body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        raise ContractViolationError(
            'POST /graphql: the body must be {"query": "...", "variables": {}}'
        )
    unknown = set(payload) - {"query", "variables", "operationName"}
    if unknown:
        raise ContractViolationError(f"POST /graphql: unknown keys {sorted(unknown)}")
    variables = payload.get("variables") or {}
    if not isinstance(variables, dict):
        raise ContractViolationError("POST /graphql: variables must be an object")
    operation = parse(payload["query"])
    if operation.kind != "mutation":
        raise ContractViolationError(
            f"POST /graphql: the fake serves mutations only, got {operation.kind}"
        )
    for field in operation.selections:
        _check_mutation(field, operation, variables)
    return operation, variables


def _check_mutation(field: Field, operation: Operation, variables: dict[str, Any]) -> None:
    input_type = _MUTATION_INPUTS.get(field.name)
    if input_type is None:
        raise ContractViolationError(f"POST /graphql: mutation {field.name!r} is not modelled")
    argument = field.arguments.get("input")
    if set(field.arguments) != {"input"} or not (
        isinstance(argument, tuple) and argument[0] == "var"
    ):
        raise ContractViolationError(f"GraphQL: {field.name} takes exactly (input: $variable)")
    declared = operation.variables.get(argument[1])
    if declared != f"{input_type}!":
        raise ContractViolationError(
            f"GraphQL: ${argument[1]} must be declared {input_type}!, is {declared}"
        )
    if not field.selections:
        raise ContractViolationError(f"GraphQL: {field.name} needs a selection set")
    given = variables.get(argument[1])
    if not isinstance(given, dict):
        raise ContractViolationError(f"GraphQL: variable ${argument[1]} is missing")
    unknown = set(given) - {"subjectId", "classifier", "clientMutationId"}
    if unknown or not isinstance(given.get("subjectId"), str):
        raise ContractViolationError(
            f"GraphQL: MinimizeCommentInput takes subjectId and classifier, got {sorted(given)}"
        )
    if given.get("classifier") not in CLASSIFIERS:
        raise ContractViolationError(
            f"GraphQL: classifier {given.get('classifier')!r} is not one of {sorted(CLASSIFIERS)}"
        )
