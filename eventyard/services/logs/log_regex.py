"""The regular expressions CloudWatch Logs filter patterns take between `%` signs (`%ERROR|WARN%`).

AWS documents a restricted dialect: letters, digits, the symbols `_ # = @ / ; , - : ' space` and the
operators `^ $ ? [ ] { } | \\ * + .`; no parentheses (no subpatterns) and no multi-byte characters.
A regex outside that set is refused like any invalid filter pattern.
"""

from __future__ import annotations

import re

_ALLOWED = re.compile(r"[A-Za-z0-9_#=@/;,:'\- ^$?\[\]{}|\\*+.]+")


def compile_log_regex(body: str) -> re.Pattern[str] | None:
    """The compiled expression, or None when AWS would refuse it."""
    if not body or not body.isascii() or _ALLOWED.fullmatch(body) is None:
        return None
    try:
        return re.compile(body)
    except re.error:
        return None
