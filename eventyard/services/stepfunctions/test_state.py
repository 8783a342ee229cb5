"""TestState: run one state of a definition (a lone state, or `stateName` in a whole state machine)
on an input, as AWS does: with a mocked result or error, given variables and context, a retry count
(RETRIABLE instead of a back-off), and the state's data stage by stage at DEBUG and TRACE."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventyard.asl import definition as asl_definition
from eventyard.asl import timestamps
from eventyard.asl.errors import InvalidDefinition, StatesError
from eventyard.asl.history import History, Lane
from eventyard.asl.interpreter import Interpreter
from eventyard.asl.model import Frame, Retriable
from eventyard.asl.templates import to_json
from eventyard.protocol.errors import AwsError
from eventyard.services.base import RequestContext
from eventyard.services.stepfunctions.core import ProviderCore, input_error
from eventyard.services.stepfunctions.host import ServiceHost
from eventyard.services.stepfunctions.mock_validation import check_mock_result

WITHOUT_MOCK = {"Pass", "Fail", "Succeed"}  # AWS refuses a mock for these
TEST_STATE = "StateName"  # AWS: the name a lone state runs under (its messages and context say it)


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidDefinition", message)


def _json(text: str, error: AwsError) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise error from None


@dataclass
class TestedState:
    name: str
    state: dict[str, Any]
    machine: dict[str, Any]  # what the interpreter runs: the state, and Succeed states it may go to


def tested_state(params: dict[str, Any]) -> TestedState:
    """The state under test, from a lone state definition or `stateName` in a state machine."""
    parsed = _json(params["definition"], _invalid("Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION'"))
    if not isinstance(parsed, dict):  # "-1", "null", "NaN": JSON, but not a state
        raise _invalid("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Expected an object at /'")
    if params.get("stateName"):
        try:
            asl_definition.parse(params["definition"])
        except InvalidDefinition as err:
            raise _invalid(err.message) from None
        state = _find_state(parsed, params["stateName"])
        if state is None:
            raise AwsError("ValidationException", "State not found in definition")
        name = params["stateName"]
    else:
        name, state = TEST_STATE, parsed
    machine: dict[str, Any] = {"StartAt": name, "States": {name: dict(state)}}
    if "QueryLanguage" in parsed and params.get("stateName"):
        machine["QueryLanguage"] = parsed["QueryLanguage"]
    if state.get("Type") not in ("Choice", "Fail", "Succeed") and "Next" not in state and not state.get("End"):
        machine["States"][name]["End"] = True
    targets = [state.get("Next"), state.get("Default"),
               *[rule.get("Next") for rule in state.get("Choices", []) + state.get("Catch", []) if isinstance(rule, dict)]]
    for target in targets:
        if target is not None and target != name:
            machine["States"][target] = {"Type": "Succeed"}
    try:
        asl_definition.parse(json.dumps(machine))
    except InvalidDefinition as err:
        raise _invalid(err.message) from None
    return TestedState(name, state, machine)


def _find_state(machine: Any, name: str) -> dict[str, Any] | None:
    """A state by name, at the top level or inside a Map's processor or a Parallel's branches."""
    states = machine.get("States") if isinstance(machine, dict) else None
    if not isinstance(states, dict):
        return None
    if isinstance(states.get(name), dict):
        return dict(states[name])
    for state in states.values():
        if not isinstance(state, dict):
            continue
        inner = [state.get("ItemProcessor"), state.get("Iterator"), *(state.get("Branches") or [])]
        for machine_inside in inner:
            found = _find_state(machine_inside, name)
            if found is not None:
                return found
    return None


def mock_of(params: dict[str, Any], state: dict[str, Any]) -> tuple[str, Any] | None:
    """The mocked outcome, checked as AWS checks it."""
    mock = params.get("mock")
    kind = state.get("Type")
    failures = (params.get("stateConfiguration") or {}).get("mapIterationFailureCount")
    if not mock:
        if failures is not None:
            raise AwsError("ValidationException",
                           "TestState does not support MapIterationFailureCount when a mock is not specified.")
        if kind in ("Map", "Parallel"):
            raise _invalid("TestState API does not support Map or Parallel states. Supported state types include: "
                           "[Task, Wait, Pass, Succeed, Fail, Choice]")
        if kind == "Task" and not params.get("roleArn"):  # only a mock lets a Task be tested without a role
            raise AwsError("ValidationException", "RoleArn must be specified when testing a Task state")
        return None
    if kind in WITHOUT_MOCK:
        raise AwsError("ValidationException", f"State type '{kind}' is not supported when a mock is specified")
    if "result" in mock and "errorOutput" in mock:
        raise AwsError("ValidationException",
                       "A test mock should have only one of the following fields: [result, errorOutput].")
    if params.get("revealSecrets"):
        raise AwsError("ValidationException", "TestState does not support RevealSecrets when a mock is specified.")
    if "errorOutput" in mock:
        error = mock["errorOutput"]
        return "error", (error.get("error"), error.get("cause"))
    result = _json(mock.get("result", ""), AwsError("ValidationException", "Mocked result must be valid JSON"))
    if kind == "Parallel":
        if not isinstance(result, list):
            raise AwsError("ValidationException", "Mocked result must be an array.")
        if len(result) != len(state.get("Branches") or []):
            raise AwsError("ValidationException", "Mocked result must contain the same number of items as number "
                                                  "of Parallel branches.")
    if kind == "Map":
        _check_map_mock(state, result, failures)
    if kind == "Task":
        check_mock_result(state.get("Resource"), result, mock.get("fieldValidationMode") or "STRICT")
    return "result", result


def _check_map_mock(state: dict[str, Any], result: Any, failures: int | None) -> None:
    """A Map's mocked result: its iterations' results, or the ResultWriter's object."""
    if "ResultWriter" in state:
        if not isinstance(result, dict):
            raise AwsError("ValidationException", "Mocked result must be a JSON object.")
    elif not isinstance(result, list):
        raise AwsError("ValidationException", "Mocked result must be an array.")
    if isinstance(result, list) and failures is not None and failures > len(result):
        raise AwsError("ValidationException",
                       "Map iteration failure count must be less than or equal to the number of Map iterations")


def _context(ctx: RequestContext, value: Any, now: float, role_arn: str | None) -> tuple[dict[str, Any],
                                                                                        dict[str, Any]]:
    """The context object's Execution and StateMachine: AWS runs the test as an EXPRESS execution of
    a state machine of its own."""
    machine, execution = str(uuid.uuid4()), str(uuid.uuid4())
    prefix = f"arn:aws:states:{ctx.region}:{ctx.account_id}"
    executed = {"Id": f"{prefix}:express:{machine}:{execution}", "Input": value, "Name": execution,
                "RoleArn": role_arn, "StartTime": timestamps.format_epoch(now)}
    return executed, {"Id": f"{prefix}:stateMachine:{machine}", "Name": machine}


# What a given context object may hold (AWS: anything else "is not allowed"), and each field's type
CONTEXT_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "Execution": {"Id": (str,), "Input": (object,), "Name": (str,), "RoleArn": (str,), "StartTime": (str,),
                  "RedriveCount": (int,)},
    "State": {"EnteredTime": (str,), "Name": (str,), "RetryCount": (int,)},
    "StateMachine": {"Id": (str,), "Name": (str,)},
    "Task": {"Token": (str,)}}
TYPE_NAMES = {str: "a string", int: "a number"}
WAITING_PATTERN = re.compile(r"\.(sync(:2)?|waitForTaskToken)$")


def given_context(text: str | None, state: dict[str, Any]) -> dict[str, Any] | None:
    """The `context` a test gives, checked as AWS checks it; it stands for the whole context object."""
    if not text:
        return None
    given = _json(text, AwsError("ValidationException", "Context must be valid JSON"))
    if not isinstance(given, dict):
        raise _context_error("The context object must be a JSON object")
    for key, part in given.items():
        if key == "Map":
            raise _context_error("'Map' field is not supported when mocking a Context object")
        allowed = CONTEXT_FIELDS.get(key)
        if allowed is None:
            raise _context_error(f"Field '{key}' is not allowed")
        if not isinstance(part, dict):
            raise _context_error(f"{key} must be an object")
        for field, value in part.items():
            if field not in allowed:
                raise _context_error(f"Field '{field}' is not allowed")
            kinds = allowed[field]
            if object not in kinds and (isinstance(value, bool) or not isinstance(value, kinds)):
                raise _context_error(f"{key}.{field} must be {TYPE_NAMES[kinds[0]]}")
    if "Task" in given and not _waits_for_task(state):
        raise _context_error("Context object contains 'Task' when state is not a Task state with a '.sync' or "
                             "'.waitForTaskToken' service integration pattern")
    return given


def _waits_for_task(state: dict[str, Any]) -> bool:
    """A Task state whose integration pattern gives its context a task token."""
    resource = state.get("Resource")
    return state.get("Type") == "Task" and isinstance(resource, str) and WAITING_PATTERN.search(resource) is not None


def _context_error(message: str) -> AwsError:
    return AwsError("ValidationException", f"Invalid Context object provided: {message}")


class TestStateOperations(ProviderCore):
    """TestState."""

    async def test_state(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tested = tested_state(params)
        mock = mock_of(params, tested.state)
        input_text = params.get("input") or "{}"
        value = _json(input_text, input_error(input_text))
        variables = _json(params["variables"], AwsError("ValidationException", "Variables must be valid JSON")) \
            if params.get("variables") else {}
        history = History(self.platform.clock.now)
        host = ServiceHost(self.runner, ctx.region, ctx.account_id, "test-state")
        given = given_context(params.get("context"), tested.state)
        execution, state_machine = _context(ctx, value, self.now(), params.get("roleArn"))
        token = ((given or {}).get("Task") or {}).get("Token")
        interp = Interpreter(tested.machine, execution, state_machine, host, history, region=ctx.region,
                             context_override=given, token_factory=(lambda: token) if token else None,
                             context_state_name=TEST_STATE,
                             inspected=tested.name, retrier_count=(params.get("stateConfiguration") or {}).get(
                                 "retrierRetryCount", 0),
                             mocks={tested.name: mock} if mock is not None else {},
                             map_iteration_failures=(params.get("stateConfiguration") or {}).get(
                                 "mapIterationFailureCount") or 0)
        frame = Frame(tested.machine["States"], tested.machine.get("QueryLanguage", "JSONPath"), dict(variables),
                      Lane(), top=True)
        render = _spaced_json if tested.state.get("Type") in ("Map", "Parallel") else to_json
        out = await self._run(interp, frame, tested, value, render)
        if variables:  # AWS shows the variables the test was given with the inspected data
            interp.inspection.setdefault("variables", variables)
        if params.get("inspectionLevel") in ("DEBUG", "TRACE") and interp.inspection:
            out["inspectionData"] = {k: v if k in ("errorDetails", "maxConcurrency", "toleratedFailureCount",
                                                   "toleratedFailurePercentage") else render(v)
                                     for k, v in interp.inspection.items()}
        return out

    async def _run(self, interp: Interpreter, frame: Frame, tested: TestedState, value: Any,
                   render: Callable[[Any], str]) -> dict[str, Any]:
        try:
            nxt, output = await interp.run_state(frame, tested.name, tested.machine["States"][tested.name], value)
        except Retriable as retriable:
            return _failed("RETRIABLE", retriable.error)
        except StatesError as err:
            return _failed("FAILED", err)
        out: dict[str, Any] = {"status": "SUCCEEDED", "output": render(output)}
        if nxt is not None:
            out["nextState"] = nxt
            if interp.caught is not None:  # AWS: the caught error, and where the Catch goes
                out.update(_failed("CAUGHT_ERROR", interp.caught))
        return out


def _spaced_json(value: Any) -> str:
    """AWS's TestState prints a Map's or Parallel's data with a space after each ',' and ':'
    (recorded: '[1, 4, 9]', '[{"branch1": "result"}, ...]'), unlike histories."""
    return json.dumps(json.loads(to_json(value)), ensure_ascii=False)


def _failed(status: str, err: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"status": status}
    if getattr(err, "error", None) is not None:
        out["error"] = err.error
    if getattr(err, "cause", None) is not None:
        out["cause"] = err.cause
    return out
