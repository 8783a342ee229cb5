"""Why Lambda refuses an Invoke payload that is not JSON, in its own words.

Lambda's front end reads the payload with Jackson and quotes the parser's first complaint after
"Could not parse request body into json: Could not parse payload into json: ", with its place
(line, and column counted in bytes). A payload sent as raw bytes (the AWS CLI v2 reading an inline
--payload as base64) fails on its first value, so the complaints about how a value starts are told
here as Jackson words them:
- a character that cannot start a value: "Unexpected character ('x' (code 120)): expected a valid
  value ...", control characters as "(CTRL-CHAR, code N)", at the character;
- a word that is not null, true or false: "Unrecognized token 'word': was expecting ...", after the
  character that ended it; its bytes are read as UTF-8, and a bad byte is "Invalid UTF-8 start byte
  0x87" (or "middle byte") just after that byte.
Errors deeper inside a value (strings, numbers, objects) keep the short message (`describe` -> None).
"""

from __future__ import annotations

import unicodedata

from eventyard.protocol.jackson import VALUES, unexpected_character, unrecognized_token

PREFIX = "Could not parse request body into json: Could not parse payload into json"
LOCATION = "\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: {}, column: {}]"
TOKENS = {ord("n"): "null", ord("t"): "true", ord("f"): "false"}
STRUCTURAL = frozenset(b'"[{-0123456789]}')  # values (and closers) whose errors lie deeper


class _Invalid(Exception):
    def __init__(self, message: str, end: int) -> None:
        super().__init__(message)
        self.message, self.end = message, end  # end: the offset just past the offending byte


def message(payload: bytes) -> str:
    """The InvalidRequestContentException message for a payload `json.loads` refused."""
    found = describe(payload)
    return PREFIX if found is None else f"{PREFIX}: {found}"


def describe(payload: bytes) -> str | None:
    start, line, row = _skip_space(payload)
    if start >= len(payload) or payload[start] in STRUCTURAL or payload[start] < 0x20:
        return None
    first = payload[start]
    try:
        if first in TOKENS:
            word = TOKENS[first]
            matched = 1
            while matched < len(word) and start + matched < len(payload) and payload[start + matched] == ord(
                    word[matched]):
                matched += 1
            if matched == len(word):  # whole: only a word going on ("nullx") is its error here
                following = start + matched
                if following >= len(payload) or not _identifier_part(_utf8(payload, following)[0]):
                    return None
            text, end = _token(payload, start + matched, word[:matched])
        elif _identifier_start(chr(first)):  # a byte >= 0x80 is read as the character of that code
            text, end = _token(payload, start + 1, chr(first))
        else:
            return unexpected_character(first, f"expected a valid value {VALUES}") + \
                LOCATION.format(line, start - row + 1)
    except _Invalid as invalid:
        return invalid.message + LOCATION.format(line, invalid.end - row + 1)
    return unrecognized_token(text) + LOCATION.format(line, end - row + 1)


def _skip_space(payload: bytes) -> tuple[int, int, int]:
    """The first byte past white space, its line (1-based) and where that line starts."""
    pos, line, row = 0, 1, 0
    while pos < len(payload) and payload[pos] in b" \t\r\n":
        if payload[pos] == 0x0A:
            line, row = line + 1, pos + 1
        pos += 1
    return pos, line, row


def _token(payload: bytes, pos: int, text: str) -> tuple[str, int]:
    """Read on while the characters may continue an identifier (Jackson stops at 256); the text and
    the offset past the byte that ended it."""
    while len(text) < 256 and pos < len(payload):
        char, pos = _utf8(payload, pos)
        if not _identifier_part(char):
            break
        text += char
    return text, pos


def _utf8(payload: bytes, pos: int) -> tuple[str, int]:
    first = payload[pos]
    pos += 1
    if first < 0x80:
        return chr(first), pos
    if first & 0xE0 == 0xC0:
        needed = 1
    elif first & 0xF0 == 0xE0:
        needed = 2
    elif first & 0xF8 == 0xF0:
        needed = 3
    else:
        raise _Invalid(f"Invalid UTF-8 start byte 0x{first:x}", pos)
    end = pos + needed
    for index in range(pos, min(end, len(payload))):
        if payload[index] & 0xC0 != 0x80:
            raise _Invalid(f"Invalid UTF-8 middle byte 0x{payload[index]:x}", index + 1)
    return payload[pos - 1:end].decode("utf-8", "replace")[:1], end


def _identifier_start(char: str) -> bool:  # Java's Character.isJavaIdentifierStart
    return unicodedata.category(char) in {"Lu", "Ll", "Lt", "Lm", "Lo", "Nl", "Sc", "Pc"}


def _identifier_part(char: str) -> bool:  # Java's Character.isJavaIdentifierPart
    code = ord(char)
    ignorable = 0 <= code <= 8 or 0x0E <= code <= 0x1B or 0x7F <= code <= 0x9F
    return _identifier_start(char) or ignorable or unicodedata.category(char) in {"Nd", "Mn", "Mc", "Cf"}
