"""Metric math expressions (GetMetricData and alarms) parsed into a tree.

The grammar is CloudWatch's: numbers, double-quoted strings, query ids (`m1`, `errors`), function
calls (`SUM(METRICS())`, `FILL(m1, 0)`, `IF(m1 > 10, 1, 0)`), arrays (`[m1, m2]`), arithmetic
(`+ - * / ^`), comparisons (`== != < <= > >=`) and logic (`AND`/`&&`, `OR`/`||`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from eventyard.protocol.errors import AwsError
from eventyard.services.cloudwatch.errors import validation


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Reference:
    id: str


@dataclass(frozen=True)
class Keyword:
    name: str  # REPEAT, LINEAR, ASC, DESC, ...


@dataclass(frozen=True)
class Call:
    function: str
    arguments: tuple[Node, ...]


@dataclass(frozen=True)
class Array:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Negate:
    operand: Node


@dataclass(frozen=True)
class Binary:
    operator: str
    left: Node
    right: Node


Node = Number | Text | Reference | Keyword | Call | Array | Negate | Binary

_TOKEN = re.compile(r"""\s*(?:
    (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[-+*/^<>(),\[\]])
)""", re.VERBOSE)
_COMPARISONS = {"==", "!=", "<", "<=", ">", ">="}


class ExpressionError(Exception):
    """A syntax or evaluation error in one expression; the caller names the query it came from."""


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"Unexpected character at position {position + 1}")
        position = match.end()
        kind = match.lastgroup or "op"
        tokens.append((kind, match.group(kind)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def accept(self, *values: str) -> str | None:
        token = self.peek()
        if token is not None and token[1] in values and token[0] in {"op", "name"}:
            self.position += 1
            return token[1]
        return None

    def expect(self, value: str) -> None:
        if self.accept(value) is None:
            found = self.peek()
            raise ExpressionError(f"Expected '{value}' but found {found[1] if found else 'the end'}")

    def parse(self) -> Node:
        if not self.tokens:
            raise ExpressionError("The expression is empty")
        node = self.logical_or()
        if self.peek() is not None:
            raise ExpressionError(f"Unexpected token {self.peek()[1]!r}")  # type: ignore[index]
        return node

    def logical_or(self) -> Node:
        node = self.logical_and()
        while self.accept("OR", "||"):
            node = Binary("OR", node, self.logical_and())
        return node

    def logical_and(self) -> Node:
        node = self.comparison()
        while self.accept("AND", "&&"):
            node = Binary("AND", node, self.comparison())
        return node

    def comparison(self) -> Node:
        node = self.additive()
        operator = self.accept(*_COMPARISONS)
        if operator:
            node = Binary(operator, node, self.additive())
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while operator := self.accept("+", "-"):
            node = Binary(operator, node, self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.power()
        while operator := self.accept("*", "/"):
            node = Binary(operator, node, self.power())
        return node

    def power(self) -> Node:
        node = self.unary()
        if self.accept("^"):
            return Binary("^", node, self.power())
        return node

    def unary(self) -> Node:
        if self.accept("-"):
            return Negate(self.unary())
        if self.accept("+"):
            return self.unary()
        return self.primary()

    def primary(self) -> Node:
        token = self.peek()
        if token is None:
            raise ExpressionError("Unexpected end of the expression")
        kind, value = token
        self.position += 1
        if kind == "number":
            return Number(float(value))
        if kind == "string":
            return Text(value[1:-1].replace('\\"', '"').replace("\\'", "'"))
        if kind == "op" and value == "(":
            node = self.logical_or()
            self.expect(")")
            return node
        if kind == "op" and value == "[":
            items = self.arguments("]")
            return Array(tuple(items))
        if kind == "name":
            if self.accept("("):
                return Call(value.upper(), tuple(self.arguments(")")))
            if value[0].islower():
                return Reference(value)
            return Keyword(value)
        raise ExpressionError(f"Unexpected token {value!r}")

    def arguments(self, closing: str) -> list[Node]:
        items: list[Node] = []
        if self.accept(closing):
            return items
        while True:
            items.append(self.logical_or())
            if self.accept(closing):
                return items
            self.expect(",")


def parse(text: str) -> Node:
    return _Parser(text).parse()


def references(node: Node) -> set[str]:
    """The query ids an expression reads."""
    if isinstance(node, Reference):
        return {node.id}
    if isinstance(node, Call):
        return set().union(*(references(a) for a in node.arguments)) if node.arguments else set()
    if isinstance(node, Array):
        return set().union(*(references(a) for a in node.items)) if node.items else set()
    if isinstance(node, Negate):
        return references(node.operand)
    if isinstance(node, Binary):
        return references(node.left) | references(node.right)
    return set()


def uses_all_metrics(node: Node) -> bool:
    if isinstance(node, Call):
        return node.function == "METRICS" or any(uses_all_metrics(a) for a in node.arguments)
    if isinstance(node, Array):
        return any(uses_all_metrics(a) for a in node.items)
    if isinstance(node, Negate):
        return uses_all_metrics(node.operand)
    if isinstance(node, Binary):
        return uses_all_metrics(node.left) or uses_all_metrics(node.right)
    return False


def expression_error(query_id: str, error: ExpressionError) -> AwsError:
    return validation(f"Error in expression {query_id}: {error}")
