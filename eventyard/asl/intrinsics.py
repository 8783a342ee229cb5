"""The `States.*` intrinsic functions: a tiny parser for the call syntax and one function each.

Arguments are string literals ('...' with `\\'`, `\\{`, `\\}` escapes), numbers, booleans, null,
JSONPaths into the input (`$.x`), the context object (`$$.x`), variables (`$x`) and nested calls.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import uuid
from collections.abc import Callable
from typing import Any

from eventyard.asl.errors import StatesError

Resolver = Callable[[str], Any]  # path text ($..., $$..., $var...) -> value


class IntrinsicSyntaxError(ValueError):
    pass


def is_intrinsic(text: Any) -> bool:
    return isinstance(text, str) and text.startswith("States.") and "(" in text


def evaluate(text: str, resolve: Resolver) -> Any:
    parser = _Parser(text)
    node = parser.call()
    parser.skip_ws()
    if parser.pos != len(text):
        raise IntrinsicSyntaxError(text)
    return _eval(node, resolve)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\n":
            self.pos += 1

    def call(self) -> tuple[str, Any]:
        self.skip_ws()
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] in "._"):
            self.pos += 1
        name = self.text[start:self.pos]
        if not name.startswith("States.") or not self.text.startswith("(", self.pos):
            raise IntrinsicSyntaxError(self.text)
        self.pos += 1
        args: list[Any] = []
        self.skip_ws()
        if self.text.startswith(")", self.pos):
            self.pos += 1
            return ("call", (name, args))
        while True:
            args.append(self.argument())
            self.skip_ws()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith(")", self.pos):
                self.pos += 1
                return ("call", (name, args))
            raise IntrinsicSyntaxError(self.text)

    def argument(self) -> tuple[str, Any]:
        self.skip_ws()
        text, pos = self.text, self.pos
        if pos >= len(text):
            raise IntrinsicSyntaxError(text)
        c = text[pos]
        if c == "'":
            buf, k = [], pos + 1
            while k < len(text) and text[k] != "'":
                if text[k] == "\\" and k + 1 < len(text):
                    nxt = text[k + 1]
                    if nxt in "'\\":
                        buf.append(nxt)
                        k += 2
                        continue
                    if nxt in "{}":  # kept escaped so States.Format can tell literal braces apart
                        buf.append("\\" + nxt)
                        k += 2
                        continue
                buf.append(text[k])
                k += 1
            if k >= len(text):
                raise IntrinsicSyntaxError(text)
            self.pos = k + 1
            return ("str", "".join(buf))
        if c == "$":
            depth, k = 0, pos
            while k < len(text):
                ch = text[k]
                if ch in "[(":
                    depth += 1
                elif ch in "])":
                    if depth == 0:
                        break
                    depth -= 1
                elif ch == "," and depth == 0:
                    break
                elif ch == "'":  # quoted bracket names
                    k = text.index("'", k + 1)
                k += 1
            self.pos = k
            return ("path", text[pos:k].strip())
        if text.startswith("States.", pos):
            return self.call()
        k = pos
        while k < len(text) and text[k] not in ",)":
            k += 1
        token = text[pos:k].strip()
        self.pos = k
        if token in ("true", "false", "null"):
            return ("lit", {"true": True, "false": False, "null": None}[token])
        try:
            return ("lit", int(token))
        except ValueError:
            try:
                return ("lit", float(token))
            except ValueError as exc:
                raise IntrinsicSyntaxError(text) from exc


def _unescape(text: str) -> str:
    return text.replace("\\{", "{").replace("\\}", "}")


def _eval(node: tuple[str, Any], resolve: Resolver) -> Any:
    kind, value = node
    if kind == "str":
        return _unescape(value)
    if kind == "lit":
        return value
    if kind == "path":
        return resolve(value)
    name, args = value
    fn = FUNCTIONS.get(name)
    if fn is None:
        raise StatesError("States.Runtime", f"The intrinsic function '{name}' is not supported.")
    if name == "States.Format":
        if not args:
            raise _fail("States.Format needs a template")
        template = args[0][1] if args[0][0] == "str" else _eval(args[0], resolve)
        if not isinstance(template, str):
            raise _fail("The first argument of States.Format must be a string")
        return _format(template, [_eval(a, resolve) for a in args[1:]])
    return fn(*[_eval(a, resolve) for a in args])


def _fail(message: str) -> StatesError:
    return StatesError("States.Runtime", message)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _java_text(value: Any) -> str:
    """How States.Format prints a non-string argument: Java's toString of the parsed value."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_java_text(v) for v in value) + "]"
    return json.dumps(value)


def _format(template: str, values: list[Any]) -> str:
    out, i, used = [], 0, 0
    while i < len(template):
        if template.startswith("\\{", i) or template.startswith("\\}", i):
            out.append(template[i + 1])
            i += 2
        elif template.startswith("{}", i):
            if used >= len(values):
                raise _fail("The number of arguments does not match the number of placeholders in States.Format")
            out.append(_java_text(values[used]))
            used += 1
            i += 2
        else:
            out.append(template[i])
            i += 1
    if used != len(values):
        raise _fail("The number of arguments does not match the number of placeholders in States.Format")
    return "".join(out)


def _int(value: Any, fn: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(f"The function {fn} needs integer arguments")
    return int(value)


def _array_partition(array: list[Any], size: Any) -> list[list[Any]]:
    n = _int(size, "States.ArrayPartition")
    if n <= 0:
        raise _fail("States.ArrayPartition: the chunk size must be greater than 0")
    return [array[i:i + n] for i in range(0, len(array), n)]


def _array_range(first: Any, last: Any, step: Any) -> list[int]:
    a, b, s = _int(first, "States.ArrayRange"), _int(last, "States.ArrayRange"), _int(step, "States.ArrayRange")
    if s == 0:
        raise _fail("States.ArrayRange: step cannot be 0")
    out = list(range(a, b + (1 if s > 0 else -1), s))
    if len(out) > 1000:
        raise _fail("States.ArrayRange: the result exceeds 1000 elements")
    return out


def _array_get_item(array: Any, index: Any) -> Any:
    i = _int(index, "States.ArrayGetItem")
    if not isinstance(array, list) or not 0 <= i < len(array):
        raise _fail(f"States.ArrayGetItem: index {i} out of bounds")
    return array[i]


def _array_unique(array: list[Any]) -> list[Any]:
    out: list[Any] = []
    seen: set[str] = set()
    for item in array:
        key = json.dumps(item, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _hash(data: Any, algorithm: str) -> str:
    names = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
    if algorithm not in names:
        raise _fail(f"States.Hash: unsupported hashing algorithm '{algorithm}'")
    return hashlib.new(names[algorithm], _as_text(data).encode()).hexdigest()


def _json_merge(a: Any, b: Any, deep: Any) -> dict[str, Any]:
    if deep is not False:
        raise _fail("States.JsonMerge: deep merging is not supported, the third argument must be false")
    if not isinstance(a, dict) or not isinstance(b, dict):
        raise _fail("States.JsonMerge: both arguments must be JSON objects")
    return {**a, **b}


def _math_random(start: Any, end: Any, seed: Any = None) -> int:
    lo, hi = _int(start, "States.MathRandom"), _int(end, "States.MathRandom")
    rng = random.Random(_int(seed, "States.MathRandom")) if seed is not None else random
    return rng.randint(lo, hi) if hi >= lo else lo


def _round(value: Any, fn: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(f"The function {fn} needs numeric arguments")
    return math.floor(value + 0.5)  # Java's Math.round: half up


def _math_add(a: Any, b: Any) -> int:
    return _round(a, "States.MathAdd") + _round(b, "States.MathAdd")


def _string_split(text: Any, delimiter: Any) -> list[str]:
    if not isinstance(text, str) or not isinstance(delimiter, str):
        raise _fail("States.StringSplit needs string arguments")
    parts: list[str] = []
    buf: list[str] = []
    for ch in text:  # every character of the delimiter splits, empty pieces dropped (StringTokenizer)
        if ch in delimiter:
            if buf:
                parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if buf:
        parts.append("".join(buf))
    return parts


def _string_to_json(text: Any) -> Any:
    if not isinstance(text, str):
        raise _fail("States.StringToJson needs a string")
    try:
        return json.loads(text) if text.strip() else None
    except ValueError as exc:
        raise _fail(f"States.StringToJson: invalid JSON '{text}'") from exc


def _base64_decode(text: Any) -> str:
    try:
        return base64.b64decode(str(text), validate=True).decode()
    except Exception as exc:  # noqa: BLE001 - any decoding problem is the same runtime error
        raise _fail("States.Base64Decode: invalid base64 input") from exc


def _number(value: float) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() and math.isfinite(value) else value


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "States.Format": _format,
    "States.StringToJson": _string_to_json,
    "States.JsonToString": lambda value: _as_text(value) if not isinstance(value, str) else json.dumps(value),
    "States.Array": lambda *items: list(items),
    "States.ArrayPartition": _array_partition,
    "States.ArrayContains": lambda array, value: value in array,
    "States.ArrayRange": _array_range,
    "States.ArrayGetItem": _array_get_item,
    "States.ArrayLength": lambda array: len(array),
    "States.ArrayUnique": _array_unique,
    "States.Base64Encode": lambda text: base64.b64encode(str(text).encode()).decode(),
    "States.Base64Decode": _base64_decode,
    "States.Hash": _hash,
    "States.JsonMerge": _json_merge,
    "States.MathRandom": _math_random,
    "States.MathAdd": _math_add,
    "States.StringSplit": _string_split,
    "States.UUID": lambda: str(uuid.uuid4()),
}
