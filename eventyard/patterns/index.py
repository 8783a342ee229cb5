"""Per-field value index of the Machine: given one event value, which child nodes it reaches.

A ``FieldIndex`` belongs to one (node, field path). Values reach children through matchers;
the hot kinds are hash lookups (exact values, equals-ignore-case) or a few lookups per distinct
affix length (prefix/suffix); numeric ranges and CIDR blocks use a sorted table of elementary
intervals; anything-but kinds are indexed by what they *exclude*. Indexes are immutable once
published: the writer copies (``clone``) before changing, and derived tables are built lazily
on first read (a benign race: two readers may both build the same table).
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable
from typing import Any

from .conditions import (
    AnythingBut,
    AnythingButIgnoreCase,
    AnythingButPrefix,
    AnythingButSuffix,
    AnythingButWildcard,
    Cidr,
    EqualsIgnoreCase,
    Exact,
    Exists,
    Matcher,
    Numeric,
    Prefix,
    Suffix,
    Wildcard,
)
from .values import exact_key, fold_case, ip_value, is_number

Children = tuple[Any, ...]  # tuple of machine nodes


class FieldIndex:
    __slots__ = ("exact", "affix", "other", "_tables")

    def __init__(self) -> None:
        self.exact: dict[Hashable, Children] = {}
        # (kind, text) -> children, kind in: prefix, prefix_ic, suffix, suffix_ic, eq_ic
        self.affix: dict[tuple[str, str], Children] = {}
        self.other: dict[Matcher, Children] = {}
        self._tables: _Tables | None = None

    def clone(self) -> FieldIndex:
        new = FieldIndex()
        new.exact = dict(self.exact)
        new.affix = dict(self.affix)
        new.other = dict(self.other)
        return new

    def empty(self) -> bool:
        return not (self.exact or self.affix or self.other)

    # ------------------------------------------------------------ writer side
    def _slot(self, matcher: Matcher) -> tuple[dict[Any, Children], Any]:
        if isinstance(matcher, Exact):
            return self.exact, matcher.key
        if isinstance(matcher, Prefix):
            return self.affix, ("prefix_ic" if matcher.ignore_case else "prefix", matcher.text)
        if isinstance(matcher, Suffix):
            return self.affix, ("suffix_ic" if matcher.ignore_case else "suffix", matcher.text)
        if isinstance(matcher, EqualsIgnoreCase):
            return self.affix, ("eq_ic", matcher.text)
        return self.other, matcher

    def link(self, matcher: Matcher, child: Any) -> None:
        table, key = self._slot(matcher)
        held = table.get(key, ())
        if child not in held:
            table[key] = held + (child,)

    def unlink(self, matcher: Matcher, child: Any) -> None:
        table, key = self._slot(matcher)
        held = tuple(c for c in table.get(key, ()) if c is not child)
        if held:
            table[key] = held
        else:
            table.pop(key, None)

    def relink(self, matcher: Matcher, old: Any, new: Any) -> None:
        table, key = self._slot(matcher)
        table[key] = tuple(new if c is old else c for c in table.get(key, ()))

    # ------------------------------------------------------------ reader side
    def children(self, value: Any, out: list[Any]) -> None:
        """Append every child node ``value`` reaches (duplicates possible; callers dedupe)."""
        if self.exact:
            hit = self.exact.get(value if isinstance(value, str) else exact_key(value))
            if hit:
                out.extend(hit)
        if not (self.affix or self.other):
            return
        tables = self._tables
        if tables is None:
            tables = self._tables = _Tables(self)
        tables.children(value, out)


class _Tables:
    """Read-side accelerators derived from one FieldIndex snapshot."""

    def __init__(self, index: FieldIndex) -> None:
        self.affix = index.affix
        self.lengths: dict[str, tuple[int, ...]] = {}
        for kind in {k for k, _ in index.affix}:
            self.lengths[kind] = tuple(sorted({len(t) for k, t in index.affix if k == kind}))
        self.exists: list[Any] = []
        self.wildcards: list[tuple[Wildcard, Children]] = []
        self.numeric = _Intervals([(m.low, m.low_inclusive, m.high, m.high_inclusive, ch)
                                   for m, ch in index.other.items() if isinstance(m, Numeric)])
        self.cidr = {v: _Intervals([(m.first, True, m.last, True, ch) for m, ch in index.other.items()
                                    if isinstance(m, Cidr) and m.version == v]) for v in (4, 6)}
        self.has_cidr = any(isinstance(m, Cidr) for m in index.other)
        self.negative = _Negative([(m, ch) for m, ch in index.other.items()
                                   if isinstance(m, (AnythingBut, AnythingButPrefix, AnythingButSuffix,
                                                     AnythingButIgnoreCase, AnythingButWildcard))])
        for m, ch in index.other.items():
            if isinstance(m, Exists):
                self.exists.extend(ch)
            elif isinstance(m, Wildcard):
                self.wildcards.append((m, ch))

    def children(self, value: Any, out: list[Any]) -> None:
        if self.exists:
            out.extend(self.exists)
        if isinstance(value, str):
            if self.lengths:
                folded = None
                for kind, lengths in self.lengths.items():
                    if kind == "eq_ic":
                        folded = folded if folded is not None else fold_case(value)
                        hit = self.affix.get((kind, folded))
                        if hit:
                            out.extend(hit)
                        continue
                    subject = value
                    if kind.endswith("_ic"):
                        folded = folded if folded is not None else fold_case(value)
                        subject = folded
                    size = len(subject)
                    front = kind.startswith("prefix")
                    for n in lengths:
                        if n > size:
                            break
                        hit = self.affix.get((kind, subject[:n] if front else subject[size - n:]))
                        if hit:
                            out.extend(hit)
            for matcher, ch in self.wildcards:
                if matcher.regex.fullmatch(value):
                    out.extend(ch)
            if self.has_cidr:
                ip = ip_value(value)
                if ip is not None:
                    self.cidr[ip[0]].stab(ip[1], out)
        elif is_number(value) and self.numeric.size:
            try:
                self.numeric.stab(float(value), out)
            except OverflowError:
                pass
        if self.negative.size:
            self.negative.children(value, out)


class _Intervals:
    """Stabbing queries over closed/open intervals via a table of elementary segments."""

    def __init__(self, intervals: list[tuple[float, bool, float, bool, Children]]) -> None:
        self.size = len(intervals)
        points = sorted({p for lo, _, hi, _, _ in intervals for p in (lo, hi)})
        self.points = points
        # slot 2k+1 is the point points[k]; slot 2k is the open gap below it; last gap above.
        slots: list[list[Any]] = [[] for _ in range(2 * len(points) + 1)]
        for lo, lo_inc, hi, hi_inc, ch in intervals:
            i, j = bisect.bisect_left(points, lo), bisect.bisect_left(points, hi)
            first = 2 * i + 1 if lo_inc else 2 * i + 2
            last = 2 * j + 1 if hi_inc else 2 * j
            for s in range(first, last + 1):
                slots[s].extend(ch)
        self.slots = [tuple(s) for s in slots]

    def stab(self, x: float, out: list[Any]) -> None:
        k = bisect.bisect_left(self.points, x)
        slot = 2 * k + 1 if k < len(self.points) and self.points[k] == x else 2 * k
        hit = self.slots[slot]
        if hit:
            out.extend(hit)


class _Negative:
    """anything-but matchers, indexed by the values each one excludes."""

    def __init__(self, entries: list[tuple[Matcher, Children]]) -> None:
        self.size = len(entries)
        self.entries = entries
        self.all: list[Any] = [c for _, ch in entries for c in ch]
        self.by_key: dict[Hashable, set[Matcher]] = {}
        self.by_text: dict[tuple[str, str], set[Matcher]] = {}
        self.wildcards: list[AnythingButWildcard] = []
        lengths: dict[str, set[int]] = {}
        for m, _ in entries:
            if isinstance(m, AnythingBut):
                for key in m.keys:
                    self.by_key.setdefault(key, set()).add(m)
            elif isinstance(m, AnythingButWildcard):
                self.wildcards.append(m)
            else:
                kind = _NEG_KIND[type(m)]
                for text in m.texts:  # type: ignore[attr-defined]
                    self.by_text.setdefault((kind, text), set()).add(m)
                    lengths.setdefault(kind, set()).add(len(text))
        self.lengths = {k: tuple(sorted(v)) for k, v in lengths.items()}

    def excluded(self, value: Any) -> set[Matcher]:
        out: set[Matcher] = set()
        hit = self.by_key.get(value if isinstance(value, str) else exact_key(value))
        if hit:
            out |= hit
        if isinstance(value, str):
            folded = None
            for kind, lengths in self.lengths.items():
                if kind == "ic":
                    folded = fold_case(value)
                    found = self.by_text.get((kind, folded))
                    if found:
                        out |= found
                    continue
                size = len(value)
                for n in lengths:
                    if n > size:
                        break
                    found = self.by_text.get((kind, value[:n] if kind == "prefix" else value[size - n:]))
                    if found:
                        out |= found
            for m in self.wildcards:
                if any(r.fullmatch(value) for r in m.regexes):
                    out.add(m)
        return out

    def children(self, value: Any, out: list[Any]) -> None:
        excluded = self.excluded(value)
        if not excluded:
            out.extend(self.all)
            return
        for m, ch in self.entries:
            if m not in excluded:
                out.extend(ch)


_NEG_KIND: dict[type, str] = {
    AnythingButPrefix: "prefix", AnythingButSuffix: "suffix", AnythingButIgnoreCase: "ic",
}

