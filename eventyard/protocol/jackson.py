"""The wording of Jackson, the Java JSON parser behind several AWS front ends (Step Functions'
execution input, Lambda's Invoke payload): AWS passes its complaints on verbatim, so a service that
refuses bad JSON the way AWS does words it with these."""

from __future__ import annotations

VALUES = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"


def char_description(code: int) -> str:
    """A character as Jackson describes one it did not expect: ISO control characters by code, others
    quoted with their UTF-16 code (and its hex form above 255; Java sees a high surrogate first)."""
    if code > 0xFFFF:
        code = 0xD800 + ((code - 0x10000) >> 10)
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return f"(CTRL-CHAR, code {code})"
    if code > 255:
        return f"'{chr(code)}' (code {code} / 0x{code:x})"
    return f"'{chr(code)}' (code {code})"


def unexpected_character(code: int, comment: str) -> str:
    return f"Unexpected character ({char_description(code)}): {comment}"


def unrecognized_token(word: str) -> str:
    return f"Unrecognized token '{word}': was expecting {VALUES}"
