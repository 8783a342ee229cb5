"""Composite alarms' AlarmRule language: ALARM(x), OK(x), INSUFFICIENT_DATA(x), TRUE, FALSE, combined
with AND, OR, NOT and parentheses. Alarm names may be double-quoted, or given as ARNs.

A rule compiles into a small tree; `evaluate` reads each child's state through a function, so the
same tree serves validation (which children does it name?) and every later evaluation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from eventyard.protocol.errors import AwsError
from eventyard.services.cloudwatch.errors import validation

MAX_CHILDREN = 100
MAX_ELEMENTS = 500
STATE_FUNCTIONS = {"ALARM", "OK", "INSUFFICIENT_DATA"}
_TOKEN = re.compile(r'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|([^\s()"]+))')


@dataclass(frozen=True)
class StateCheck:
    state: str  # ALARM | OK | INSUFFICIENT_DATA
    alarm: str  # a name or an ARN, as written


@dataclass(frozen=True)
class Constant:
    value: bool


@dataclass(frozen=True)
class Not:
    operand: Rule


@dataclass(frozen=True)
class BinaryOp:
    operator: str  # AND | OR
    left: Rule
    right: Rule


Rule = StateCheck | Constant | Not | BinaryOp


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise _invalid(text)
        position = match.end()
        if match.group(1):
            out.append(("(", "("))
        elif match.group(2):
            out.append((")", ")"))
        elif match.group(3) is not None:
            out.append(("quoted", match.group(3).replace('\\"', '"')))
        else:
            out.append(("word", match.group(4)))
    return out


def _invalid(text: str) -> AwsError:
    return validation(f"AlarmRule is invalid: {text}")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _invalid(self.text)
        self.position += 1
        return token

    def parse(self) -> Rule:
        rule = self.disjunction()
        if self.peek() is not None:
            raise _invalid(self.text)
        return rule

    def disjunction(self) -> Rule:
        rule = self.conjunction()
        while self.peek() == ("word", "OR"):
            self.take()
            rule = BinaryOp("OR", rule, self.conjunction())
        return rule

    def conjunction(self) -> Rule:
        rule = self.negation()
        while self.peek() == ("word", "AND"):
            self.take()
            rule = BinaryOp("AND", rule, self.negation())
        return rule

    def negation(self) -> Rule:
        if self.peek() == ("word", "NOT"):
            self.take()
            return Not(self.negation())
        return self.atom()

    def atom(self) -> Rule:
        kind, value = self.take()
        if kind == "(":
            rule = self.disjunction()
            if self.take()[0] != ")":
                raise _invalid(self.text)
            return rule
        if kind == "word" and value in {"TRUE", "FALSE"}:
            return Constant(value == "TRUE")
        if kind == "word" and value in STATE_FUNCTIONS:
            if self.take()[0] != "(":
                raise _invalid(self.text)
            name_kind, name = self.take()
            if name_kind not in {"word", "quoted"} or not name:
                raise _invalid(self.text)
            if self.take()[0] != ")":
                raise _invalid(self.text)
            return StateCheck(value, name)
        raise _invalid(self.text)


def parse(text: str) -> Rule:
    tokens = _tokens(text)
    if not tokens:
        raise _invalid(text)
    if len(tokens) > MAX_ELEMENTS * 4:  # each element is at most four tokens (function, parens, name)
        raise validation(f"AlarmRule can contain at most {MAX_ELEMENTS} elements.")
    rule = _Parser(text).parse()
    if len(children(rule)) > MAX_CHILDREN:
        raise validation(f"AlarmRule can reference at most {MAX_CHILDREN} alarms.")
    return rule


def children(rule: Rule) -> list[str]:
    """Every alarm the rule names, in order of first mention."""
    out: list[str] = []

    def walk(node: Rule) -> None:
        if isinstance(node, StateCheck):
            if node.alarm not in out:
                out.append(node.alarm)
        elif isinstance(node, Not):
            walk(node.operand)
        elif isinstance(node, BinaryOp):
            walk(node.left)
            walk(node.right)

    walk(rule)
    return out


def evaluate(rule: Rule, state_of: Callable[[str], str | None]) -> bool:
    """True when the rule holds; a child that does not exist is in no state at all."""
    if isinstance(rule, Constant):
        return rule.value
    if isinstance(rule, StateCheck):
        return state_of(rule.alarm) == rule.state
    if isinstance(rule, Not):
        return not evaluate(rule.operand, state_of)
    if rule.operator == "AND":
        return evaluate(rule.left, state_of) and evaluate(rule.right, state_of)
    return evaluate(rule.left, state_of) or evaluate(rule.right, state_of)
