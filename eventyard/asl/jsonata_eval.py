"""JSONata for states with `QueryLanguage: JSONata`: `{% expr %}` strings anywhere in a template,
evaluated with `$states` (input, result, errorOutput, context) and the execution's variables bound.

Built on the `jsonata-python` package, plus the functions Step Functions adds ($partition, $range,
$hash, $random, $uuid, $parse).
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from typing import Any

import jsonata

from eventyard.asl.errors import StatesError

UNDEFINED = object()


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}") and len(value) >= 4


def expression_text(value: str) -> str:
    return value[2:-2].strip()


class QueryError(Exception):
    """A JSONata evaluation failed; the caller names the state and field in the States error."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


_compiled: dict[str, Any] = {}


def _partition(array: Any, size: Any) -> list[Any]:
    if not isinstance(array, list):
        array = [array]
    n = int(size)
    return [array[i:i + n] for i in range(0, len(array), n)]


def _range(first: Any, last: Any, step: Any) -> Any:
    a, b, s = int(first), int(last), int(step)
    out = list(range(a, b + (1 if s > 0 else -1), s))
    return out[0] if len(out) == 1 else out  # a JSONata sequence of one is its item


def _hash(data: Any, algorithm: str) -> str:
    names = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return hashlib.new(names[algorithm], text.encode()).hexdigest()


def _random(seed: Any = None) -> float:
    return random.Random(seed).random() if seed is not None else random.random()


def _parse(text: str) -> Any:
    return json.loads(text)


def evaluate(expression: str, states: dict[str, Any], variables: dict[str, Any]) -> Any:
    """Evaluate one expression; returns UNDEFINED when JSONata yields nothing."""
    expr = _compiled.get(expression)
    if expr is None:
        try:
            # Wrapped in an object so `null` and "nothing" can be told apart.
            expr = jsonata.Jsonata('{"v": (' + expression + "\n)}")
        except Exception as exc:  # noqa: BLE001 - every parse error is a QueryEvaluationError
            raise QueryError(_describe(exc)) from exc
        expr.register_lambda("partition", _partition)
        expr.register_lambda("range", _range)
        expr.register_lambda("hash", _hash)
        expr.register_lambda("random", _random)
        expr.register_lambda("uuid", lambda: str(uuid.uuid4()))
        expr.register_lambda("parse", _parse)
        if len(_compiled) < 4096:
            _compiled[expression] = expr
    bindings = dict(variables)
    bindings["states"] = states
    try:
        out = expr.evaluate(None, bindings)
    except StatesError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise QueryError(_describe(exc)) from exc
    if not isinstance(out, dict) or "v" not in out:
        # jsonata-python reads a variable bound to null as "nothing"; a bare reference to one is null.
        name = expression.strip()
        if name.startswith("$") and name[1:] in variables and variables[name[1:]] is None:
            return None
        return UNDEFINED
    value = _normalise(out["v"])
    if not _is_json(value):
        raise UnsupportedResult()
    return value


class UnsupportedResult(Exception):
    """The expression produced something that is not JSON (a function)."""


def _is_json(value: Any) -> bool:
    if value is None or isinstance(value, (str, bool, int, float)):
        return True
    if isinstance(value, list):
        return all(_is_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False


def _describe(exc: Exception) -> str:
    code = getattr(exc, "error", None)
    message = str(exc)
    return f"{code}: {message}" if code else message


def _normalise(value: Any) -> Any:
    """JSONata functions are not JSON values; floats that are integers print as integers."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    return value
