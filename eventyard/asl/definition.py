"""Reading and checking a definition, with AWS's diagnostic codes (SCHEMA_VALIDATION_FAILED,
MISSING_TRANSITION_TARGET, ...). `diagnostics` feeds ValidateStateMachineDefinition; `parse`
raises InvalidDefinition with the message CreateStateMachine answers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from eventyard.asl import choice, intrinsics, jsonata_eval, jsonpath, optimized, timestamps
from eventyard.asl.errors import InvalidDefinition

STATE_TYPES = {"Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"}


@dataclass
class Diagnostic:
    code: str
    message: str
    location: str
    severity: str = "ERROR"

    def as_dict(self) -> dict[str, str]:
        out = {"severity": self.severity, "code": self.code, "message": self.message, "location": self.location}
        if not self.location:  # AWS: a definition that is no JSON object has no location
            out.pop("location")
        return out


# AWS: a Map's Label (part of its Map Run ARN) is 1..40 characters, none of these nor a control character.
LABEL_FORBIDDEN = set(' ?*<>{}[]:;,\\|^~$#%&`"') | {chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))}
LABEL_MAX = 40


def parse(text: str, express: bool = False) -> dict[str, Any]:
    diags, definition = check(text, express)
    if diags:
        first = diags[0]
        raise InvalidDefinition(f"Invalid State Machine Definition: '{first.code}: {first.message} at "
                                f"{first.location or '/'}'")
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


def check(text: str, express: bool = False) -> tuple[list[Diagnostic], dict[str, Any] | None]:
    """The diagnostics ValidateStateMachineDefinition answers (the first one is CreateStateMachine's
    error); `express`: checked for an EXPRESS state machine."""
    if not text.strip():
        return [Diagnostic("SCHEMA_VALIDATION_FAILED", "Definition must be a valid JSON object", "")], None
    try:
        definition = json.loads(text)
    except ValueError as exc:
        return [_json_error(text, exc)], None
    if not isinstance(definition, dict):
        return [Diagnostic("SCHEMA_VALIDATION_FAILED", "Definition must be a valid JSON object", "")], None
    diags: list[Diagnostic] = []
    language = definition.get("QueryLanguage", "JSONPath")
    if language not in ("JSONPath", "JSONata"):
        diags.append(Diagnostic("SCHEMA_VALIDATION_FAILED", f"The value \"{language}\" is not a valid query "
                                "language", "/QueryLanguage"))
    _Checker(str(language), express, diags).machine(definition, "", str(language))
    return diags, definition


def _json_error(text: str, exc: ValueError) -> Diagnostic:
    """AWS reads definitions with Jackson: a bare word is its 'Unrecognized token' error."""
    position = getattr(exc, "pos", 0)
    word = re.match(r"[A-Za-z0-9_$]+", text[position:])
    if word is None:
        return Diagnostic("INVALID_JSON_DESCRIPTION", str(exc), "/")
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + len(word.group()) + 1
    source = f"[Source: (String)\"{text}\"; line: {line}, column: {column}]"
    return Diagnostic("INVALID_JSON_DESCRIPTION", f"Unrecognized token '{word.group()}': was expecting (JSON String, "
                      f"Number, Array, Object or token 'null', 'true' or 'false')\n at {source}", source)


@dataclass
class _Checker:
    root_language: str  # the whole state machine's QueryLanguage
    express: bool
    diags: list[Diagnostic]

    def add(self, code: str, message: str, location: str) -> None:
        self.diags.append(Diagnostic(code, message, location))

    def machine(self, machine: dict[str, Any], where: str, language: str) -> None:
        states = machine.get("States")
        missing = [f for f, ok in (("States", isinstance(states, dict) and bool(states)), ("StartAt", "StartAt" in machine))
                   if not ok]
        if missing:
            self.add("SCHEMA_VALIDATION_FAILED", f"These fields are required: [{', '.join(missing)}]", where or "/")
        if not isinstance(states, dict) or not states:
            return
        start = machine.get("StartAt")
        if start is not None and start not in states:
            self.add("MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {start}", f"{where}/StartAt")
        for name, state in states.items():
            self.state(state, states, f"{where}/States/{name}", language)

    def state(self, state: Any, states: dict[str, Any], at: str, language: str) -> None:
        if not isinstance(state, dict):
            self.add("SCHEMA_VALIDATION_FAILED", "Expected an object", at)
            return
        kind = state.get("Type")
        if kind not in STATE_TYPES:
            self.add("SCHEMA_VALIDATION_FAILED", "The field 'Type' should have one of these values: "
                     "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]"
                     if kind else "These fields are required: [Type]", f"{at}/Type" if kind else at)
            return
        lang = str(state.get("QueryLanguage", language))
        if self.root_language == "JSONata" and state.get("QueryLanguage") == "JSONPath":
            self.add("SCHEMA_VALIDATION_FAILED",
                     "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine", at)
        _check_transitions(state, kind, states, at, self.diags)
        _check_paths(state, at, self.diags, lang)
        if kind == "Parallel":
            if state.get("Branches") == []:
                self.add("SCHEMA_VALIDATION_FAILED", "Value cannot be empty", f"{at}/Branches")
            for i, branch in enumerate(state.get("Branches", [])):
                self.machine(branch, f"{at}/Branches[{i}]", str(branch.get("QueryLanguage", lang)))
        if kind == "Map":
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if isinstance(processor, dict):
                self.machine(processor, f"{at}/ItemProcessor", str(processor.get("QueryLanguage", lang)))
        if kind == "Task":
            self.task(state, at)
        if kind == "Wait" and isinstance(state.get("Timestamp"), str):
            stamp = state["Timestamp"]
            if not (lang == "JSONata" and jsonata_eval.is_expression(stamp)) and timestamps.parse(stamp) is None:
                self.add("SCHEMA_VALIDATION_FAILED", "String does not match RFC3339 timestamp", f"{at}/Timestamp")
        if kind == "Choice":
            for i, rule in enumerate(state.get("Choices", [])):
                if lang == "JSONPath" and not _valid_rule(rule, top=True):
                    self.add("SCHEMA_VALIDATION_FAILED", "Invalid choice rule", f"{at}/Choices[{i}]")

    def task(self, state: dict[str, Any], at: str) -> None:
        resource = state.get("Resource")
        if resource is None:
            self.add("SCHEMA_VALIDATION_FAILED", "These fields are required: [Resource]", at)
            return
        credentials = state.get("Credentials")
        if isinstance(credentials, dict) and "RoleArn" not in credentials and "RoleArn.$" not in credentials:
            self.add("SCHEMA_VALIDATION_FAILED", "The field 'RoleArn' is required but was missing",
                     f"{at}/Credentials")
        if isinstance(resource, str) and optimized.unrecognized(resource):
            self.add("SCHEMA_VALIDATION_FAILED", f"The resource provided {resource} is not recognized. The value is "
                     "not a valid resource ARN, or the resource is not available in this region.", f"{at}/Resource")
        if not self.express or not isinstance(resource, str):
            return
        # AWS: EXPRESS state machines run no callbacks, no .sync jobs and no activities
        if resource.endswith(".waitForTaskToken"):
            self.add("SCHEMA_VALIDATION_FAILED",
                     "Express state machine does not support '.waitForTaskToken' service integration ", f"{at}/Resource")
        elif resource.endswith(".sync") or ".sync:" in resource:
            self.add("SCHEMA_VALIDATION_FAILED", "Express state machine does not support '.sync' service integration",
                     f"{at}/Resource")
        elif resource.split(":")[5:6] == ["activity"]:
            self.add("SCHEMA_VALIDATION_FAILED", "Express state machine does not support Activity ARN", f"{at}/Resource")


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
