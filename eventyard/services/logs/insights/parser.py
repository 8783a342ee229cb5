"""Logs Insights query text -> `model.Query`, or MalformedQueryException in the style of AWS's parser
("mismatched input 'x' expecting ...", with where it stands)."""

from __future__ import annotations

import json
import re
from typing import Any

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from eventyard.protocol.errors import AwsError
from eventyard.services.logs.insights import functions, model
from eventyard.services.logs.insights.grammar import parser

MAX_LIMIT = 10_000
_UNITS = {"ms": 1, "s": 1000, "sec": 1000, "m": 60_000, "min": 60_000, "h": 3_600_000, "hr": 3_600_000,
          "d": 86_400_000, "day": 86_400_000, "w": 604_800_000, "week": 604_800_000, "mo": 2_592_000_000,
          "q": 7_776_000_000, "y": 31_536_000_000}
_NAMED_GROUP = re.compile(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>")


def malformed(message: str) -> AwsError:
    return AwsError("MalformedQueryException", message)


def parse_query(text: str) -> model.Query:
    try:
        tree = parser().parse(text)
    except UnexpectedInput as error:
        raise malformed(_syntax_message(error)) from None
    commands: list[Any] = list(tree.children)
    return model.Query(text, tuple(_Builder(text).command(child) for child in commands))


def _syntax_message(error: UnexpectedInput) -> str:
    where = f"at line {error.line} and position {error.column}"
    if isinstance(error, UnexpectedToken):
        shown = "<EOF>" if error.token.type == "$END" else error.token.value
        expected = ", ".join(sorted(error.expected - {"$END"})) or "<EOF>"
        return f"mismatched input '{shown}' expecting {{{expected}}} {where}"
    if isinstance(error, UnexpectedCharacters):
        return f"token recognition error at: '{error.char}' {where}"
    if isinstance(error, UnexpectedEOF):
        return f"mismatched input '<EOF>' {where}"
    return f"syntax error {where}"


class _Builder:
    def __init__(self, text: str) -> None:
        self.text = text

    def source(self, node: Tree[Any] | Token) -> str:
        if isinstance(node, Token):
            return str(node.value)
        return self.text[node.meta.start_pos:node.meta.end_pos]

    # -- commands ----------------------------------------------------------------------------
    def command(self, node: Tree[Any]) -> model.Command:
        kind = node.data
        parts: list[Any] = [c for c in node.children if c is not None][1:]  # drop the keyword
        if kind == "fields_cmd":
            return model.Fields(tuple(self.aliased(p) for p in parts))
        if kind == "display_cmd":
            return model.Display(tuple(self.field_name(p) for p in parts))
        if kind == "dedup_cmd":
            return model.Dedup(tuple(self.field_name(p) for p in parts))
        if kind == "filter_cmd":
            return model.Filter(self.expr(parts[0], aggregates=False))
        if kind == "stats_cmd":
            return self.stats(parts)
        if kind == "sort_cmd":
            return model.Sort(tuple(self.sort_key(p) for p in parts))
        if kind == "limit_cmd":
            count = int(parts[0])
            if not 1 <= count <= MAX_LIMIT:
                raise malformed(f"limit must be between 1 and {MAX_LIMIT}")
            return model.Limit(count)
        return self.parse_command(kind, parts)

    def aliased(self, node: Tree[Any], aggregates: bool = False) -> model.Aliased:
        children = [c for c in node.children if c is not None]
        expr = self.expr(children[0], aggregates)
        return model.Aliased(expr, str(children[2]) if len(children) == 3 else expr.text)

    def stats(self, parts: list[Any]) -> model.Stats:
        aggregates: list[model.Aliased] = []
        groups: list[model.Aliased] = []
        target = aggregates
        for part in parts:
            if isinstance(part, Token) and part.type == "BY":
                target = groups
                continue
            target.append(self.aliased(part, aggregates=target is aggregates))
        for item in aggregates:
            if not _has_aggregate(item.expr):
                raise malformed(f"stats needs an aggregation function: {item.name}")
        return model.Stats(tuple(aggregates), tuple(groups))

    def sort_key(self, node: Tree[Any]) -> tuple[model.Expr, bool]:
        children = [c for c in node.children if c is not None]
        descending = len(children) > 1 and str(children[1]).lower() == "desc"
        return self.expr(children[0], aggregates=False), descending

    def parse_command(self, kind: str, parts: list[Any]) -> model.Parse:
        source: model.Expr = model.Field("@message", "@message")
        if isinstance(parts[0], Tree):
            source = self.expr(parts.pop(0), aggregates=False)
        elif parts[0].type == "PARSE_SOURCE":
            source = model.Field(_field_name(str(parts[0])), str(parts.pop(0)))
        if kind == "parse_glob":
            glob = _string(str(parts[0]))
            names = tuple(str(p) for p in parts[2:])
            if glob.count("*") != len(names):
                raise malformed(f"parse: the pattern has {glob.count('*')} wildcards for {len(names)} fields")
            pieces = [re.escape(p) for p in glob.split("*")]
            captures = ["(.*?)"] * len(names)
            if glob.endswith("*") and captures:
                captures[-1] = "(.*)"
            pattern = "".join(piece + (captures[i] if i < len(captures) else "") for i, piece in enumerate(pieces))
            return model.Parse(source, re.compile(pattern, re.S), names)
        regex = _regex(str(parts[0]))
        if not regex.groupindex:
            raise malformed("parse: the regular expression names no fields (use (?<name>...))")
        names = tuple(sorted(regex.groupindex, key=lambda name: regex.groupindex[name]))
        return model.Parse(source, regex, names)

    def field_name(self, node: Tree[Any]) -> str:
        return _field_name(str(node.children[0]))

    # -- expressions -------------------------------------------------------------------------
    def expr(self, node: Tree[Any] | Token, aggregates: bool) -> model.Expr:
        text = self.source(node)
        if isinstance(node, Token):
            raise malformed(f"unexpected symbol '{text}'")
        kind = node.data
        children: list[Any] = [c for c in node.children if c is not None]
        if kind == "field_ref":
            return model.Field(_field_name(str(children[0])), text)
        if kind == "number":
            value = float(children[0])
            return model.Literal(int(value) if value.is_integer() and "." not in str(children[0]) else value, text)
        if kind == "string":
            return model.Literal(_string(str(children[0])), text)
        if kind == "duration":
            return model.Duration(_duration(str(children[0])), text)
        if kind == "list":
            return model.ListValue(tuple(self.expr(c, aggregates) for c in children), text)
        if kind == "call":
            return self.call(children, text, aggregates)
        if kind in {"negation", "negative"}:
            operand = self.expr(children[-1], aggregates)
            return model.Unary("not" if kind == "negation" else "-", operand, text)
        if kind in {"like", "not_like"}:
            pattern = children[-1].children[0]
            matcher = _regex(str(pattern)) if pattern.type == "REGEX" else _string(str(pattern))
            return model.Like(self.expr(children[0], aggregates), matcher, kind == "not_like", text)
        if kind == "regex_match":
            return model.Like(self.expr(children[0], aggregates), _regex(str(children[-1])), False, text)
        if kind in {"in_list", "not_in_list"}:
            items = tuple(self.expr(c, aggregates) for c in children[-1].children if c is not None)
            return model.InList(self.expr(children[0], aggregates), items, kind == "not_in_list", text)
        return self.chain(children, text, aggregates)

    def chain(self, children: list[Any], text: str, aggregates: bool) -> model.Expr:
        """`a op b op c ...` (sums, products, and/or chains, comparisons), left to right."""
        result = self.expr(children[0], aggregates)
        for position in range(1, len(children), 2):
            operator = str(children[position]).lower()
            right = self.expr(children[position + 1], aggregates)
            end = text if position + 2 == len(children) else f"{result.text} {operator} {right.text}"
            result = model.Binary(operator, result, right, end)
        return result

    def call(self, children: list[Any], text: str, aggregates: bool) -> model.Call:
        name = str(children[0]).lower()
        arguments = children[1:]
        star = any(isinstance(a, Tree) and a.data == "star" for a in arguments)
        args = tuple(self.expr(a, aggregates) for a in arguments if not (isinstance(a, Tree) and a.data == "star"))
        if name in functions.AGGREGATIONS:
            if not aggregates:
                raise malformed(f"{name} is an aggregation function: use it in stats")
            _check_aggregate_arity(name, args, star)
        elif name == "bin":
            if len(args) != 1 or not isinstance(args[0], model.Duration):
                raise malformed("bin takes one time period, such as bin(5m)")
        elif name in functions.SCALAR:
            least, most, _ = functions.SCALAR[name]
            if len(args) < least or (most is not None and len(args) > most) or star:
                raise malformed(f"wrong number of arguments for {name}")
        else:
            raise malformed(f"unknown function: {name}")
        return model.Call(name, args, star, text)


def _check_aggregate_arity(name: str, args: tuple[model.Expr, ...], star: bool) -> None:
    if name == "count":
        if len(args) > 1:
            raise malformed("count takes one field, *, or nothing")
        return
    if name in {"pct", "percentile"}:
        if len(args) != 2 or not isinstance(args[1], model.Literal) or not isinstance(args[1].value, (int, float)):
            raise malformed(f"{name} takes a field and a percentile, such as {name}(latency, 99)")
        return
    if len(args) != 1 or star:
        raise malformed(f"{name} takes one field")


def _has_aggregate(expr: model.Expr) -> bool:
    if isinstance(expr, model.Call):
        return expr.name in functions.AGGREGATIONS or any(_has_aggregate(a) for a in expr.args)
    if isinstance(expr, model.Binary):
        return _has_aggregate(expr.left) or _has_aggregate(expr.right)
    if isinstance(expr, model.Unary):
        return _has_aggregate(expr.operand)
    return False


def _field_name(raw: str) -> str:
    return raw[1:-1] if raw.startswith("`") else raw


def _string(raw: str) -> str:
    body = raw[1:-1]
    if raw.startswith("'"):
        body = body.replace("\\'", "'").replace('"', '\\"')
    try:
        return str(json.loads(f'"{body}"'))
    except ValueError:
        return body


def _regex(raw: str) -> re.Pattern[str]:
    end = raw.rindex("/")
    body, flags = raw[1:end], raw[end + 1:]
    try:
        return re.compile(_NAMED_GROUP.sub(r"(?P<\1>", body), re.I if "i" in flags else 0)
    except re.error as error:
        raise malformed(f"invalid regular expression {raw}: {error}") from None


def _duration(raw: str) -> int:
    found = re.fullmatch(r"(\d+)([a-z]+)", raw.lower())
    assert found is not None
    return int(found.group(1)) * _UNITS[found.group(2)]
