"""JSONPath as Step Functions evaluates it (Jayway semantics): definite paths select one value,
indefinite ones (`[*]`, `..`, slices, unions, filters) select a list.

Also writes values at a definite path, which is what `ResultPath` does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from eventyard.asl.errors import PathNotFound

_MISSING = object()


@dataclass(frozen=True)
class Step:
    kind: str  # field | index | wildcard | recurse | slice | union | filter
    arg: Any = None


class PathSyntaxError(ValueError):
    pass


_cache: dict[str, tuple[list[Step], bool]] = {}


def compile_path(path: str) -> tuple[list[Step], bool]:
    """Return (steps, definite). Accepts `$`, `$.a.b`, `$['a']`, `$[0]`, `$[*]`, `$..a`, `$[1:2]`,
    `$[0,1]`, `$[?(@.a == 1)]`."""
    cached = _cache.get(path)
    if cached is not None:
        return cached
    if not path.startswith("$"):
        raise PathSyntaxError(path)
    steps: list[Step] = []
    i, n = 1, len(path)
    while i < n:
        c = path[i]
        if c == "." and path.startswith("..", i):
            i += 2
            if i < n and path[i] == "[":
                steps.append(Step("recurse"))
                continue
            m = re.compile(r"[^.\[]+").match(path, i)
            if not m:
                raise PathSyntaxError(path)
            steps.append(Step("recurse"))
            name = m.group(0)
            steps.append(Step("wildcard") if name == "*" else Step("field", name))
            i = m.end()
        elif c == ".":
            m = re.compile(r"[^.\[]+").match(path, i + 1)
            if not m:
                raise PathSyntaxError(path)
            name = m.group(0)
            steps.append(Step("wildcard") if name == "*" else Step("field", name))
            i = m.end()
        elif c == "[":
            end, step = _bracket(path, i)
            steps.append(step)
            i = end
        else:
            raise PathSyntaxError(path)
    definite = all(s.kind in ("field", "index") for s in steps)
    _cache[path] = (steps, definite)
    return steps, definite


def _bracket(path: str, i: int) -> tuple[int, Step]:
    j = i + 1
    if path.startswith("?(", j):
        depth, k = 0, j + 1
        while k < len(path):
            if path[k] == "(":
                depth += 1
            elif path[k] == ")":
                depth -= 1
                if depth == 0:
                    break
            k += 1
        expr = path[j + 2:k]
        if not path.startswith("]", k + 1):
            raise PathSyntaxError(path)
        return k + 2, Step("filter", expr)
    if path[j] in "'\"":
        names = []
        while True:
            quote = path[j]
            k = j + 1
            buf = []
            while k < len(path) and path[k] != quote:
                if path[k] == "\\" and path.startswith("'", k + 1) and quote == "'":
                    k += 1
                buf.append(path[k])
                k += 1
            names.append("".join(buf))
            k += 1
            while k < len(path) and path[k] == " ":
                k += 1
            if path.startswith("]", k):
                return k + 1, Step("field", names[0]) if len(names) == 1 else Step("union", names)
            if path.startswith(",", k):
                j = k + 1
                while path[j] == " ":
                    j += 1
                continue
            raise PathSyntaxError(path)
    k = path.find("]", j)
    if k < 0:
        raise PathSyntaxError(path)
    body = path[j:k].strip()
    if body == "*":
        return k + 1, Step("wildcard")
    if ":" in body:
        parts = [p.strip() for p in body.split(":")]
        try:
            vals = [int(p) if p else None for p in parts]
        except ValueError as exc:
            raise PathSyntaxError(path) from exc
        return k + 1, Step("slice", tuple((vals + [None, None, None])[:3]))
    if "," in body:
        try:
            return k + 1, Step("union", [int(p) for p in body.split(",")])
        except ValueError as exc:
            raise PathSyntaxError(path) from exc
    try:
        return k + 1, Step("index", int(body))
    except ValueError as exc:
        raise PathSyntaxError(path) from exc


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return list(value)
    return []


def _descendants(value: Any) -> list[Any]:
    out = [value]
    for child in _children(value):
        out.extend(_descendants(child))
    return out


def _apply(step: Step, value: Any, strict: bool) -> list[Any]:
    kind = step.kind
    if kind == "field":
        if isinstance(value, dict) and step.arg in value:
            return [value[step.arg]]
        return []
    if kind == "index":
        if isinstance(value, list):
            idx = step.arg
            if -len(value) <= idx < len(value):
                return [value[idx]]
        return []
    if kind == "wildcard":
        return _children(value)
    if kind == "recurse":
        return _descendants(value)
    if kind == "slice":
        if not isinstance(value, list):
            return []
        start, stop, stride = step.arg
        return value[slice(start, stop, stride)]
    if kind == "union":
        out = []
        for key in step.arg:
            if isinstance(key, int) and isinstance(value, list) and -len(value) <= key < len(value):
                out.append(value[key])
            elif isinstance(key, str) and isinstance(value, dict) and key in value:
                out.append(value[key])
        return out
    if kind == "filter":
        return [item for item in _children(value) if _filter_matches(step.arg, item)]
    raise AssertionError(kind)


_FILTER = re.compile(r"^\s*@((?:\.[A-Za-z0-9_\-]+|\[[^\]]*\])*)\s*(==|!=|<=|>=|<|>)?\s*(.*?)\s*$")


def _filter_matches(expr: str, item: Any) -> bool:
    m = _FILTER.match(expr)
    if not m:
        return False
    sub, op, literal = m.group(1), m.group(2), m.group(3)
    try:
        found = select("$" + sub, item)
    except (PathNotFound, PathSyntaxError):
        return False
    if op is None:
        return True
    try:
        other = json.loads(literal.replace("'", '"'))
    except ValueError:
        return False
    try:
        return {"==": found == other, "!=": found != other, "<": found < other, ">": found > other,
                "<=": found <= other, ">=": found >= other}[op]
    except TypeError:
        return False


def select(path: str, document: Any) -> Any:
    """Evaluate `path` against `document`; raise PathNotFound when a definite path selects nothing."""
    steps, definite = compile_path(path)
    if not steps:
        return document
    if definite:
        value = document
        for step in steps:
            found = _apply(step, value, True)
            if not found:
                raise PathNotFound(path)
            value = found[0]
        return value
    current = [document]
    for step in steps:
        nxt: list[Any] = []
        for value in current:
            nxt.extend(_apply(step, value, False))
        current = nxt
    return current


def is_definite(path: str) -> bool:
    return compile_path(path)[1]


def assign(document: Any, path: str, value: Any) -> Any:
    """Return a copy of `document` with `value` written at the definite `path` (ResultPath);
    missing objects along the way are created, as AWS does."""
    steps, _ = compile_path(path)
    if not steps:
        return value
    return _assign(document, steps, value)


def _assign(node: Any, steps: list[Step], value: Any) -> Any:
    step, rest = steps[0], steps[1:]
    if step.kind == "field":
        base = dict(node) if isinstance(node, dict) else {}
        base[step.arg] = value if not rest else _assign(base.get(step.arg), rest, value)
        return base
    if step.kind == "index":
        if not isinstance(node, list) or not -len(node) <= step.arg < len(node):
            raise PathNotFound("index")
        items = list(node)
        items[step.arg] = value if not rest else _assign(items[step.arg], rest, value)
        return items
    raise PathSyntaxError("ResultPath must be a definite path")
