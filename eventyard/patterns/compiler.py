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

from .errors import InvalidPattern, jackson_location
from .jsonparse import JsonArray, JsonObject, JsonSyntaxError, Span, parse_located
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
from .values import (
    WILDCARD_MAX_COMPLEXITY,
    exact_key,
    fold_case,
    is_number,
    parse_cidr,
    parse_wildcard,
    wildcard_complexity,
    wildcard_regex,
)

EXPECTING = "was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
TOO_COMPLEX_WILDCARD = ("Rule is too complex - try using fewer wildcard characters or fewer repeating character "
                        "sequences after a wildcard character")
TOO_MANY_ELEMENTS = "Too many elements in numeric expression"
ONE_KEY = "Only one key allowed in match expression"
BUT_VALUE = "Value of anything-but must be an array or single string/number value."
_BUT_FORM_MESSAGES = {
    "equals-ignore-case": "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
    "wildcard": "wildcard match pattern must be a string",
    "prefix": "prefix/suffix match pattern must be a string",
    "suffix": "prefix/suffix match pattern must be a string",
}


@dataclass(frozen=True)
class Dialect:
    name: str
    operators: frozenset[str]
    anything_but_forms: frozenset[str]
    number_limit: float | None = None  # SNS: |n| <= 1e9
    # SNS's parser is an older event-ruler: anything-but takes only `prefix`, whose value must be a
    # string ("prefix match pattern must be a string").
    legacy_anything_but: bool = False


ALL_OPERATORS = frozenset({
    "prefix", "suffix", "equals-ignore-case", "wildcard", "exactly", "exists", "cidr", "numeric",
    "anything-but",
})
EVENTBRIDGE = Dialect("eventbridge", ALL_OPERATORS,
                      frozenset({"prefix", "suffix", "equals-ignore-case", "wildcard"}))


class _Compiler:
    """Validates in the order AWS's streaming parser reads tokens, so the first error reported is
    AWS's, and says where that parser stood (a `Span` position, see jsonparse)."""

    def __init__(self, dialect: Dialect, text: str) -> None:
        self.dialect = dialect
        self.text = text

    def fail(self, message: str, at: int | None = None, twice: bool = False) -> InvalidPattern:
        """`at`: the parser's position (None: a check AWS makes after parsing). `twice`: AWS
        re-raises errors found inside an anything-but list, repeating the position."""
        location = "" if at is None else jackson_location(self.text, at)
        return InvalidPattern(message, dialect=self.dialect.name, location=location * (2 if twice else 1))

    # ------------------------------------------------------------ structure
    def compile(self) -> Pattern:
        try:
            parsed = parse_located(self.text)
        except JsonSyntaxError as e:
            raise InvalidPattern(e.reason, dialect=self.dialect.name, location=jackson_location(self.text, e.at)) from None
        document = parsed.value
        if not isinstance(document, JsonObject):
            raise self.fail("Filter is not an object", parsed.span.taken if parsed.span else 0)
        branches = self.object(document, "")
        unique: dict[Branch, None] = {}
        for conditions in branches:
            unique[tuple(sorted(conditions.values(), key=_condition_order))] = None
        return Pattern(tuple(unique), source=self.text)

    def object(self, obj: JsonObject, prefix: str) -> list[dict[str, Condition]]:
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
            elif isinstance(value, JsonObject):
                parts.append(self.object(value, prefix + key + "."))
            elif isinstance(value, JsonArray):
                path = prefix + key
                parts.append([{path: self.condition(path, value)}])
            else:
                raise self.fail(f'"{key}" must be an object or an array', obj.value_span(key).taken)
        result: list[dict[str, Condition]] = [{}]
        for part in parts:
            result = [{**a, **b} for a, b in itertools.product(result, part)]
        return result

    def condition(self, path: str, values: JsonArray) -> Condition:
        matchers: set[Matcher] = set()
        allow_absent = False
        for value, span in zip(values, values.item_spans, strict=True):
            if isinstance(value, JsonObject):
                matcher = self.expression(value)
                if matcher is None:
                    allow_absent = True
                else:
                    matchers.add(matcher)
            elif isinstance(value, JsonArray):
                raise self.fail("Match value must be String, number, true, false, or null", span.taken)
            else:
                self.check_number(value)
                matchers.add(Exact(exact_key(value)))
        if not values:
            raise self.fail("Empty arrays are not allowed", values.span.end)
        return Condition(path, frozenset(matchers), allow_absent)

    # ------------------------------------------------------------ operators
    def expression(self, expr: JsonObject) -> Matcher | None:
        """One ``{"operator": argument}`` object; None stands for ``exists: false``."""
        if not expr.members:
            raise self.fail("Empty objects are not allowed", expr.span.end)
        op, span = expr.members[0]
        if op not in self.dialect.operators:
            raise self.fail(f"Unrecognized match type {op}", span.taken)
        handler: Callable[[Any, Span], Matcher | None] = getattr(self, "op_" + op.replace("-", "_"))
        matcher = handler(expr[op], span)
        self.only_one_key(expr, TOO_MANY_ELEMENTS if op in ("numeric", "anything-but") else ONE_KEY)
        return matcher

    def only_one_key(self, expr: JsonObject, message: str) -> None:
        if len(expr.members) > 1:
            raise self.fail(message, expr.members[1][1].taken)

    def op_exists(self, arg: Any, span: Span) -> Matcher | None:
        if not isinstance(arg, bool):
            raise self.fail("exists match pattern must be either true or false.", span.taken)
        return Exists() if arg else None

    def op_exactly(self, arg: Any, span: Span) -> Matcher:
        if not isinstance(arg, str):
            raise self.fail("exact match pattern must be a string", span.taken)
        return Exact(arg)

    def op_prefix(self, arg: Any, span: Span) -> Matcher:
        return self.affix("prefix", arg, span, Prefix)

    def op_suffix(self, arg: Any, span: Span) -> Matcher:
        return self.affix("suffix", arg, span, Suffix)

    def affix(self, op: str, arg: Any, span: Span, kind: type[Prefix] | type[Suffix]) -> Matcher:
        if isinstance(arg, JsonObject):
            if not arg.members:
                raise self.fail(ONE_KEY, arg.span.end)
            inner, inner_span = arg.members[0]
            if inner != "equals-ignore-case":
                raise self.fail(f"Unsupported {op} pattern: {inner}", inner_span.taken)
            text = arg[inner]
            if not isinstance(text, str):
                raise self.fail("equals-ignore-case match pattern must be a string", inner_span.taken)
            self.only_one_key(arg, ONE_KEY)
            return kind(fold_case(text), True)
        if not isinstance(arg, str):
            raise self.fail(f"{op} match pattern must be a string", span.taken)
        return kind(arg)

    def op_equals_ignore_case(self, arg: Any, span: Span) -> Matcher:
        if not isinstance(arg, str):
            raise self.fail("equals-ignore-case match pattern must be a string", span.taken)
        return EqualsIgnoreCase(fold_case(arg))

    def op_wildcard(self, arg: Any, span: Span) -> Matcher:
        if not isinstance(arg, str):
            raise self.fail("wildcard match pattern must be a string", span.taken)
        return Wildcard(arg, self.wildcard(arg, span.end))

    def wildcard(self, text: str, at: int) -> Any:
        """Syntax errors are the parser's (at `at`); complexity is judged after parsing."""
        try:
            segments = parse_wildcard(text)
        except InvalidPattern as e:
            raise self.fail(e.message, at) from None
        if wildcard_complexity(segments) > WILDCARD_MAX_COMPLEXITY:
            raise self.fail(TOO_COMPLEX_WILDCARD)
        return wildcard_regex(segments)

    def op_cidr(self, arg: Any, span: Span) -> Matcher:
        if not isinstance(arg, str):
            # AWS's wording for a non-string CIDR (recorded): it reuses the prefix message.
            raise self.fail("prefix match pattern must be a string", span.taken)
        try:
            version, first, last = parse_cidr(arg)
        except InvalidPattern as e:
            raise self.fail(e.message) from None  # AWS reports CIDR errors without a position
        return Cidr(version, first, last)

    def op_numeric(self, arg: Any, span: Span) -> Matcher:
        if not isinstance(arg, JsonArray):
            raise self.fail("Value of numeric must be an array.", span.taken)
        return _NumericReader(self, arg).read()

    def check_number(self, value: Any) -> None:
        limit = self.dialect.number_limit
        if limit is not None and is_number(value) and not -limit <= float(value) <= limit:
            raise self.fail(f"Numeric values must be between -{limit:.0f} and {limit:.0f}")

    def op_anything_but(self, arg: Any, span: Span) -> Matcher:
        if isinstance(arg, str) or is_number(arg):
            self.check_number(arg)
            return AnythingBut(frozenset({exact_key(arg)}))
        if isinstance(arg, JsonArray):
            return self.anything_but_list(arg)
        if isinstance(arg, JsonObject) and arg.members:
            form, form_span = arg.members[0]
            if form not in self.dialect.anything_but_forms:
                raise self.fail(f"Unsupported anything-but pattern: {form}", form_span.taken)
            inner = arg[form]
            if self.dialect.legacy_anything_but:
                if not isinstance(inner, str):
                    raise self.fail("prefix match pattern must be a string", form_span.taken)
            elif not (isinstance(inner, (str, JsonArray)) or is_number(inner)):
                raise self.fail(BUT_VALUE, form_span.taken)
            matcher = self.anything_but_form(form, inner, form_span)
            self.only_one_key(arg, TOO_MANY_ELEMENTS)
            return matcher
        raise self.fail(BUT_VALUE, arg.span.end if isinstance(arg, JsonObject) else span.taken)

    def anything_but_list(self, items: JsonArray) -> Matcher:
        for value, span in zip(items, items.item_spans, strict=True):
            if not (isinstance(value, str) or is_number(value)):
                raise self.fail("Inside anything but list, start|null|boolean is not supported.", span.taken,
                                twice=True)
            self.check_number(value)
        if not items:
            raise self.fail("Empty arrays are not allowed", items.span.end)
        if len({isinstance(v, str) for v in items}) > 1:
            raise self.fail("Inside anything but list, either all values are number or string, "
                            "mixed type is not supported", items.span.end)
        return AnythingBut(frozenset(exact_key(v) for v in items))

    def anything_but_form(self, form: str, inner: Any, span: Span) -> Matcher:
        """anything-but with prefix, suffix, equals-ignore-case or wildcard: one text or a list."""
        if isinstance(inner, JsonArray):
            for value, item_span in zip(inner, inner.item_spans, strict=True):
                self.but_text(form, value, item_span, twice=True)
            if not inner:
                raise self.fail(_BUT_FORM_MESSAGES[form], inner.span.end)
            texts, at = list(inner), inner.span.end
        else:
            self.but_text(form, inner, span)
            texts, at = [inner], span.end
        if form == "prefix":
            return AnythingButPrefix(frozenset(texts))
        if form == "suffix":
            return AnythingButSuffix(frozenset(texts))
        if form == "equals-ignore-case":
            return AnythingButIgnoreCase(frozenset(fold_case(t) for t in texts))
        unique = tuple(sorted(set(texts)))
        return AnythingButWildcard(unique, tuple(self.wildcard(t, at) for t in unique))

    def but_text(self, form: str, value: Any, span: Span, twice: bool = False) -> None:
        if not isinstance(value, str):
            raise self.fail(_BUT_FORM_MESSAGES[form], span.taken, twice)
        if value == "" and form in ("prefix", "suffix"):
            raise self.fail("Null prefix/suffix not allowed", span.end, twice)


class _NumericReader:
    """A ``numeric`` array, read token by token as AWS's parser reads it: each error names the
    token the parser had just taken (the closing bracket past the last item)."""

    def __init__(self, compiler: _Compiler, items: JsonArray) -> None:
        self.compiler = compiler
        self.items = items

    def taken(self, index: int) -> int:
        spans = self.items.item_spans
        return spans[index].taken if index < len(spans) else self.items.span.end

    def token_text(self, index: int) -> str:
        if index >= len(self.items):
            return "]"
        value = self.items[index]
        if isinstance(value, JsonArray):
            return "["
        if isinstance(value, JsonObject):
            return "{"
        if value is None or isinstance(value, bool):
            return json_literal(value)
        return _text(value)

    def fail(self, message: str, at: int | None) -> InvalidPattern:
        return self.compiler.fail(message, at)

    def require_number(self, name: str, index: int) -> Any:
        if index >= len(self.items) or not is_number(self.items[index]):
            raise self.fail(f"Value of {name} must be numeric", self.taken(index))
        return self.items[index]

    def read(self) -> Matcher:
        items, end = self.items, self.items.span.end
        if not items or not isinstance(items[0], str):
            raise self.fail(f"Invalid member in numeric match: {self.token_text(0)}", self.taken(0))
        op = items[0]
        if op in ("=", "<", "<="):
            value = self.require_number("equals" if op == "=" else op, 1)
            if len(items) > 2:
                raise self.fail(TOO_MANY_ELEMENTS, self.taken(2))
            number = self.number(value, end)
            if op == "=":
                return Numeric(number, True, number, True)
            return Numeric(-math.inf, False, number, op == "<=")
        if op not in (">", ">="):
            raise self.fail(f"Unrecognized numeric range operator: {op}", self.taken(1))
        low_value = self.require_number(op, 1)
        if len(items) == 2:
            return Numeric(self.number(low_value, end), op == ">=", math.inf, False)
        upper = items[2]
        if not isinstance(upper, str):
            raise self.fail(f"Bad value in numeric range: {self.token_text(2)}", self.taken(2))
        if upper not in ("<", "<="):
            raise self.fail(f"Bad numeric range operator: {upper}", items.item_spans[2].end)
        high_value = self.require_number(upper, 3)
        if len(items) > 4:
            raise self.fail("Too many terms in numeric range expression", self.taken(4))
        low, high = self.number(low_value, end), self.number(high_value, end)
        if low >= high:
            raise self.fail("Bottom must be less than top", end)
        return Numeric(low, op == ">=", high, upper == "<=")

    def number(self, value: Any, at: int) -> float:
        text = getattr(value, "text", str(value))
        try:
            number = float(value)
        except OverflowError:
            raise self.fail(f"Cannot compare number : {text}", at) from None
        # Beyond the double range, or so small it rounds to zero: not comparable.
        if math.isinf(number) or (number == 0 and any(c in "123456789" for c in text.split("e")[0].split("E")[0])):
            raise self.fail(f"Cannot compare number : {text}", at)
        self.compiler.check_number(value)
        return number


def json_literal(value: Any) -> str:
    return "null" if value is None else ("true" if value else "false")


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
    return _Compiler(dialect, text).compile()


__all__ = ["ALL_OPERATORS", "Dialect", "EVENTBRIDGE", "compile_with"]
