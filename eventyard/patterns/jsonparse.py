"""Strict JSON parsing for pattern text, with error reasons worded as AWS reports them.

AWS's parser (Jackson) rejects NaN/Infinity and words its errors its own way; the two shapes
seen most often (a bare word, a single-quoted key) are reproduced, others get a generic reason.
Numbers keep their source text (``RawNumber``) so limits can quote them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import InvalidPattern
from .values import RawNumber

_TOKEN = re.compile(r"[A-Za-z0-9_$.+\-]+")


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def parse_json(text: str, dialect: str = "eventbridge") -> Any:
    try:
        return json.loads(text, parse_float=RawNumber, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise InvalidPattern(_jackson_reason(text, e), dialect=dialect) from None
    except (ValueError, TypeError) as e:
        raise InvalidPattern(f"Unrecognized token '{e}': was expecting (JSON String, Number, "
                             "Array, Object or token 'null', 'true' or 'false')", dialect=dialect) from None


def _jackson_reason(text: str, error: json.JSONDecodeError) -> str:
    pos = error.pos
    ch = text[pos] if pos < len(text) else ""
    if error.msg.startswith("Expecting property name"):
        if ch:
            return f"Unexpected character ('{ch}' (code {ord(ch)})): was expecting double-quote to start field name"
    if error.msg == "Expecting value" and ch and (ch.isalpha() or ch == "_"):
        token = _TOKEN.match(text, pos)
        word = token.group(0) if token else ch
        return (f"Unrecognized token '{word}': was expecting (JSON String, Number, Array, Object "
                "or token 'null', 'true' or 'false')")
    if not ch:
        return "Unexpected end-of-input"
    return f"Unexpected character ('{ch}' (code {ord(ch)})): {error.msg}"
