"""Pattern JSON read the way AWS's parser (Jackson) reads it, keeping where every token stands.

AWS validates a pattern while it streams through Jackson's tokens, and each error says where the
parser stood: "... at [Source: (String)"{...}"; line: 1, column: 22]". So parsing records each
token's span, and `Span.taken` / `Span.end` give the two places Jackson can stand after a token:
- a token is *taken* when the parser moves onto it: a number or literal is consumed whole, a string
  or container only up to its opening quote or bracket. After a field name Jackson has already
  taken its value's first token.
- a string's text is consumed (up to its closing quote) only when it is read; a container ends
  after its closing bracket.
Syntax errors carry Jackson's reason and position. Numbers keep their source text (``RawNumber``)
so limits can quote them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .errors import jackson_location
from .values import RawNumber

_WHITESPACE = " \t\n\r"
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
VALUE_EXPECTED = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"


@dataclass(frozen=True)
class Span:
    start: int  # index of the token's first character
    end: int  # index after its last character (a string's closing quote, a container's bracket)
    kind: str  # "string", "number", "literal", "object" or "array"

    @property
    def taken(self) -> int:
        """Where Jackson stands once it has moved onto this token without reading its text."""
        return self.start + 1 if self.kind in ("string", "object", "array") else self.end


class JsonObject(dict[str, Any]):
    """A parsed object that remembers its span and its members' spans, in source order."""

    span: Span
    members: list[tuple[str, Span]]

    def value_span(self, key: str) -> Span:
        """The span of the (last) value under `key`, as a dict keeps the last duplicate."""
        return next(span for name, span in reversed(self.members) if name == key)

    def member_after(self, key: str) -> tuple[str, Span] | None:
        """The member that follows `key`'s (first) occurrence in the source, if any."""
        names = [name for name, _ in self.members]
        index = names.index(key) + 1
        return self.members[index] if index < len(self.members) else None


class JsonArray(list[Any]):
    """A parsed array that remembers its span and its items' spans."""

    span: Span
    item_spans: list[Span]


@dataclass(frozen=True)
class Parsed:
    value: Any
    span: Span | None  # None: the text holds no token at all


class JsonSyntaxError(ValueError):
    """Text Jackson refuses: its reason, and the index where it reports the error."""

    def __init__(self, reason: str, at: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.at = at


def parse_json(text: str) -> Any:
    """The value of `text` (objects and arrays carry their spans); JsonSyntaxError if invalid."""
    return parse_located(text).value


def parse_located(text: str) -> Parsed:
    """The root value and its span. Text after the root value is ignored, as Jackson's streaming
    reader (and so AWS) never reads past it."""
    reader = _Reader(text)
    start = reader.skip_whitespace(reader.pos)
    if start >= len(text):
        return Parsed(None, None)
    value, span = reader.value(start)
    return Parsed(value, span)


def _char_reason(ch: str, expecting: str) -> str:
    return f"Unexpected character ({_describe(ch)}): {expecting}"


def _describe(ch: str) -> str:
    code = ord(ch)
    if code < 32:
        return f"(CTRL-CHAR, code {code})"
    return f"'{ch}' (code {code})"


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_whitespace(self, i: int) -> int:
        text = self.text
        while i < len(text) and text[i] in _WHITESPACE:
            i += 1
        return i

    def value(self, i: int) -> tuple[Any, Span]:
        text = self.text
        ch = text[i]
        if ch == "{":
            return self.object(i)
        if ch == "[":
            return self.array(i)
        if ch == '"':
            string, end = self.string(i, "a string value")
            return string, Span(i, end, "string")
        if ch == "-" or ch.isdigit():
            return self.number(i)
        for word, literal in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, i) and not _identifier_part(text, i + len(word)):
                return literal, Span(i, i + len(word), "literal")
        if ch.isalpha() or ch in "_$":
            raise self.invalid_token(i)
        raise JsonSyntaxError(_char_reason(ch, f"expected a valid value {VALUE_EXPECTED}"), i)

    def invalid_token(self, i: int) -> JsonSyntaxError:
        end = i
        while end < len(self.text) and _identifier_part(self.text, end) and end - i < 256:
            end += 1
        token = self.text[i:end]
        return JsonSyntaxError(f"Unrecognized token '{token}': was expecting {VALUE_EXPECTED}", end)

    def object(self, start: int) -> tuple[JsonObject, Span]:
        text = self.text
        result = JsonObject()
        result.members = []
        i = self.skip_whitespace(start + 1)
        if i < len(text) and text[i] == "}":
            return self._close(result, start, i + 1, "object")
        while True:
            if i >= len(text):
                raise self.end_of_input(start, "Object")
            if text[i] != '"':
                raise JsonSyntaxError(_char_reason(text[i], "was expecting double-quote to start field name"), i)
            name, i = self.string(i, "field name")
            i = self.skip_whitespace(i)
            if i >= len(text):
                raise self.end_of_input(start, "Object")
            if text[i] != ":":
                raise JsonSyntaxError(
                    _char_reason(text[i], "was expecting a colon to separate field name and value"), i)
            i = self.skip_whitespace(i + 1)
            if i >= len(text):
                raise self.end_of_input(start, "Object")
            member, span = self.value(i)
            result[name] = member
            result.members.append((name, span))
            i = self.skip_whitespace(span.end)
            if i >= len(text):
                raise self.end_of_input(start, "Object")
            if text[i] == "}":
                return self._close(result, start, i + 1, "object")
            if text[i] != ",":
                raise JsonSyntaxError(_char_reason(text[i], "was expecting comma to separate Object entries"), i)
            i = self.skip_whitespace(i + 1)

    def array(self, start: int) -> tuple[JsonArray, Span]:
        text = self.text
        result = JsonArray()
        result.item_spans = []
        i = self.skip_whitespace(start + 1)
        if i < len(text) and text[i] == "]":
            return self._close(result, start, i + 1, "array")
        while True:
            if i >= len(text):
                raise self.end_of_input(start, "Array")
            item, span = self.value(i)
            result.append(item)
            result.item_spans.append(span)
            i = self.skip_whitespace(span.end)
            if i >= len(text):
                raise self.end_of_input(start, "Array")
            if text[i] == "]":
                return self._close(result, start, i + 1, "array")
            if text[i] != ",":
                raise JsonSyntaxError(_char_reason(text[i], "was expecting comma to separate Array entries"), i)
            i = self.skip_whitespace(i + 1)

    @staticmethod
    def _close(container: Any, start: int, end: int, kind: str) -> tuple[Any, Span]:
        span = Span(start, end, kind)
        container.span = span
        return container, span

    def end_of_input(self, start: int, kind: str) -> JsonSyntaxError:
        marker = jackson_location(self.text, start).strip().removeprefix("at ")
        return JsonSyntaxError(f"Unexpected end-of-input: expected close marker for {kind} (start marker at "
                               f"{marker})", len(self.text))

    def string(self, start: int, what: str) -> tuple[str, int]:
        """The string opening at `start` and the index after its closing quote."""
        text = self.text
        out: list[str] = []
        i = start + 1
        while True:
            if i >= len(text):
                reason = ("Unexpected end-of-input in field name" if what == "field name"
                          else "Unexpected end-of-input: was expecting closing quote for a string value")
                raise JsonSyntaxError(reason, len(text))
            ch = text[i]
            if ch == '"':
                return "".join(out), i + 1
            if ch == "\\":
                i = self._escape(i, out)
                continue
            if ord(ch) < 32:
                raise JsonSyntaxError(f"Illegal unquoted character ({_describe(ch)}): has to be escaped using "
                                      f"backslash to be included in {what}", i)
            out.append(ch)
            i += 1

    def _escape(self, i: int, out: list[str]) -> int:
        text = self.text
        if i + 1 >= len(text):
            raise JsonSyntaxError("Unexpected end-of-input in character escape sequence", len(text))
        code = text[i + 1]
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
            return i + 2
        if code == "u":
            digits = text[i + 2:i + 6]
            for offset, digit in enumerate(digits):
                if digit not in "0123456789abcdefABCDEF":
                    raise JsonSyntaxError(_char_reason(digit, "expected a hex-digit for character escape sequence"),
                                          i + 2 + offset)
            if len(digits) < 4:
                raise JsonSyntaxError("Unexpected end-of-input in character escape sequence", len(text))
            code_point = int(digits, 16)
            low = text[i + 8:i + 12] if text.startswith("\\u", i + 6) else ""
            if 0xD800 <= code_point < 0xDC00 and len(low) == 4 and _is_hex(low) and 0xDC00 <= int(low, 16) < 0xE000:
                # A surrogate pair escapes one character outside the Basic Multilingual Plane.
                out.append(chr(0x10000 + ((code_point - 0xD800) << 10) + (int(low, 16) - 0xDC00)))
                return i + 12
            out.append(chr(code_point))
            return i + 6
        raise JsonSyntaxError(f"Unrecognized character escape {_describe(code)}", i + 1)

    def number(self, start: int) -> tuple[Any, Span]:
        text = self.text
        i = start + 1 if text[start] == "-" else start
        digits_start = i
        while i < len(text) and text[i].isdigit():
            i += 1
        if i == digits_start:
            found = text[i] if i < len(text) else ""
            if not found:
                raise JsonSyntaxError("Unexpected end-of-input in numeric value", i)
            raise JsonSyntaxError(f"Unexpected character ({_describe(found)}) in numeric value: expected digit "
                                  "(0-9) to follow minus sign, for valid numeric value", i)
        if i - digits_start > 1 and text[digits_start] == "0":
            raise JsonSyntaxError("Invalid numeric value: Leading zeroes not allowed", digits_start + 1)
        is_float = False
        if i < len(text) and text[i] == ".":
            is_float = True
            i = self._digits(i + 1, "Decimal point not followed by a digit")
        if i < len(text) and text[i] in "eE":
            is_float = True
            j = i + 1
            if j < len(text) and text[j] in "+-":
                j += 1
            i = self._digits(j, "Exponent indicator not followed by a digit")
        raw = text[start:i]
        span = Span(start, i, "number")
        return (RawNumber(raw) if is_float else int(raw)), span

    def _digits(self, i: int, missing: str) -> int:
        text = self.text
        first = i
        while i < len(text) and text[i].isdigit():
            i += 1
        if i == first:
            if i >= len(text):
                raise JsonSyntaxError("Unexpected end-of-input in numeric value", i)
            raise JsonSyntaxError(f"Unexpected character ({_describe(text[i])}) in numeric value: {missing}", i)
        return i


def _identifier_part(text: str, i: int) -> bool:
    """Jackson extends an unrecognized token over Java identifier characters."""
    return i < len(text) and (text[i].isalnum() or text[i] in "_$")


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def syntax_error(text: str) -> str | None:
    """Why Jackson refuses `text` as JSON, with its position and the source redacted (as AWS services
    that parse JSON attributes report it: "Unexpected character ... at [Source: REDACTED ...]"),
    or None when it is well-formed."""
    try:
        parse_located(text)
    except JsonSyntaxError as e:
        return e.reason + jackson_location(text, e.at, redacted=True)
    return None


def compact_json(value: Any) -> str:
    """`value` written back without spaces, numbers as they were written (as Jackson writes a tree)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{compact_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(compact_json(v) for v in value) + "]"
    if isinstance(value, RawNumber):
        return value.text
    return json.dumps(value, ensure_ascii=False)
