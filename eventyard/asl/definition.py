"""Reading and checking a definition, with AWS's diagnostic codes (SCHEMA_VALIDATION_FAILED,
MISSING_TRANSITION_TARGET, ...). `diagnostics` feeds ValidateStateMachineDefinition; `parse`
raises InvalidDefinition with the message CreateStateMachine answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eventyard.asl import choice, intrinsics, jsonpath
from eventyard.asl.errors import InvalidDefinition

STATE_TYPES = {"Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"}


@dataclass
class Diagnostic:
    code: str
    message: str
    location: str
    severity: str = "ERROR"

    def as_dict(self) -> dict[str, str]:
        return {"severity": self.severity, "code": self.code, "message": self.message, "location": self.location}


# AWS: a Map's Label (part of its Map Run ARN) is 1..40 characters, none of these nor a control character.
LABEL_FORBIDDEN = set(' ?*<>{}[]:;,\\|^~$#%&`"') | {chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))}
LABEL_MAX = 40


def parse(text: str) -> dict[str, Any]:
    diags, definition = check(text)
    if diags:
        first = diags[0]
        raise InvalidDefinition(f"Invalid State Machine Definition: '{first.code}: {first.message} at {first.location}'")
    assert definition is not None
    problem = _label_problem(definition.get("States"))
    if problem is not None:  # AWS words this one as its parser's ValueError, with the definition sent
        raise InvalidDefinition(f"Error=ValueError Args={[problem]!r} in definition '{text}'.")
    return definition


def _label_problem(states: Any) -> str | None:
    """The first Map state Label AWS refuses (Maps nested in Parallel branches and Maps included)."""
    for state in (states or {}).values() if isinstance(states, dict) else ():
        if not isinstance(state, dict):
            continue
        label = state.get("Label") if state.get("Type") == "Map" else None
        if isinstance(label, str):
            if not label:
                return "Label cannot be empty"
            if len(label) > LABEL_MAX:
                return f"Label cannot exceed {LABEL_MAX} characters"
            bad = next((c for c in label if c in LABEL_FORBIDDEN), None)
            if bad is not None:
                return f"Label contains invalid character: {bad!r}"
        nested = [state.get("ItemProcessor") or state.get("Iterator"), *(state.get("Branches") or [])]
        for machine in nested:
            problem = _label_problem(machine.get("States")) if isinstance(machine, dict) else None
            if problem is not None:
                return problem
    return None


def check(text: str) -> tuple[list[Diagnostic], dict[str, Any] | None]:
    try:
        definition = json.loads(text)
    except ValueError as exc:
        return [Diagnostic("INVALID_JSON_DESCRIPTION", f"{exc}", "/")], None
    if not isinstance(definition, dict):
        return [Diagnostic("SCHEMA_VALIDATION_FAILED", "Expected an object", "/")], None
    diags: list[Diagnostic] = []
    language = definition.get("QueryLanguage", "JSONPath")
    if language not in ("JSONPath", "JSONata"):
        diags.append(Diagnostic("SCHEMA_VALIDATION_FAILED", f"The value \"{language}\" is not a valid query "
                                "language", "/QueryLanguage"))
    _check_machine(definition, "", diags, str(language))
    return diags, definition


def _check_machine(machine: dict[str, Any], where: str, diags: list[Diagnostic], language: str) -> None:
    states = machine.get("States")
    if "StartAt" not in machine:
        diags.append(Diagnostic("SCHEMA_VALIDATION_FAILED", "These fields are required: [StartAt]", where or "/"))
    if not isinstance(states, dict) or not states:
        diags.append(Diagnostic("SCHEMA_VALIDATION_FAILED", "These fields are required: [States]", where or "/"))
        return
    start = machine.get("StartAt")
    if start is not None and start not in states:
        diags.append(Diagnostic("MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {start}",
                                f"{where}/StartAt"))
    for name, state in states.items():
        at = f"{where}/States/{name}"
        if not isinstance(state, dict):
            diags.append(Diagnostic("SCHEMA_VALIDATION_FAILED", "Expected an object", at))
            continue
        kind = state.get("Type")
        if kind not in STATE_TYPES:
            diags.append(Diagnostic("SCHEMA_VALIDATION_FAILED", f"The value for the field 'Type' must be one of "
                                    f"{sorted(STATE_TYPES)}" if kind else "These fields are required: [Type]",
                                    f"{at}/Type" if kind else at))
            continue
        lang = state.get("QueryLanguage", language)
        if language == "JSONata" and lang == "JSONPath":
            diags.append(Diagnostic("SCHEMA_VALIDATION_FAILED", "'JSONPath' query language cannot be used in a "
                                    "state when the state machine uses 'JSONata'", f"{at}/QueryLanguage"))
        _check_transitions(state, kind, states, at, diags)
        _check_paths(state, at, diags, lang)
        if kind == "Parallel":
            for i, branch in enumerate(state.get("Branches", [])):
                _check_machine(branch, f"{at}/Branches[{i}]", diags, str(branch.get("QueryLanguage", lang)))
        if kind == "Map":
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if isinstance(processor, dict):
                _check_machine(processor, f"{at}/ItemProcessor", diags, str(processor.get("QueryLanguage", lang)))
        if kind == "Task" and "Resource" not in state:
            diags.append(Diagnostic("SCHEMA_VALIDATION_FAILED", "These fields are required: [Resource]", at))
        if kind == "Choice":
            for i, rule in enumerate(state.get("Choices", [])):
                if lang == "JSONPath" and not _valid_rule(rule, top=True):
                    diags.append(Diagnostic("SCHEMA_VALIDATION_FAILED", "Invalid choice rule",
                                            f"{at}/Choices[{i}]"))


def _valid_rule(rule: Any, top: bool = False) -> bool:
    if not isinstance(rule, dict):
        return False
    for key in ("And", "Or"):
        if key in rule:
            return isinstance(rule[key], list) and all(_valid_rule(r) for r in rule[key])
    if "Not" in rule:
        return _valid_rule(rule["Not"])
    return choice.operator_of(rule) is not None and "Variable" in rule


def _check_transitions(state: dict[str, Any], kind: str, states: dict[str, Any], at: str,
                       diags: list[Diagnostic]) -> None:
    targets = []
    if "Next" in state:
        targets.append((state["Next"], f"{at}/Next"))
    if kind == "Choice":
        for i, rule in enumerate(state.get("Choices", [])):
            if isinstance(rule, dict) and "Next" in rule:
                targets.append((rule["Next"], f"{at}/Choices[{i}]/Next"))
        if "Default" in state:
            targets.append((state["Default"], f"{at}/Default"))
    for i, catcher in enumerate(state.get("Catch", []) or []):
        if isinstance(catcher, dict) and "Next" in catcher:
            targets.append((catcher["Next"], f"{at}/Catch[{i}]/Next"))
    for target, where in targets:
        if target not in states:
            diags.append(Diagnostic("MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {target}", where))
    if kind not in ("Choice", "Succeed", "Fail") and "Next" not in state and not state.get("End"):
        diags.append(Diagnostic("SCHEMA_VALIDATION_FAILED", "No transition found in state", at))


def _check_paths(state: dict[str, Any], at: str, diags: list[Diagnostic], language: str) -> None:
    if language == "JSONata":
        for key in ("InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "ItemsPath"):
            if key in state:
                diags.append(Diagnostic("SCHEMA_VALIDATION_FAILED", f"The field '{key}' is not supported by "
                                        "JSONata query language", f"{at}/{key}"))
        return
    for key in ("InputPath", "OutputPath", "ResultPath", "ItemsPath"):
        value = state.get(key)
        if isinstance(value, str) and not value.startswith("$$") and not _is_var(value):
            try:
                jsonpath.compile_path(value)
            except jsonpath.PathSyntaxError:
                diags.append(Diagnostic("SCHEMA_VALIDATION_FAILED", f"The value for the field '{key}' must be a "
                                        "valid JSONPath", f"{at}/{key}"))
    for key in ("Parameters", "ResultSelector", "ItemSelector", "Assign"):
        if key in state:
            _check_template(state[key], f"{at}/{key}", diags)


def _is_var(value: str) -> bool:
    return len(value) > 1 and value[0] == "$" and (value[1].isalpha() or value[1] == "_")


def _check_template(template: Any, at: str, diags: list[Diagnostic]) -> None:
    if isinstance(template, dict):
        for key, value in template.items():
            if key.endswith(".$"):
                if not isinstance(value, str) or not (value.startswith("$") or intrinsics.is_intrinsic(value)):
                    diags.append(Diagnostic("SCHEMA_VALIDATION_FAILED", f"The value for the field '{key}' must be "
                                            "a valid JSONPath or a valid intrinsic function call", f"{at}/{key}"))
            else:
                _check_template(value, f"{at}/{key}", diags)
    elif isinstance(template, list):
        for i, item in enumerate(template):
            _check_template(item, f"{at}[{i}]", diags)
