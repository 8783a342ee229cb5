"""The parsed form of a Logs Insights query: commands in order, each holding expressions.

Every expression keeps the text it was written as: AWS names a result column after it
(`count(*)`, `bin(5m)`, `avg(@duration)`) unless an `as` alias names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Field:
    name: str
    text: str


@dataclass(frozen=True)
class Literal:
    value: Any  # str, float, int, or a duration in milliseconds (DurationLiteral)
    text: str


@dataclass(frozen=True)
class Duration:
    milliseconds: int
    text: str


@dataclass(frozen=True)
class ListValue:
    items: tuple[Expr, ...]
    text: str


@dataclass(frozen=True)
class Call:
    name: str  # lower-cased
    args: tuple[Expr, ...]
    star: bool  # count(*)
    text: str


@dataclass(frozen=True)
class Unary:
    operator: str  # "-" or "not"
    operand: Expr
    text: str


@dataclass(frozen=True)
class Binary:
    operator: str  # + - * / % ^, = != < <= > >=, and, or
    left: Expr
    right: Expr
    text: str


@dataclass(frozen=True)
class Like:
    operand: Expr
    pattern: str | re.Pattern[str]  # a substring, or a regex
    negated: bool
    text: str


@dataclass(frozen=True)
class InList:
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool
    text: str


Expr = Field | Literal | Duration | ListValue | Call | Unary | Binary | Like | InList


@dataclass(frozen=True)
class Aliased:
    expr: Expr
    name: str  # the alias, or the expression's text


@dataclass(frozen=True)
class Fields:
    items: tuple[Aliased, ...]


@dataclass(frozen=True)
class Display:
    names: tuple[str, ...]


@dataclass(frozen=True)
class Filter:
    condition: Expr


@dataclass(frozen=True)
class Stats:
    aggregates: tuple[Aliased, ...]
    groups: tuple[Aliased, ...]


@dataclass(frozen=True)
class Sort:
    keys: tuple[tuple[Expr, bool], ...]  # (expression, descending)


@dataclass(frozen=True)
class Limit:
    count: int


@dataclass(frozen=True)
class Parse:
    source: Expr  # @message unless the query names another field
    regex: re.Pattern[str]
    names: tuple[str, ...]  # the fields the regex's groups fill, in order


@dataclass(frozen=True)
class Dedup:
    names: tuple[str, ...]


Command = Fields | Display | Filter | Stats | Sort | Limit | Parse | Dedup


@dataclass(frozen=True)
class Query:
    text: str
    commands: tuple[Command, ...]
