"""Why an execution input is not JSON, in the words of the Java JSON parser (Jackson) behind Step
Functions' front end: AWS answers `Invalid State Machine Execution Input: '<reason>'` with the parser's
message without its location (`Unrecognized token 'not': was expecting (JSON String, Number, Array,
Object or token 'null', 'true' or 'false')`). Only the reasons whose wording carries no location are
named; for the rest (an input that ends early, a close marker that does not match) `reason` answers
None and the caller words it itself."""

from __future__ import annotations

import re

from eventyard.protocol.jackson import VALUES, char_description, unexpected_character, unrecognized_token

NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
ESCAPES = set('"\\/bfnrtu')
HEX = set("0123456789abcdefABCDEF")
SPACE = " \t\r\n"


class _Reason(Exception):
    """The parser's message (None: one whose wording this module does not know)."""

    def __init__(self, message: str | None) -> None:
        super().__init__(message)
        self.message = message


def reason(text: str) -> str | None:
    """The parser's reason for refusing `text`, or None when it is valid JSON or the reason's wording
    is not known."""
    scan = _Scan(text)
    try:
        scan.value(root=True)
        if scan.at() is not None:  # trailing content after the root value
            return None
    except _Reason as found:
        return found.message
    return None


def _unexpected(ch: str | None, comment: str) -> _Reason:
    return _Reason(None if ch is None else unexpected_character(ord(ch), comment))


def _ident_part(ch: str) -> bool:
    return ch.isalnum() or ch in "$_"


class _Scan:
    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def at(self) -> str | None:
        """The next character after white space, or None at the end."""
        while self.pos < len(self.text) and self.text[self.pos] in SPACE:
            self.pos += 1
        return self.text[self.pos] if self.pos < len(self.text) else None

    def value(self, root: bool = False, separated: bool = False) -> None:
        """A value; `separated`: after a comma or colon, where a close marker is not a value either."""
        ch = self.at()
        if ch is None or (ch in "]}" and not separated):  # end of input, a bad close marker: worded with a location
            raise _Reason(None)
        if ch == "{":
            self.container("}", "Object")
        elif ch == "[":
            self.container("]", "Array")
        elif ch == '"':
            self.string("string value")
        elif ch == "-" or ch.isdigit():
            self.number(root)
        elif ch.isalpha() or ch in "$_":
            self.token()
        else:
            raise _unexpected(ch, f"expected a valid value {VALUES}")

    def container(self, close: str, kind: str) -> None:
        self.pos += 1
        if self.at() == close:
            self.pos += 1
            return
        first = True
        while True:
            if kind == "Object":
                self.name(first)
            self.value(separated=kind == "Object" or not first)
            ch = self.at()
            if ch == close:
                self.pos += 1
                return
            if ch is None or ch in "]}":  # the end, or the other close marker: worded with a location
                raise _Reason(None)
            if ch != ",":
                raise _unexpected(ch, f"was expecting comma to separate {kind} entries")
            self.pos += 1
            first = False

    def name(self, first: bool) -> None:
        ch = self.at()
        if first and ch == "]":  # '{]': a mismatched close marker, worded with a location
            raise _Reason(None)
        if ch != '"':
            raise _unexpected(ch, "was expecting double-quote to start field name")
        self.string("name")
        ch = self.at()
        if ch != ":":
            raise _unexpected(ch, "was expecting a colon to separate field name and value")
        self.pos += 1

    def string(self, where: str) -> None:
        text, i = self.text, self.pos + 1
        while i < len(text):
            ch = text[i]
            if ch == '"':
                self.pos = i + 1
                return
            if ord(ch) < 0x20:
                raise _Reason(f"Illegal unquoted character ({char_description(ord(ch))}): has to be escaped using backslash "
                              f"to be included in {where}")
            if ch == "\\":
                i = self.escape(i + 1)
            else:
                i += 1
        raise _Reason(None)

    def escape(self, i: int) -> int:
        """Checks the escape whose letter is at `i`; answers the index after it."""
        if i >= len(self.text):
            raise _Reason(None)
        ch = self.text[i]
        if ch not in ESCAPES:
            raise _Reason(f"Unrecognized character escape {char_description(ord(ch))}")
        if ch != "u":
            return i + 1
        for j in range(i + 1, i + 5):
            if j >= len(self.text):
                raise _Reason(None)
            if self.text[j] not in HEX:
                raise _unexpected(self.text[j], "expected a hex-digit for character escape sequence")
        return i + 5

    def number(self, root: bool) -> None:
        found = NUMBER.match(self.text, self.pos)
        if found is None:
            raise _Reason(None)
        end = found.end()
        if end < len(self.text) and self.text[end] in ".eE":  # a bad fraction or exponent: not worded here
            raise _Reason(None)
        if end < len(self.text) and self.text[end].isdigit() and found.group().lstrip("-") == "0":
            raise _Reason("Invalid numeric value: Leading zeroes not allowed")
        self.pos = end
        if root and end < len(self.text) and self.text[end] not in SPACE:
            raise _unexpected(self.text[end], "Expected space separating root-level values")

    def token(self) -> None:
        end = self.pos
        while end < len(self.text) and _ident_part(self.text[end]) and end - self.pos < 256:
            end += 1
        word = self.text[self.pos:end]
        if word in ("NaN", "Infinity"):  # refused as non-standard, in a wording not known here
            raise _Reason(None)
        if word not in ("true", "false", "null"):
            more = "..." if end < len(self.text) and _ident_part(self.text[end]) else ""
            raise _Reason(unrecognized_token(word + more))
        self.pos = end
