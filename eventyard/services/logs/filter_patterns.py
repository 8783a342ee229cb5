"""CloudWatch Logs filter patterns, every syntax AWS documents, compiled once and matched per event.

The same patterns serve metric filters, subscription filters, FilterLogEvents and TestMetricFilter:
- empty: every event;
- terms: `ERROR`, `"Internal Server Error"`, `ERROR -Exception` (exclusion), `?ERROR ?WARN` (any);
  case-sensitive, as AWS's are;
- JSON: `{ $.level = "ERROR" && $.latency > 500 }` (`json_patterns`);
- space-delimited: `[ip, user, ..., status_code = 4*, bytes > 1000]`: the event is split on spaces,
  text inside "" or [] being one field; `...` stands for any number of fields; each named field may
  carry comparisons joined by `&&` / `||`; `[]` matches every event;
- regex: `%ERROR|WARN%` (`log_regex`), also as a value in JSON and space-delimited patterns.
A match answers the values the pattern extracted, named as AWS names them (`$status_code`,
`$.latency`): metric values and dimensions read them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.logs import json_patterns, log_regex

MAX_REGEXES = 2  # per filter pattern, as AWS's quota says
_SELECTOR = re.compile(r"\$(?:\.[A-Za-z0-9_@$-]+|\[\d+\])+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class FilterMatch:
    """What a matching event yielded: AWS-named extracted values and, for JSON, the parsed event."""

    values: dict[str, str] = field(default_factory=dict)
    document: Any = None

    def value_of(self, reference: str) -> Any:
        """A `$.json.path` or `$field` reference's value, or None when the event has none."""
        if reference.startswith("$.") or reference.startswith("$["):
            if self.document is None:
                return None
            return json_patterns.select(self.document, reference)
        return self.values.get(reference)


@dataclass(frozen=True)
class FilterPattern:
    text: str
    kind: str  # all | terms | json | delimited | regex
    matcher: Callable[[str], FilterMatch | None]
    fields: frozenset[str] = frozenset()  # references the pattern names: "$ip", "$.latency"

    def match(self, message: str) -> FilterMatch | None:
        return self.matcher(message)

    def matches(self, message: str) -> bool:
        return self.matcher(message) is not None

    @property
    def has_fields(self) -> bool:
        """JSON and space-delimited patterns can feed dimensions; terms and regexes cannot."""
        return self.kind in {"json", "delimited"}


@lru_cache(maxsize=2048)
def compile_filter_pattern(text: str, error_message: str = "Invalid filter pattern") -> FilterPattern:
    """Compile `text`; an invalid pattern raises InvalidParameterException with `error_message`
    (AWS says "Invalid metric filter pattern" for metric filters, for instance). Compiled patterns
    are immutable, so each text is compiled once (ingestion matches the same filters again and again)."""
    try:
        return _compile(text)
    except _Invalid:
        raise AwsError("InvalidParameterException", error_message) from None
    except AwsError as error:  # json_patterns' own refusal
        raise AwsError("InvalidParameterException", error_message) from error


class _Invalid(Exception):
    pass


def _compile(text: str) -> FilterPattern:
    stripped = text.strip()
    if not stripped or stripped == '""':
        return FilterPattern(text, "all", lambda message: FilterMatch())
    if json_patterns.is_json_pattern(stripped):
        return _json_pattern(text, stripped)
    if stripped.startswith("[") and stripped.endswith("]"):
        return _delimited_pattern(text, stripped[1:-1])
    if len(stripped) > 2 and stripped.startswith("%") and stripped.endswith("%") and stripped.count("%") == 2:
        regex = log_regex.compile_log_regex(stripped[1:-1])
        if regex is None:
            raise _Invalid()
        return FilterPattern(text, "regex", lambda message: FilterMatch() if regex.search(message) else None)
    return _terms_pattern(text, stripped)


# -- terms ------------------------------------------------------------------------------------
def _terms_pattern(text: str, stripped: str) -> FilterPattern:
    required: list[str] = []
    optional: list[str] = []
    excluded: list[str] = []
    for prefix, term in _terms(stripped):
        {"": required, "?": optional, "-": excluded}[prefix].append(term)

    def match(message: str) -> FilterMatch | None:
        if any(term in message for term in excluded):
            return None
        if optional and not any(term in message for term in optional):
            return None
        return FilterMatch() if all(term in message for term in required) else None
    return FilterPattern(text, "terms", match)


def _terms(pattern: str) -> list[tuple[str, str]]:
    """(prefix, term) pairs: a prefix `?` (any of) or `-` (none of) binds to the term after it,
    quoted or not; quotes keep spaces and symbols inside one term."""
    out: list[tuple[str, str]] = []
    position = 0
    while position < len(pattern):
        if pattern[position].isspace():
            position += 1
            continue
        prefix = ""
        if pattern[position] in "?-" and position + 1 < len(pattern) and not pattern[position + 1].isspace():
            prefix, position = pattern[position], position + 1
        if pattern[position] == '"':
            end = pattern.find('"', position + 1)
            if end < 0:
                raise _Invalid()
            term, position = pattern[position + 1:end], end + 1
        else:
            end = position
            while end < len(pattern) and not pattern[end].isspace():
                end += 1
            term, position = pattern[position:end], end
        if term:
            out.append((prefix, term))
    return out


# -- JSON -------------------------------------------------------------------------------------
def _json_pattern(text: str, stripped: str) -> FilterPattern:
    _check_regex_count(stripped)
    predicate = json_patterns.compile_json_pattern(stripped)
    selectors = tuple(dict.fromkeys(_SELECTOR.findall(stripped)))

    def match(message: str) -> FilterMatch | None:
        try:
            document = json.loads(message)
        except ValueError:
            return None
        if not isinstance(document, dict) or not predicate(document):
            return None
        values = {}
        for selector in selectors:
            value = json_patterns.select(document, selector)
            if value is not None and not isinstance(value, (dict, list)):
                values[selector] = _text(value)
        return FilterMatch(values, document)
    return FilterPattern(text, "json", match, frozenset(selectors))


def _check_regex_count(body: str) -> None:
    if len(re.findall(r"%[^%]+%", body)) > MAX_REGEXES:
        raise _Invalid()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- space-delimited --------------------------------------------------------------------------
Condition = Callable[[dict[str, str]], bool]
_COMPARISON = re.compile(r"""\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?:(?P<op><=|>=|!=|=|<|>)\s*"""
                         r"""(?P<value>"(?:[^"\\]|\\.)*"|%[^%]+%|[^\s&|]+))?\s*""")


@dataclass(frozen=True)
class _Column:
    name: str | None  # None: the `...` ellipsis
    condition: Condition | None = None


def _delimited_pattern(text: str, body: str) -> FilterPattern:
    if not body.strip():
        # `[]` names no field and sets no condition: AWS accepts it (recorded for subscription filters),
        # and with nothing to test every event matches.
        return FilterPattern(text, "delimited", lambda message: FilterMatch())
    _check_regex_count(body)
    columns = [_column(part) for part in _split_columns(body)]
    names = [c.name for c in columns if c.name is not None]
    if len(set(names)) != len(names) or not columns:
        raise _Invalid()

    def match(message: str) -> FilterMatch | None:
        bound = _align(columns, _event_fields(message))
        if bound is None:
            return None
        return FilterMatch({f"${name}": value for name, value in bound.items()})
    return FilterPattern(text, "delimited", match, frozenset(f"${name}" for name in names))


def _split_columns(body: str) -> list[str]:
    """Commas separate columns, except inside quotes or %regex%."""
    parts, current, quote = [], "", ""
    for ch in body:
        if quote:
            current += ch
            if ch == quote:
                quote = ""
            continue
        if ch in '"%':
            quote = ch
        if ch == ",":
            parts.append(current)
            current = ""
            continue
        current += ch
    if quote:
        raise _Invalid()
    parts.append(current)
    return [p.strip() for p in parts]


def _column(part: str) -> _Column:
    if part == "...":
        return _Column(None)
    if not part:
        raise _Invalid()
    alternatives: list[list[Condition]] = [[]]
    name: str | None = None
    position = 0
    while True:
        found = _COMPARISON.match(part, position)
        if found is None:
            raise _Invalid()
        name = name or found["name"]
        if found["op"]:
            alternatives[-1].append(_comparison(found["name"], found["op"], found["value"]))
        position = found.end()
        if position == len(part):
            break
        joiner = part[position:position + 2]
        if joiner == "||":
            alternatives.append([])
        elif joiner != "&&":
            raise _Invalid()
        position += 2
    if all(not group for group in alternatives):
        return _Column(name)
    if any(not group for group in alternatives):
        raise _Invalid()  # `a || b = 1`: a bare name cannot be an alternative
    return _Column(name, lambda bound: any(all(test(bound) for test in group) for group in alternatives))


def _comparison(name: str, operator: str, raw: str) -> Condition:
    if raw.startswith("%"):
        regex = log_regex.compile_log_regex(raw[1:-1])
        if regex is None or operator not in {"=", "!="}:
            raise _Invalid()
        return lambda bound: name in bound and (regex.search(bound[name]) is not None) == (operator == "=")
    quoted = raw.startswith('"')
    value = json.loads(raw) if quoted else raw
    number = float(value) if not quoted and _NUMBER.fullmatch(value) else None
    if operator in {"<", "<=", ">", ">="}:
        if number is None:
            raise _Invalid()
        return lambda bound: name in bound and _compare_number(bound[name], operator, number)
    wildcard = re.compile(".*".join(re.escape(p) for p in value.split("*")), re.S) if "*" in value else None

    def equal(bound: dict[str, str]) -> bool:
        if name not in bound:
            return False
        field_value = bound[name]
        if number is not None and _NUMBER.fullmatch(field_value):
            same = float(field_value) == number
        elif wildcard is not None:
            same = wildcard.fullmatch(field_value) is not None
        else:
            same = field_value == value
        return same if operator == "=" else not same
    return equal


def _compare_number(text: str, operator: str, number: float) -> bool:
    if not _NUMBER.fullmatch(text):
        return False
    value = float(text)
    return {"<": value < number, "<=": value <= number, ">": value > number, ">=": value >= number}[operator]


def _event_fields(message: str) -> list[str]:
    """Split on whitespace; "quoted text" and [bracketed text] are one field each (without the marks)."""
    fields: list[str] = []
    position, length = 0, len(message)
    while position < length:
        ch = message[position]
        if ch.isspace():
            position += 1
            continue
        closing = {'"': '"', "[": "]"}.get(ch)
        if closing is not None:
            end = message.find(closing, position + 1)
            if end >= 0:
                fields.append(message[position + 1:end])
                position = end + 1
                continue
        end = position
        while end < length and not message[end].isspace():
            end += 1
        fields.append(message[position:end])
        position = end
    return fields


def _align(columns: list[_Column], fields: list[str]) -> dict[str, str] | None:
    """Bind named columns to fields (ellipses absorb any number of them); the first binding whose
    conditions all hold wins."""
    def walk(column: int, position: int, bound: dict[str, str]) -> dict[str, str] | None:
        if column == len(columns):
            if position != len(fields):
                return None
            conditions = [c.condition for c in columns if c.condition is not None]
            return bound if all(condition(bound) for condition in conditions) else None
        current = columns[column]
        if current.name is None:
            for skip in range(position, len(fields) + 1):
                found = walk(column + 1, skip, bound)
                if found is not None:
                    return found
            return None
        if position >= len(fields):
            return None
        return walk(column + 1, position + 1, {**bound, current.name: fields[position]})
    return walk(0, 0, {})
