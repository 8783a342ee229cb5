"""Reading JSON request documents safely: every way a body can fail to be a document is a 4xx.

Python's parser raises RecursionError (not ValueError) for deeply nested input, accepts `NaN`, and
decodes a lone surrogate escape (`"\\ud800"`) into a string no UTF-8 encoder will take later. The
protocols read bodies through here so none of these reaches a service as a 500.
"""

from __future__ import annotations

import json
import re
from typing import Any

from eventyard.protocol.values import WireTypeError

# Request documents nest a few levels (the models' shapes); deeper ones are refused before any
# recursive code walks them.
MAX_DEPTH = 100
# Any escaped UTF-16 surrogate: a valid pair is joined by the parser; a lone half survives as one.
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def load_body(body: bytes) -> Any:
    """The JSON document of a request body (None for an empty body)."""
    if not body.strip():
        return None
    try:
        document = json.loads(body)
    except RecursionError:
        document = None
    except ValueError as exc:
        raise WireTypeError(f"Could not parse request body into json: {_reason(exc)}") from None
    else:
        # A body with no more brackets than the limit cannot nest deeper (two C-speed counts); only
        # the others are walked.
        if body.count(b"[") + body.count(b"{") <= MAX_DEPTH or nesting_within(document, MAX_DEPTH):
            return document
    raise WireTypeError(f"JSON document nested deeper than {MAX_DEPTH} levels.")


def nesting_within(document: Any, limit: int) -> bool:
    """Whether no object or array in `document` lies more than `limit` levels deep (iteratively)."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        node, depth = pending.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return False
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return True


def _reason(exc: ValueError) -> str:
    return str(exc).splitlines()[0][:200]


def may_hold_lone_surrogates(body: bytes) -> bool:
    """Cheap pre-check: only a body with an escaped surrogate can decode into a lone one."""
    return _ESCAPED_SURROGATE.search(body) is not None


def has_lone_surrogate(text: str) -> bool:
    return _LONE_SURROGATE.search(text) is not None


def printable(text: str) -> str:
    """A string with lone surrogates shown as escapes, so error messages can be encoded."""
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
