"""Compile pattern JSON into a ``Pattern``, validating it the way AWS does.

One compiler serves both dialects; ``Dialect`` says what differs (nesting, operators, limits).
Messages are AWS's reason texts; the recorded EventBridge cases fix most of them, and SNS
reuses the same parser family, so its operator messages are the same words.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import InvalidPattern
from .jsonparse import parse_json
from .model import (
    AnythingBut,
    AnythingButIgnoreCase,
    AnythingButPrefix,
    AnythingButSuffix,
    AnythingButWildcard,
    Branch,
    Cidr,
    Condition,
    EqualsIgnoreCase,
    Exact,
    Exists,
    Matcher,
    Numeric,
    Pattern,
    Prefix,
    Suffix,
    Wildcard,
)
from .values import check_wildcard, exact_key, fold_case, is_number, parse_cidr

EXPECTING = "was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"


@dataclass(frozen=True)
class Dialect:
    name: str
    operators: frozenset[str]
    anything_but_forms: frozenset[str]
    allow_nesting: bool = True
    number_limit: float | None = None  # SNS: |n| <= 1e9


ALL_OPERATORS = frozenset({
    "prefix", "suffix", "equals-ignore-case", "wildcard", "exactly", "exists", "cidr", "numeric",
    "anything-but",
})
EVENTBRIDGE = Dialect("eventbridge", ALL_OPERATORS,
                      frozenset({"prefix", "suffix", "equals-ignore-case", "wildcard"}))


class _Compiler:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

    def fail(self, message: str) -> InvalidPattern:
        return InvalidPattern(message, dialect=self.dialect.name)

    # ------------------------------------------------------------ structure
    def compile(self, text: str) -> Pattern:
        document = parse_json(text, self.dialect.name)
        if not isinstance(document, dict):
            raise self.fail("Filter is not an object")
        branches = self.object(document, "")
        unique: dict[Branch, None] = {}
        for conditions in branches:
            unique[tuple(sorted(conditions.values(), key=_condition_order))] = None
        return Pattern(tuple(unique), source=text)

    def object(self, obj: dict[str, Any], prefix: str) -> list[dict[str, Condition]]:
        """Disjunctive normal form of one object: alternative {path: condition} maps.

        A later key that reaches a path already constrained replaces that constraint (JSON's
        last-duplicate-wins, and a ``$or`` branch overriding a field of its parent, as
        event-ruler does).
        """
        parts: list[list[dict[str, Condition]]] = []
        for key, value in obj.items():
            if key == "$or" and _is_or(value):
                alternatives: list[dict[str, Condition]] = []
                for branch in value:
                    alternatives.extend(self.object(branch, prefix))
                parts.append(alternatives)
            elif isinstance(value, dict):
                if not self.dialect.allow_nesting:
                    raise InvalidPattern(
                        "Filter policy scope MessageAttributes does not support nested filter policy",
                        dialect="sns-scope")
                parts.append(self.object(value, prefix + key + "."))
            elif isinstance(value, list):
                path = prefix + key
                parts.append([{path: self.condition(path, value)}])
            else:
                raise self.fail(f'"{key}" must be an object or an array')
        result: list[dict[str, Condition]] = [{}]
        for part in parts:
            result = [{**a, **b} for a, b in itertools.product(result, part)]
        return result

    def condition(self, path: str, values: list[Any]) -> Condition:
        if not values:
            raise self.fail("Empty arrays are not allowed")
        matchers: set[Matcher] = set()
        allow_absent = False
        for value in values:
            if isinstance(value, dict):
                matcher = self.expression(value)
                if matcher is None:
                    allow_absent = True
                else:
                    matchers.add(matcher)
            elif isinstance(value, list):
                raise self.fail("Match value must be String, number, true, false, or null")
            else:
                self.check_number(value)
                matchers.add(Exact(exact_key(value)))
        return Condition(path, frozenset(matchers), allow_absent)

    # ------------------------------------------------------------ operators
    def expression(self, expr: dict[str, Any]) -> Matcher | None:
        """One ``{"operator": argument}`` object; None stands for ``exists: false``."""
        if not expr:
            raise self.fail("Empty objects are not allowed")
        if len(expr) > 1:
            raise self.fail("Only one key allowed in match expression")
        (op, arg), = expr.items()
        if op not in self.dialect.operators:
            raise self.fail(f"Unrecognized match type {op}")
        handler: Callable[[Any], Matcher | None] = getattr(self, "op_" + op.replace("-", "_"))
        return handler(arg)

    def op_exists(self, arg: Any) -> Matcher | None:
        if not isinstance(arg, bool):
            raise self.fail("exists match pattern must be either true or false.")
        return Exists() if arg else None

    def op_exactly(self, arg: Any) -> Matcher:
        if not isinstance(arg, str):
            raise self.fail("exact match pattern must be a string")
        return Exact(arg)

    def op_prefix(self, arg: Any) -> Matcher:
        return self.affix("prefix", arg, Prefix)

    def op_suffix(self, arg: Any) -> Matcher:
        return self.affix("suffix", arg, Suffix)

    def affix(self, op: str, arg: Any, kind: type[Prefix] | type[Suffix]) -> Matcher:
        if isinstance(arg, dict):
            if len(arg) != 1:
                raise self.fail("Only one key allowed in match expression")
            (inner, text), = arg.items()
            if inner != "equals-ignore-case":
                raise self.fail(f"Unsupported {op} pattern: {inner}")
            if not isinstance(text, str):
                raise self.fail("equals-ignore-case match pattern must be a string")
            return kind(fold_case(text), True)
        if not isinstance(arg, str):
            raise self.fail(f"{op} match pattern must be a string")
        return kind(arg)

    def op_equals_ignore_case(self, arg: Any) -> Matcher:
        if not isinstance(arg, str):
            raise self.fail("equals-ignore-case match pattern must be a string")
        return EqualsIgnoreCase(fold_case(arg))

    def op_wildcard(self, arg: Any) -> Matcher:
        if not isinstance(arg, str):
            raise self.fail("wildcard match pattern must be a string")
        return Wildcard(arg, self.wildcard(arg))

    def wildcard(self, text: str) -> Any:
        try:
            return check_wildcard(text)
        except InvalidPattern as e:
            raise self.fail(e.message) from None

    def op_cidr(self, arg: Any) -> Matcher:
        if not isinstance(arg, str):
            # AWS's wording for a non-string CIDR (recorded): it reuses the prefix message.
            raise self.fail("prefix match pattern must be a string")
        try:
            version, first, last = parse_cidr(arg)
        except InvalidPattern as e:
            raise self.fail(e.message) from None
        return Cidr(version, first, last)

    def op_numeric(self, arg: Any) -> Matcher:
        if not isinstance(arg, list):
            raise self.fail("Value of numeric must be an array.")
        if not arg:
            raise self.fail("Empty arrays are not allowed")
        low, low_inc, high, high_inc = -math.inf, False, math.inf, False
        op = arg[0]
        if op == "=":
            value = self.numeric_value("equals", arg, 1)
            if len(arg) > 2:
                raise self.fail("Too many elements in numeric expression")
            return Numeric(value, True, value, True)
        if op in ("<", "<="):
            high, high_inc = self.numeric_value(op, arg, 1), op == "<="
            if len(arg) > 2:
                raise self.fail("Too many elements in numeric expression")
            return Numeric(low, low_inc, high, high_inc)
        if op not in (">", ">="):
            raise self.fail(f"Unrecognized numeric range operator: {_text(op)}")
        low, low_inc = self.numeric_value(op, arg, 1), op == ">="
        if len(arg) > 2:
            upper = arg[2]
            if upper not in ("<", "<="):
                if upper in (">", ">=", "="):
                    raise self.fail(f"Bad numeric range operator: {upper}")
                raise self.fail(f"Unrecognized numeric range operator: {_text(upper)}")
            high, high_inc = self.numeric_value(upper, arg, 3), upper == "<="
            if len(arg) > 4:
                raise self.fail("Too many terms in numeric range expression")
            if low >= high:
                raise self.fail("Bottom must be less than top")
        return Numeric(low, low_inc, high, high_inc)

    def numeric_value(self, name: str, arg: list[Any], index: int) -> float:
        if index >= len(arg) or not is_number(arg[index]):
            raise self.fail(f"Value of {name} must be numeric")
        value = arg[index]
        text = getattr(value, "text", str(value))
        try:
            number = float(value)
        except OverflowError:
            raise self.fail(f"Cannot compare number : {text}") from None
        # Beyond the double range, or so small it rounds to zero: not comparable.
        if math.isinf(number) or (number == 0 and any(c in "123456789" for c in text.split("e")[0].split("E")[0])):
            raise self.fail(f"Cannot compare number : {text}")
        self.check_number(value)
        return number

    def check_number(self, value: Any) -> None:
        limit = self.dialect.number_limit
        if limit is not None and is_number(value) and not -limit <= float(value) <= limit:
            raise self.fail(f"Numeric values must be between -{limit:.0f} and {limit:.0f}")

    def op_anything_but(self, arg: Any) -> Matcher:
        if isinstance(arg, str) or is_number(arg):
            self.check_number(arg)
            return AnythingBut(frozenset({exact_key(arg)}))
        if isinstance(arg, list):
            return self.anything_but_list(arg)
        if isinstance(arg, dict) and arg:
            if len(arg) > 1:
                raise self.fail("Only one key allowed in match expression")
            (form, inner), = arg.items()
            if form not in self.dialect.anything_but_forms:
                raise self.fail(f"Unsupported anything-but pattern: {form}")
            return getattr(self, "but_" + form.replace("-", "_"))(inner)
        raise self.fail("Value of anything-but must be an array or single string/number value.")

    def anything_but_list(self, items: list[Any]) -> Matcher:
        if not items:
            raise self.fail("Empty arrays are not allowed")
        if any(v is None or isinstance(v, (bool, dict, list)) for v in items):
            raise self.fail("Inside anything but list, start|null|boolean is not supported.")
        if len({isinstance(v, str) for v in items}) > 1:
            raise self.fail("Inside anything but list, either all values are number or string, "
                            "mixed type is not supported")
        for v in items:
            self.check_number(v)
        return AnythingBut(frozenset(exact_key(v) for v in items))

    def affix_texts(self, inner: Any) -> frozenset[str]:
        if isinstance(inner, dict):
            raise self.fail("Value of anything-but must be an array or single string/number value.")
        if isinstance(inner, str):
            if inner == "":
                raise self.fail("Null prefix/suffix not allowed")
            return frozenset({inner})
        if isinstance(inner, list) and inner and all(isinstance(t, str) and t for t in inner):
            return frozenset(inner)
        raise self.fail("prefix/suffix match pattern must be a string")

    def but_prefix(self, inner: Any) -> Matcher:
        return AnythingButPrefix(self.affix_texts(inner))

    def but_suffix(self, inner: Any) -> Matcher:
        return AnythingButSuffix(self.affix_texts(inner))

    def but_equals_ignore_case(self, inner: Any) -> Matcher:
        texts = [inner] if not isinstance(inner, list) else inner
        if not texts or not all(isinstance(t, str) for t in texts):
            raise self.fail("Inside anything-but/equals-ignore-case list, number|start|null|boolean "
                            "is not supported.")
        return AnythingButIgnoreCase(frozenset(fold_case(t) for t in texts))

    def but_wildcard(self, inner: Any) -> Matcher:
        texts = [inner] if not isinstance(inner, list) else inner
        if not texts or not all(isinstance(t, str) for t in texts):
            raise self.fail("wildcard match pattern must be a string")
        unique = tuple(sorted(set(texts)))
        return AnythingButWildcard(unique, tuple(self.wildcard(t) for t in unique))


def _is_or(value: Any) -> bool:
    """``$or`` is an operator only as an array of two or more objects; otherwise it is a field."""
    return isinstance(value, list) and len(value) >= 2 and all(isinstance(v, dict) for v in value)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(getattr(value, "text", value))


def _condition_order(c: Condition) -> tuple[int, str, str]:
    """Exact-value conditions first (cheap and selective, so the Machine prunes early), then
    other operators, then those allowing absence; by path within each group."""
    if c.allow_absent:
        rank = 2
    elif all(isinstance(m, Exact) for m in c.matchers):
        rank = 0
    else:
        rank = 1
    return (rank, c.path, repr(sorted(map(repr, c.matchers))))


def compile_with(text: str, dialect: Dialect) -> Pattern:
    return _Compiler(dialect).compile(text)


__all__ = ["ALL_OPERATORS", "Dialect", "EVENTBRIDGE", "compile_with"]
