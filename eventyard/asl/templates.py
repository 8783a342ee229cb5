"""Evaluating what a state says about its data: payload templates (`Parameters`, `ItemSelector`,
`ResultSelector`, JSONPath `Assign`), path references to input, context object and variables, and
JSONata `{% %}` templates. Pure functions of (template, input, context, variables).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from eventyard.asl import intrinsics, jsonata_eval, jsonpath
from eventyard.asl.errors import PathNotFound, StatesError

_VARIABLE = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)(.*)$", re.S)


class RawObject(dict[str, Any]):
    """A JSON object that keeps the text it was read from (an execution's input)."""

    raw: str


class RawArray(list[Any]):
    """A JSON array that keeps the text it was read from."""

    raw: str


def parse_keeping_text(text: str) -> Any:
    """Parse a client's JSON document, keeping its text: AWS prints a document that passes through
    states unchanged as it was sent (spacing included), inside arrays that states build too."""
    value = json.loads(text)
    kept: RawObject | RawArray
    if isinstance(value, dict):
        kept = RawObject(value)
    elif isinstance(value, list):
        kept = RawArray(value)
    else:
        return value
    kept.raw = text
    return kept


def to_json(value: Any) -> str:
    """JSON text as AWS prints it in histories and outputs (compact, unicode kept; a document that
    kept its text, alone or in arrays, as it was sent)."""
    raw = getattr(value, "raw", None)
    if raw is not None:
        return str(raw)
    if type(value) is list and any(type(item) in (list, RawObject, RawArray) for item in value):
        return "[" + ",".join(to_json(item) for item in value) + "]"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Scope:
    """What paths and expressions can see while a state runs."""

    input: Any
    context: dict[str, Any]
    variables: dict[str, Any]
    state_name: str = ""
    entered_event_id: int = 0

    def runtime_error(self, message: str) -> StatesError:
        return StatesError(
            "States.Runtime",
            f"An error occurred while executing the state '{self.state_name}' "
            f"(entered at the event id #{self.entered_event_id}). {message}",
        )

    def query_error(self, message: str, location: str | None = None) -> StatesError:
        return StatesError(
            "States.QueryEvaluationError",
            f"An error occurred while executing the state '{self.state_name}' "
            f"(entered at the event id #{self.entered_event_id}). {message}",
            location,
        )


def resolve_path(path: str, document: Any, scope: Scope) -> Any:
    """A reference used by JSONPath states: `$$.` context, `$name` variable or `$.` into `document`."""
    if path.startswith("$$"):
        return jsonpath.select(path[1:], scope.context)
    m = _VARIABLE.match(path)
    if m:
        name, rest = m.group(1), m.group(2)
        if name not in scope.variables:
            raise PathNotFound(path)
        return jsonpath.select("$" + rest, scope.variables[name])
    return jsonpath.select(path, document)


def select_field(path: str, document: Any, scope: Scope, field: str) -> Any:
    """InputPath/ItemsPath/...: a path that must select something, with AWS's message if not."""
    try:
        return resolve_path(path, document, scope)
    except PathNotFound:
        raise scope.runtime_error(
            f"Invalid path '{path}' : No results for path: {_bracketed(path)}") from None
    except jsonpath.PathSyntaxError:
        raise scope.runtime_error(f"Invalid path '{path}'") from None


def _bracketed(path: str) -> str:
    try:
        steps, _ = jsonpath.compile_path(path)
    except jsonpath.PathSyntaxError:
        return path
    out = "$"
    for step in steps:
        out += f"['{step.arg}']" if step.kind == "field" else f"[{step.arg}]" if step.kind == "index" else "[*]"
    return out


def evaluate_reference(text: str, document: Any, scope: Scope, field: str) -> Any:
    """The value of a `key.$` entry: an intrinsic function call or a path."""
    if intrinsics.is_intrinsic(text):
        try:
            return intrinsics.evaluate(text, lambda p: _resolve_for_intrinsic(p, document, scope, field))
        except intrinsics.IntrinsicSyntaxError:
            raise scope.runtime_error(f"Invalid intrinsic function '{text}'") from None
        except StatesError as err:
            if err.error == "States.Runtime" and err.cause and not err.cause.startswith("An error occurred"):
                raise scope.runtime_error(err.cause) from None
            raise
    try:
        return resolve_path(text, document, scope)
    except PathNotFound:
        raise scope.runtime_error(
            f"The JSONPath '{text}' specified for the field '{field}' could not be found in the input "
            f"'{to_json(document)}'") from None
    except jsonpath.PathSyntaxError:
        raise scope.runtime_error(f"The value for the field '{field}' must be a valid JSONPath") from None


def _resolve_for_intrinsic(path: str, document: Any, scope: Scope, field: str) -> Any:
    try:
        return resolve_path(path, document, scope)
    except PathNotFound:
        raise scope.runtime_error(
            f"The JSONPath '{path}' specified for the field '{field}' could not be found in the input "
            f"'{to_json(document)}'") from None


def payload(template: Any, document: Any, scope: Scope) -> Any:
    """Parameters/ItemSelector/ResultSelector: keys ending in `.$` take a path or intrinsic."""
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$") and isinstance(value, str):
                out[key[:-2]] = evaluate_reference(value, document, scope, key)
            else:
                out[key] = payload(value, document, scope)
        return out
    if isinstance(template, list):
        return [payload(item, document, scope) for item in template]
    return template


def jsonata_value(template: Any, scope: Scope, states: dict[str, Any], field: str,
                  allow_undefined: bool = False) -> Any:
    """A JSONata template: `{% %}` strings are evaluated, everything else is literal."""
    if isinstance(template, str) and jsonata_eval.is_expression(template):
        expression = jsonata_eval.expression_text(template)
        try:
            value = jsonata_eval.evaluate(expression, states, scope.variables)
        except jsonata_eval.UnsupportedResult:
            raise scope.query_error(
                f"The JSONata expression '{expression}' specified for the field '{field}' returned an unsupported "
                "result type.", field) from None
        except jsonata_eval.QueryError as err:
            raise scope.query_error(
                f"The JSONata expression '{expression}' specified for the field '{field}' threw an error "
                f"during evaluation. {err.detail}", field) from None
        if value is jsonata_eval.UNDEFINED:
            if allow_undefined:
                return value
            raise scope.query_error(
                f"The JSONata expression '{expression}' specified for the field '{field}' returned nothing "
                "(undefined).", field)
        return value
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            out[key] = jsonata_value(value, scope, states, f"{field}/{key}" if field else key)
        return out
    if isinstance(template, list):
        items = [jsonata_value(v, scope, states, f"{field}[{i}]", allow_undefined=True)
                 for i, v in enumerate(template)]
        return [v for v in items if v is not jsonata_eval.UNDEFINED]
    return template


def assign_jsonpath(template: dict[str, Any], document: Any, scope: Scope) -> dict[str, Any]:
    return payload(template, document, scope)


def assign_jsonata(template: dict[str, Any], scope: Scope, states: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in template.items():
        out[key] = jsonata_value(value, scope, states, f"Assign/{key}")
    return out
