"""The parts of a compiled pattern that the matchers read: value tests (*matchers*) and
*conditions* (a field path and the tests one of its leaves must pass). See model.py for the whole."""

from __future__ import annotations

import math
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from .values import exact_key, fold_case, ip_value, is_number


class Matcher:
    """One value test. Subclasses are frozen dataclasses so equal tests compare and hash equal."""

    def test(self, value: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Exact(Matcher):
    key: Hashable

    def test(self, value: Any) -> bool:
        return exact_key(value) == self.key


@dataclass(frozen=True, slots=True)
class Prefix(Matcher):
    text: str
    ignore_case: bool = False

    def test(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        return (fold_case(value) if self.ignore_case else value).startswith(self.text)


@dataclass(frozen=True, slots=True)
class Suffix(Matcher):
    text: str
    ignore_case: bool = False

    def test(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        return (fold_case(value) if self.ignore_case else value).endswith(self.text)


@dataclass(frozen=True, slots=True)
class EqualsIgnoreCase(Matcher):
    text: str  # already folded

    def test(self, value: Any) -> bool:
        return isinstance(value, str) and fold_case(value) == self.text


@dataclass(frozen=True, slots=True)
class Wildcard(Matcher):
    pattern: str
    regex: re.Pattern[str] = field(compare=False, hash=False)

    def test(self, value: Any) -> bool:
        return isinstance(value, str) and self.regex.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Numeric(Matcher):
    low: float = -math.inf
    low_inclusive: bool = False
    high: float = math.inf
    high_inclusive: bool = False

    def test(self, value: Any) -> bool:
        if not is_number(value):
            return False
        try:
            number = float(value)
        except OverflowError:
            return False
        if number < self.low or (number == self.low and not self.low_inclusive):
            return False
        return number < self.high or (number == self.high and self.high_inclusive)


@dataclass(frozen=True, slots=True)
class Cidr(Matcher):
    version: int
    first: int
    last: int

    def test(self, value: Any) -> bool:
        ip = ip_value(value)
        return ip is not None and ip[0] == self.version and self.first <= ip[1] <= self.last


@dataclass(frozen=True, slots=True)
class Exists(Matcher):
    """``exists: true``: any leaf value at the path (null included)."""

    def test(self, value: Any) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class AnythingBut(Matcher):
    keys: frozenset[Hashable]

    def test(self, value: Any) -> bool:
        return exact_key(value) not in self.keys


@dataclass(frozen=True, slots=True)
class AnythingButPrefix(Matcher):
    texts: frozenset[str]

    def test(self, value: Any) -> bool:
        return not (isinstance(value, str) and any(value.startswith(t) for t in self.texts))


@dataclass(frozen=True, slots=True)
class AnythingButSuffix(Matcher):
    texts: frozenset[str]

    def test(self, value: Any) -> bool:
        return not (isinstance(value, str) and any(value.endswith(t) for t in self.texts))


@dataclass(frozen=True, slots=True)
class AnythingButIgnoreCase(Matcher):
    texts: frozenset[str]  # already folded

    def test(self, value: Any) -> bool:
        return not (isinstance(value, str) and fold_case(value) in self.texts)


@dataclass(frozen=True, slots=True)
class AnythingButWildcard(Matcher):
    patterns: tuple[str, ...]
    regexes: tuple[re.Pattern[str], ...] = field(compare=False, hash=False)

    def test(self, value: Any) -> bool:
        if not isinstance(value, str):
            return True
        return not any(r.fullmatch(value) for r in self.regexes)


@dataclass(frozen=True, slots=True)
class Condition:
    """One field of a branch: some leaf at ``path`` matches one of ``matchers``, or (if
    ``allow_absent``) the path has no leaf."""

    path: str
    matchers: frozenset[Matcher]
    allow_absent: bool = False


Branch = tuple[Condition, ...]
