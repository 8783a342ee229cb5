"""CloudWatch Logs JSON filter patterns: `{ $.level = "ERROR" && $.latency > 500 }`.

What is reproduced (CloudWatch Logs "Filter pattern syntax", JSON log events):
- selectors `$.a.b`, `$.list[0]`, `$.*` is not supported;
- string comparisons `=` / `!=` with a quoted or bare value, `*` as a wildcard in the value;
- numeric comparisons `=`, `!=`, `<`, `<=`, `>`, `>=` against numeric fields;
- `IS TRUE`, `IS FALSE`, `IS NULL`, `NOT EXISTS`;
- `%regex%` values with `=` / `!=` (the dialect of `log_regex`);
- `&&`, `||` (&& binds tighter) and parentheses.
A message that is not a JSON object matches no JSON pattern. A comparison on a field the event does
not have is false (only `NOT EXISTS` matches a missing field).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.logs import log_regex

Predicate = Callable[[Any], bool]
_MISSING = object()
_TOKEN = re.compile(r"""\s*(?:(?P<op>&&|\|\||<=|>=|!=|=|<|>|\(|\))|(?P<str>"(?:[^"\\]|\\.)*")|(?P<regex>%[^%]+%)"""
                    r"""|(?P<sel>\$(?:\.[A-Za-z0-9_@$-]+|\[\d+\])+)|(?P<word>[^\s()=<>!&|"]+))""")


def is_json_pattern(pattern: str) -> bool:
    text = pattern.strip()
    return text.startswith("{") and text.endswith("}")


def select(document: Any, selector: str) -> Any:
    """The value at `$.a.b[0]` in a parsed event, or None when it is missing."""
    value = _select(document, selector)
    return None if value is _MISSING else value


def compile_json_pattern(pattern: str) -> Predicate:
    tokens = _tokenize(pattern.strip()[1:-1])
    parser = _Parser(tokens)
    predicate = parser.disjunction()
    if parser.position != len(tokens):
        raise _invalid()
    return predicate


def _invalid() -> AwsError:
    return AwsError("InvalidParameterException", "Invalid filter pattern")


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        found = _TOKEN.match(text, position)
        if found is None or found.end() == position:
            raise _invalid()
        kind = found.lastgroup or ""
        tokens.append((kind, found.group(kind)))
        position = found.end()
    return tokens


def _select(document: Any, selector: str) -> Any:
    value = document
    for part in re.findall(r"\.([^.\[]+)|\[(\d+)\]", selector):
        key, index = part
        if key:
            if not isinstance(value, dict) or key not in value:
                return _MISSING
            value = value[key]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
    return value


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _invalid()
        self.position += 1
        return token

    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while self.peek() == ("op", "||"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda d: any(p(d) for p in parts))

    def conjunction(self) -> Predicate:
        parts = [self.term()]
        while self.peek() == ("op", "&&"):
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else (lambda d: all(p(d) for p in parts))

    def term(self) -> Predicate:
        if self.peek() == ("op", "("):
            self.take()
            inner = self.disjunction()
            if self.take() != ("op", ")"):
                raise _invalid()
            return inner
        kind, selector = self.take()
        if kind != "sel":
            raise _invalid()
        kind, operator = self.take()
        if kind == "word" and operator.upper() in {"IS", "NOT"}:
            return self.keyword(selector, operator.upper())
        if kind != "op" or operator not in {"=", "!=", "<", "<=", ">", ">="}:
            raise _invalid()
        kind, value = self.take()
        if kind == "regex":
            if operator not in {"=", "!="}:
                raise _invalid()
            return _regex_test(selector, operator, _compile_regex(value[1:-1]))
        if kind == "str":
            text = json.loads(value)
            if operator not in {"=", "!="}:
                raise _invalid()
            return _string_test(selector, operator, text)
        if kind != "word":
            raise _invalid()
        number = _number(value)
        if number is None:
            if operator not in {"=", "!="}:
                raise _invalid()
            return _string_test(selector, operator, value)
        return _number_test(selector, operator, number, value)

    def keyword(self, selector: str, first: str) -> Predicate:
        kind, second = self.take()
        word = second.upper()
        if first == "NOT" and word == "EXISTS":
            return lambda d: _select(d, selector) is _MISSING
        if first == "IS" and word in {"TRUE", "FALSE", "NULL"}:
            expected = {"TRUE": True, "FALSE": False, "NULL": None}[word]
            return lambda d: _select(d, selector) is expected
        raise _invalid()


def _compile_regex(body: str) -> re.Pattern[str]:
    compiled = log_regex.compile_log_regex(body)
    if compiled is None:
        raise _invalid()
    return compiled


def _regex_test(selector: str, operator: str, regex: re.Pattern[str]) -> Predicate:
    def test(document: Any) -> bool:
        value = _select(document, selector)
        if value is _MISSING or isinstance(value, (dict, list, bool)) or value is None:
            return False
        found = regex.search(str(value)) is not None
        return found if operator == "=" else not found
    return test


def _string_test(selector: str, operator: str, text: str) -> Predicate:
    # Only `*` is a wildcard in filter pattern values.
    wildcard = re.compile(".*".join(re.escape(p) for p in text.split("*")), re.S) if "*" in text else None

    def test(document: Any) -> bool:
        value = _select(document, selector)
        if value is _MISSING or isinstance(value, (dict, list)) or value is None or isinstance(value, bool):
            return False
        equal = bool(wildcard.fullmatch(str(value))) if wildcard else str(value) == text
        return equal if operator == "=" else not equal
    return test


def _number_test(selector: str, operator: str, number: float, raw: str) -> Predicate:
    compare: dict[str, Callable[[float, float], bool]] = {
        "=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}

    def test(document: Any) -> bool:
        value = _select(document, selector)
        if isinstance(value, bool) or value is _MISSING:
            return False
        if isinstance(value, (int, float)):
            return compare[operator](float(value), number)
        if isinstance(value, str) and operator in {"=", "!="}:  # `{ $.code = 200 }` against "200"
            return (value == raw) == (operator == "=")
        return False
    return test
