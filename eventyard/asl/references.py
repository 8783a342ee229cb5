"""The variables each state reads (DescribeStateMachine's `variableReferences`): `$name` in the
state's paths, `.$` templates, intrinsic function arguments and Choice rules (JSONPath), and in its
`{% %}` expressions (JSONata). States nested in Map and Parallel states are listed by their names."""

from __future__ import annotations

import re
from typing import Any

from eventyard.asl import jsonata_eval

# `$name` that is a variable: not `$$` (the context), `$` alone or `$.`/`$[` (the input)
JSONPATH_VARIABLE = re.compile(r"(?<![\w$])\$([A-Za-z_][A-Za-z0-9_]*)")
QUOTED = re.compile(r"'(?:\\.|[^'\\])*'")
JSONATA_VARIABLE = re.compile(r"(?<![\w$])\$([A-Za-z_][A-Za-z0-9_]*)\s*(\()?")
JSONATA_BOUND = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\s*:=")
JSONATA_STRING = re.compile(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'")
PATH_FIELDS = ("InputPath", "OutputPath", "ItemsPath", "SecondsPath", "TimestampPath", "ErrorPath", "CausePath",
               "MaxConcurrencyPath", "ToleratedFailureCountPath", "ToleratedFailurePercentagePath",
               "TimeoutSecondsPath", "HeartbeatSecondsPath")
TEMPLATE_FIELDS = ("Parameters", "ResultSelector", "ItemSelector", "Assign", "Arguments", "Output")


def variable_references(definition: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, set[str]] = {}
    _machine(definition, str(definition.get("QueryLanguage", "JSONPath")), found)
    return {name: sorted(names) for name, names in found.items() if names}


def _machine(machine: dict[str, Any], language: str, found: dict[str, set[str]]) -> None:
    for name, state in (machine.get("States") or {}).items():
        if not isinstance(state, dict):
            continue
        lang = str(state.get("QueryLanguage", language))
        names = found.setdefault(name, set())
        _state(state, lang, names)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        for nested in [processor, *(state.get("Branches") or [])]:
            if isinstance(nested, dict):
                _machine(nested, str(nested.get("QueryLanguage", lang)), found)


def _state(state: dict[str, Any], language: str, names: set[str]) -> None:
    if language == "JSONata":
        _jsonata(state, names, skip=("ItemProcessor", "Iterator", "Branches", "Next", "Default", "Type"))
        return
    for field in PATH_FIELDS:
        if isinstance(state.get(field), str):
            names.update(_jsonpath(state[field]))
    reader = (state.get("ItemReader") or {}).get("ReaderConfig") or {}
    if isinstance(reader.get("MaxItemsPath"), str):
        names.update(_jsonpath(reader["MaxItemsPath"]))
    for field in TEMPLATE_FIELDS:
        if field in state:
            _template(state[field], names)
    for rule in state.get("Choices") or []:
        _rule(rule, names)


def _jsonpath(text: str) -> set[str]:
    return set(JSONPATH_VARIABLE.findall(QUOTED.sub("", text)))


def _template(value: Any, names: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith(".$") and isinstance(item, str):
                names.update(_jsonpath(item))
            else:
                _template(item, names)
    elif isinstance(value, list):
        for item in value:
            _template(item, names)


def _rule(rule: Any, names: set[str]) -> None:
    if not isinstance(rule, dict):
        return
    for key, value in rule.items():
        if key in ("And", "Or"):
            for inner in value or []:
                _rule(inner, names)
        elif key == "Not":
            _rule(value, names)
        elif key == "Assign":
            _template(value, names)
        elif (key == "Variable" or key.endswith("Path")) and isinstance(value, str):
            names.update(_jsonpath(value))


def _jsonata(value: Any, names: set[str], skip: tuple[str, ...] = ()) -> None:
    if isinstance(value, str) and jsonata_eval.is_expression(value):
        expression = JSONATA_STRING.sub("", jsonata_eval.expression_text(value))
        bound = set(JSONATA_BOUND.findall(expression))
        for name, call in JSONATA_VARIABLE.findall(expression):
            if not call and name != "states" and name not in bound:
                names.add(name)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in skip:
                _jsonata(item, names)
    elif isinstance(value, list):
        for item in value:
            _jsonata(item, names)
