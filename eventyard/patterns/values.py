"""Value-level building blocks shared by both dialects, the reference matcher and the Machine.

Event values are parsed JSON (str, int, float, bool, None). Exact matching compares *typed*
values: the string "5" never equals the number 5, while 5 equals 5.0 (EventBridge compares
numbers as numbers). ``exact_key`` turns a value into a hashable key with that equality.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Hashable
from typing import Any

from .errors import InvalidPattern


class RawNumber(float):
    """A float that remembers its JSON text, so limits can quote the number as written."""

    text: str

    def __new__(cls, text: str) -> RawNumber:
        self = super().__new__(cls, float(text))
        self.text = text
        return self


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def exact_key(value: Any) -> Hashable:
    """Hashable identity for exact matching: strings are themselves, other types are tagged."""
    if isinstance(value, str):
        return value
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the double range: compare by its digits
        return ("bignum", str(value))
    if math.isinf(number):
        return ("bignum", getattr(value, "text", str(value)))
    return ("num", number)


def fold_case(text: str) -> str:
    """Case folding for equals-ignore-case (per-character lower case, as Java's equalsIgnoreCase)."""
    return text.lower()


# ------------------------------------------------------------------ wildcard
WILDCARD_MAX_COMPLEXITY = 10
"""Largest weighted set of NFA states one input may keep alive (see wildcard_complexity).

AWS does not publish its threshold; this one accepts every wildcard AWS accepted in the recorded
cases and rejects the recorded "too complex" one."""


def parse_wildcard(pattern: str) -> list[str]:
    """Split a wildcard pattern into its literal segments; ``*`` separates them.

    ``\\*`` is a literal star and ``\\\\`` a literal backslash; any other escape is rejected, as
    are two unescaped stars in a row.
    """
    segments: list[str] = []
    current: list[str] = []
    i = 0
    previous_star = False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1] if i + 1 < len(pattern) else ""
            if nxt not in ("*", "\\"):
                raise InvalidPattern(f"Wildcard pattern contains invalid escape character at pos {i}")
            current.append(nxt)
            i += 2
            previous_star = False
            continue
        if ch == "*":
            if previous_star:
                raise InvalidPattern(f"Consecutive wildcard characters at pos {i}")
            segments.append("".join(current))
            current = []
            previous_star = True
        else:
            current.append(ch)
            previous_star = False
        i += 1
    segments.append("".join(current))
    return segments


def wildcard_regex(segments: list[str]) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(s) for s in segments), re.DOTALL)


def wildcard_complexity(segments: list[str]) -> int:
    """Largest set of NFA positions one input can keep alive at once (subset construction).

    A pattern like ``*:*:*:*:*:event-bus/*`` lets a run of ':' keep every star alive, which is
    what AWS refuses as "too complex"; plain prefixes/suffixes with one or two stars stay small.
    """
    # Positions: (segment index, offset into segment). Star before segment k>0 loops on itself.
    chars = sorted({c for s in segments for c in s}) + ["\x00other"]

    def closure(states: frozenset[tuple[int, int]]) -> frozenset[tuple[int, int]]:
        # finishing a non-final segment *is* being at the next star: one state, not two
        out = set()
        for seg, off in states:
            while off == len(segments[seg]) and seg + 1 < len(segments):
                seg, off = seg + 1, 0
            out.add((seg, off))
        return frozenset(out)

    def step(states: frozenset[tuple[int, int]], ch: str) -> frozenset[tuple[int, int]]:
        nxt: set[tuple[int, int]] = set()
        for seg, off in states:
            if seg > 0 and off == 0:
                nxt.add((seg, 0))  # the star before this segment absorbs the character
            if off < len(segments[seg]) and segments[seg][off] == ch:
                nxt.add((seg, off + 1))
        return closure(frozenset(nxt))

    start = closure(frozenset({(0, 0)}))
    seen = {start}
    todo = [start]
    worst = _weight(start)
    while todo and len(seen) < 5000:
        current = todo.pop()
        for ch in chars:
            nxt = step(current, ch)
            if nxt and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
                worst = max(worst, _weight(nxt))
    return worst


def _weight(states: frozenset[tuple[int, int]]) -> int:
    # A live star costs two (its loop and its exit), a partial literal match costs one.
    return sum(2 if seg > 0 and off == 0 else 1 for seg, off in states)


def check_wildcard(pattern: str) -> re.Pattern[str]:
    segments = parse_wildcard(pattern)
    if wildcard_complexity(segments) > WILDCARD_MAX_COMPLEXITY:
        raise InvalidPattern(
            "Rule is too complex - try using fewer wildcard characters or fewer repeating "
            "character sequences after a wildcard character"
        )
    return wildcard_regex(segments)


# ------------------------------------------------------------------ cidr
def parse_cidr(text: str) -> tuple[int, int, int]:
    """CIDR text -> (ip version, first address, last address) as integers."""
    if text.count("/") != 1:
        raise InvalidPattern("Malformed CIDR, one '/' required")
    address, bits_text = text.split("/")
    if not bits_text.isdigit():
        raise InvalidPattern("Malformed CIDR, mask bits must be an integer")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise InvalidPattern(f"Nonstandard IP address: {address}") from None
    bits = int(bits_text)
    width = 32 if ip.version == 4 else 128
    if bits > width:
        raise InvalidPattern(f"Malformed CIDR, mask bits must be between 0 and {width}")
    network = ipaddress.ip_network(f"{address}/{bits}", strict=False)
    return ip.version, int(network.network_address), int(network.broadcast_address)


def ip_value(value: Any) -> tuple[int, int] | None:
    """An event value as (ip version, integer address), or None if it is not an IP string."""
    if not isinstance(value, str) or not value or len(value) > 45:
        return None
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return None
    return ip.version, int(ip)
