"""Runs a state machine definition: one method per state type, error handling (Retry/Catch) shared.

Pure of HTTP and storage: time, sleeping and tasks come from a `Host`, so the same engine serves
STANDARD executions (which the host checkpoints after every top-level transition), EXPRESS
executions, TestState and the engine's own tests with a manual clock.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from eventyard.asl import choice, intrinsics, jsonata_eval, jsonpath, templates, timestamps
from eventyard.asl.errors import NOT_MATCHED_BY_ALL, PathNotFound, StatesError
from eventyard.asl.history import History, Lane
from eventyard.asl.map_state import run_map
from eventyard.asl.model import (
    MAX_PAYLOAD,
    Attempt,
    Checkpoint,
    Engine,
    Finish,
    Frame,
    FrameHooks,
    Host,
    MapRunRecorder,
    Retriable,
    StateOutcome,
    Transition,
    UnitStore,
    type_name,
)
from eventyard.asl.parallel import run_parallel
from eventyard.asl.tasks import run_task
from eventyard.asl.templates import Scope, to_json


@dataclass
class Interpreter:
    definition: dict[str, Any]
    execution: dict[str, Any]  # the context object's Execution (Id, Input, Name, RoleArn, StartTime, ...)
    state_machine: dict[str, Any]  # the context object's StateMachine (Id, Name)
    host: Host
    history: History
    on_transition: Transition | None = None
    top_hooks: FrameHooks | None = None  # durable Waits, back-offs and tokens of top-level states
    resume_after_wait: bool = False
    resume: dict[str, Any] | None = None  # set from a checkpoint: the top-level state to pick up inside
    units: UnitStore | None = None  # checkpoints of a top-level Map's iterations / Parallel's branches
    map_runs: MapRunRecorder | None = None  # records a distributed Map's Map Run (start, each child's end, the end)
    region: str = "us-east-1"  # the execution's region (task events name it)
    # TestState's DEBUG/TRACE inspection: the data of the state named `inspected`, stage by stage
    inspected: str | None = None
    inspection: dict[str, Any] = field(default_factory=dict)
    mocks: dict[str, tuple[str, Any]] = field(default_factory=dict)  # TestState: state name -> its mocked result
    retrier_count: int = 0  # TestState: the retries the inspected state already had
    context_override: dict[str, Any] | None = None  # TestState: the context object it was given, as given
    context_state_name: str | None = None  # TestState: the name AWS's context gives any tested state
    map_iteration_failures: int = 0  # TestState: how many of a mocked Map's iterations failed
    caught: StatesError | None = None  # TestState: the error the inspected state's Catch took
    token_factory: Callable[[], str] | None = None
    task_tokens: dict[str, Any] = field(default_factory=dict)

    @property
    def query_language(self) -> str:
        return self.definition.get("QueryLanguage", "JSONPath")

    # -- execution ------------------------------------------------------------------------------
    async def run_from(self, start: str, input_: Any, variables: dict[str, Any], lane: Lane) -> Any:
        resume = self.resume
        if self.resume_after_wait:  # a top-level Wait whose durable timer fired
            resume = {"kind": "wait", "entered": lane.last}
        self.resume, self.resume_after_wait = None, False
        frame = Frame(self.definition["States"], self.query_language, variables, lane, top=True,
                      hooks=self.top_hooks, resume=resume)
        return await self.run_frame(frame, start, input_)

    async def run_frame(self, frame: Frame, start: str, input_: Any) -> Any:
        name: str | None = start
        value = input_
        while name is not None:
            state = frame.states[name]
            name, value = await self.run_state(frame, name, state, value)
            if frame.top and self.on_transition is not None:
                await self.on_transition(Checkpoint(name, value, frame.variables))
        return value

    # -- one state ------------------------------------------------------------------------------
    def _language(self, frame: Frame, state: dict[str, Any]) -> str:
        return state.get("QueryLanguage", frame.query_language)

    def _context(self, frame: Frame, name: str, entered: float, retry_count: int | None = None) -> dict[str, Any]:
        if self.context_override is not None:  # a Task's token joins it where the task waits for one
            return {k: copy.deepcopy(v) for k, v in self.context_override.items() if k != "Task"}
        state: dict[str, Any] = {"EnteredTime": timestamps.format_epoch(entered),
                                 "Name": self.context_state_name or name}
        if retry_count is not None:  # AWS: only states that can retry (Task, Parallel, Map) carry RetryCount
            state["RetryCount"] = retry_count
        ctx = {"Execution": self.execution, "StateMachine": self.state_machine, "State": state}
        if frame.map_item is not None:
            ctx["Map"] = {"Item": frame.map_item}
        return ctx

    async def run_state(self, frame: Frame, name: str, state: dict[str, Any], raw: Any) -> tuple[str | None, Any]:
        kind = state["Type"]
        inside = frame.resume
        resuming = inside if inside is not None and inside.get("kind") == "wait" else None
        if resuming is not None:
            frame.resume = None
        entered_at = self.host.now()
        if inside is not None:
            entered_id = inside["entered"]
            entered_at = inside.get("entered_time", entered_at)
        else:
            entered_id = self.history.add(frame.lane, f"{kind}StateEntered", "stateEnteredEventDetails",
                                          {"name": name, "input": to_json(raw), "inputDetails": {"truncated": False}})
        retry = 0 if kind in ("Task", "Parallel", "Map") else None
        scope = Scope(raw, self._context(frame, name, entered_at, retry), frame.variables, name, entered_id)
        self.inspect(scope, "input", raw)
        jsonata = self._language(frame, state) == "JSONata"
        runner = getattr(self, f"_run_{kind.lower()}")
        try:
            if kind == "Wait":
                nxt, output, assigned = await runner(frame, name, state, raw, scope, jsonata, resuming)
            else:
                nxt, output, assigned = await runner(frame, name, state, raw, scope, jsonata)
        except StatesError as err:
            if err.error == "States.QueryEvaluationError":
                self.record_evaluation_failed(frame, name, err)
            raise
        if kind == "Fail":
            raise AssertionError("unreachable")
        self._check_size(output, name)
        details: dict[str, Any] = {"name": name, "output": to_json(output), "outputDetails": {"truncated": False}}
        if assigned:  # AWS: an empty Assign records no assignedVariables
            details["assignedVariables"] = {k: to_json(v) for k, v in assigned.items()}
            details["assignedVariablesDetails"] = {"truncated": False}
            frame.variables.update(assigned)
        self.history.add(frame.lane, f"{kind}StateExited", "stateExitedEventDetails", details)
        # End states answer no Next; a Catch's Next applies even on an End state.
        return nxt, output

    def record_evaluation_failed(self, frame: Frame, name: str, err: StatesError) -> None:
        """AWS records a failed JSONata evaluation as its own event before the failure."""
        if err.recorded:
            return
        err.recorded = True
        failed: dict[str, Any] = {"error": err.error, "cause": err.cause, "state": name}
        if err.location:
            failed["location"] = err.location
        lane = frame.lane
        entered = self._event(lane.last)
        if entered is not None and entered["type"].endswith("StateEntered") and entered["type"] != "WaitStateEntered":
            # AWS: when the failure comes straight after the state's entry, the event names the
            # entry's predecessor (a Wait's names the entry itself), as recorded
            lane = Lane(entered["previousEventId"], lane.sink)
        self.history.add(lane, "EvaluationFailed", "evaluationFailedEventDetails", failed)
        frame.lane.last = lane.last

    def _event(self, event_id: int) -> dict[str, Any] | None:
        for event in reversed(self.history.events):
            if event["id"] == event_id:
                return event
            if event["id"] < event_id:
                return None
        return None

    def _check_size(self, value: Any, name: str) -> None:
        if len(to_json(value).encode()) > MAX_PAYLOAD:
            raise StatesError("States.DataLimitExceeded",
                              f"The state/task '{name}' returned a result with a size exceeding the maximum "
                              "number of bytes service limit.")

    def mocked(self, name: str) -> tuple[str, Any] | None:
        return self.mocks.get(name)

    def inspect(self, scope: Scope, stage: str, value: Any) -> None:
        """Keep `value` as the inspected state's data after `stage` (TestState's inspectionData)."""
        if self.inspected is not None and scope.state_name == self.inspected:
            self.inspection[stage] = value

    # -- shared input/output processing ----------------------------------------------------------
    def input_path(self, state: dict[str, Any], raw: Any, scope: Scope) -> Any:
        if "InputPath" not in state:
            return raw
        if state["InputPath"] is None:
            return {}
        return templates.select_field(state["InputPath"], raw, scope, "InputPath")

    def _finish_jsonpath(self, state: dict[str, Any], raw: Any, result: Any, scope: Scope,
                         assign_from: Any) -> tuple[Any, dict[str, Any] | None]:
        assigned = None
        if "Assign" in state:
            assigned = templates.assign_jsonpath(state["Assign"], assign_from, scope)
        if "ResultPath" in state and state["ResultPath"] is None:
            output = raw
        else:
            path = state.get("ResultPath", "$")
            try:
                output = jsonpath.assign(raw, path, result)
            except (PathNotFound, jsonpath.PathSyntaxError):
                raise scope.runtime_error(f"Invalid path '{path}'") from None
        if state.get("Type") != "Map":  # AWS's inspection of a Map stops at its limits
            self.inspect(scope, "afterResultSelector", result)
            self.inspect(scope, "afterResultPath", output)
        if "OutputPath" in state:
            if state["OutputPath"] is None:
                output = {}
            else:
                output = templates.select_field(state["OutputPath"], output, scope, "OutputPath")
        return output, assigned

    def finish_selected(self, state: dict[str, Any], raw: Any, result: Any, scope: Scope,
                         jsonata: bool) -> tuple[Any, dict[str, Any] | None]:
        """Output of a state with a result (Task, Map, Parallel): ResultSelector, then the language's finish."""
        if state.get("Type") not in ("Map", "Parallel"):  # AWS inspects neither's raw result
            self.inspect(scope, "result", result)
        if jsonata:
            return self._finish_jsonata(state, raw, result, scope, result)
        if "ResultSelector" in state:
            result = templates.payload(state["ResultSelector"], result, scope)
        return self._finish_jsonpath(state, raw, result, scope, result)

    def states_var(self, scope: Scope, raw: Any, **extra: Any) -> dict[str, Any]:
        return {"input": raw, "context": scope.context, **extra}

    def _finish_jsonata(self, state: dict[str, Any], raw: Any, result: Any, scope: Scope,
                        default_output: Any, **extra: Any) -> tuple[Any, dict[str, Any] | None]:
        states = self.states_var(scope, raw, **({"result": result} if result is not jsonata_eval.UNDEFINED
                                                 else {}), **extra)
        assigned = templates.assign_jsonata(state["Assign"], scope, states) if "Assign" in state else None
        if "Output" in state:
            output = templates.jsonata_value(state["Output"], scope, states, "Output")
        else:
            output = default_output
        return output, assigned

    # -- Pass -----------------------------------------------------------------------------------
    async def _run_pass(self, frame: Frame, name: str, state: dict[str, Any], raw: Any, scope: Scope,
                        jsonata: bool) -> tuple[str | None, Any, dict[str, Any] | None]:
        if jsonata:
            output, assigned = self._finish_jsonata(state, raw, jsonata_eval.UNDEFINED, scope, raw)
            return state.get("Next"), output, assigned
        if "Result" in state:  # AWS: a Result takes no input
            result = state["Result"]
            self.inspect(scope, "result", result)
        else:
            effective = self.input_path(state, raw, scope)
            self.inspect(scope, "afterInputPath", effective)
            result = templates.payload(state["Parameters"], effective, scope) if "Parameters" in state else effective
            self.inspect(scope, "afterParameters", result)
        output, assigned = self._finish_jsonpath(state, raw, result, scope, result)
        return state.get("Next"), output, assigned

    # -- Succeed / Fail -------------------------------------------------------------------------
    async def _run_succeed(self, frame: Frame, name: str, state: dict[str, Any], raw: Any, scope: Scope,
                           jsonata: bool) -> tuple[str | None, Any, dict[str, Any] | None]:
        if jsonata:
            output, assigned = self._finish_jsonata(state, raw, jsonata_eval.UNDEFINED, scope, raw)
            return None, output, assigned
        effective = self.input_path(state, raw, scope)
        self.inspect(scope, "afterInputPath", effective)
        if "OutputPath" in state:
            effective = {} if state["OutputPath"] is None else templates.select_field(
                state["OutputPath"], effective, scope, "OutputPath")
        return None, effective, None

    async def _run_fail(self, frame: Frame, name: str, state: dict[str, Any], raw: Any, scope: Scope,
                        jsonata: bool) -> tuple[str | None, Any, dict[str, Any] | None]:
        states = self.states_var(scope, raw)
        if not jsonata:
            self.inspect(scope, "afterInputPath", self.input_path(state, raw, scope))
        error, cause = state.get("Error"), state.get("Cause")
        if jsonata:
            if error is not None:
                error = templates.jsonata_value(error, scope, states, "Error")
            if cause is not None:
                cause = templates.jsonata_value(cause, scope, states, "Cause")
        else:
            if "ErrorPath" in state:
                error = self._fail_path(state["ErrorPath"], raw, scope, "ErrorPath")
            if "CausePath" in state:
                cause = self._fail_path(state["CausePath"], raw, scope, "CausePath")
        raise StatesError(error, cause)

    def _fail_path(self, path: str, raw: Any, scope: Scope, field_name: str) -> Any:
        if intrinsics.is_intrinsic(path):
            return templates.evaluate_reference(path, raw, scope, field_name)
        try:
            value = templates.resolve_path(path, raw, scope)
        except PathNotFound:
            raise scope.runtime_error(
                f"The JSONPath '{path}' specified for the field '{field_name}' could not be found in the input "
                f"'{to_json(raw)}'") from None
        return value if isinstance(value, str) else to_json(value)

    # -- Choice ---------------------------------------------------------------------------------
    async def _run_choice(self, frame: Frame, name: str, state: dict[str, Any], raw: Any, scope: Scope,
                          jsonata: bool) -> tuple[str | None, Any, dict[str, Any] | None]:
        if jsonata:
            states = self.states_var(scope, raw)
            for rule in state.get("Choices", []):
                value = templates.jsonata_value(rule["Condition"], scope, states, "Condition")
                if not isinstance(value, bool):
                    raise scope.query_error(
                        f"The JSONata expression '{jsonata_eval.expression_text(rule['Condition'])}' specified for "
                        f"the field 'Condition' returned an unexpected result type. Expected 'boolean', but was "
                        f"'{type_name(value)}' for value: {to_json(value)}", "Condition")
                if value:
                    output, assigned = self._finish_jsonata(rule, raw, jsonata_eval.UNDEFINED, scope, raw)
                    return rule["Next"], output, assigned
            if "Default" not in state:
                raise StatesError("States.NoChoiceMatched",
                                  f"An error occurred while executing the state '{name}' (entered at the event id "
                                  f"#{scope.entered_event_id}). No Choice Rules matched and no Default is specified.")
            output, assigned = self._finish_jsonata(state, raw, jsonata_eval.UNDEFINED, scope, raw)
            return state["Default"], output, assigned
        effective = self.input_path(state, raw, scope)
        self.inspect(scope, "afterInputPath", effective)

        def lookup(path: str) -> Any:
            return templates.resolve_path(path, effective, scope)

        chosen: dict[str, Any] | None = None
        for rule in state.get("Choices", []):
            if choice.evaluate(rule, lookup):
                chosen = rule
                break
        if chosen is None and "Default" not in state:
            raise StatesError("States.NoChoiceMatched",
                              f"An error occurred while executing the state '{name}' (entered at the event id "
                              f"#{scope.entered_event_id}). No Choice Rules matched and no Default is specified.")
        nxt = chosen["Next"] if chosen is not None else state["Default"]
        assign_source = chosen if chosen is not None and "Assign" in chosen else state
        assigned = templates.assign_jsonpath(assign_source["Assign"], raw, scope) if "Assign" in assign_source \
            else None
        output = effective
        if "OutputPath" in state:
            output = {} if state["OutputPath"] is None else templates.select_field(
                state["OutputPath"], effective, scope, "OutputPath")
        return nxt, output, assigned

    # -- Wait -----------------------------------------------------------------------------------
    async def _run_wait(self, frame: Frame, name: str, state: dict[str, Any], raw: Any, scope: Scope,
                        jsonata: bool, resuming: dict[str, Any] | None
                        ) -> tuple[str | None, Any, dict[str, Any] | None]:
        effective = raw if jsonata else self.input_path(state, raw, scope)
        if resuming is None:
            until = self._wait_until(state, effective, scope, jsonata)
            if frame.hooks is not None:
                entered_time = timestamps.parse(scope.context["State"]["EnteredTime"])
                await frame.hooks.wait(name, until, Checkpoint(name, raw, frame.variables, until, resume={
                    "kind": "wait", "entered": scope.entered_event_id, "until": until,
                    "entered_time": entered_time.timestamp() if entered_time else self.host.now()}))
            await self.host.sleep_until(until)
        elif resuming.get("until") is not None:  # a unit's Wait after a restart: only what is left of it
            await self.host.sleep_until(resuming["until"])
        if jsonata:
            output, assigned = self._finish_jsonata(state, raw, jsonata_eval.UNDEFINED, scope, raw)
            return state.get("Next"), output, assigned
        assigned = templates.assign_jsonpath(state["Assign"], raw, scope) if "Assign" in state else None
        output = effective
        if "OutputPath" in state:
            output = {} if state["OutputPath"] is None else templates.select_field(
                state["OutputPath"], effective, scope, "OutputPath")
        return state.get("Next"), output, assigned

    def _wait_until(self, state: dict[str, Any], effective: Any, scope: Scope, jsonata: bool) -> float:
        now = self.host.now()
        states = self.states_var(scope, scope.input)
        if "Seconds" in state:
            seconds = state["Seconds"]
            if jsonata:
                seconds = templates.jsonata_value(seconds, scope, states, "Seconds")
                if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
                    raise scope.query_error(
                        f"The JSONata expression '{jsonata_eval.expression_text(state['Seconds'])}' specified for "
                        f"the field 'Seconds' returned an unexpected result type. Expected 'integer', but was "
                        f"'{type_name(seconds)}' for value: {to_json(seconds)}", "Seconds")
            return now + float(seconds)
        if "SecondsPath" in state:
            path = state["SecondsPath"]
            try:
                value = templates.resolve_path(path, effective, scope)
            except PathNotFound:  # AWS's own wording for this field, not "Invalid path"
                raise scope.runtime_error(
                    f"The SecondsPath parameter does not reference an input value: {path}") from None
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
                raise scope.runtime_error(
                    f"The SecondsPath parameter cannot be parsed as a long value: {path} == {to_json(value)}")
            if value < 0:
                raise scope.runtime_error(
                    f"The SecondsPath parameter references a negative value: {path} == {to_json(value)}")
            return now + float(value)
        if "Timestamp" in state:
            text = state["Timestamp"]
            if jsonata:
                text = templates.jsonata_value(text, scope, states, "Timestamp")
            moment = timestamps.parse(text)
            if moment is None:
                raise scope.query_error(
                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: "
                    f"{text}", "Timestamp")
            return moment.timestamp()
        if "TimestampPath" in state:
            path = state["TimestampPath"]
            text = templates.select_field(path, effective, scope, "TimestampPath")
            moment = timestamps.parse(text)
            if moment is None:
                raise scope.runtime_error(
                    "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time "
                    f"format string: {path} == {text if isinstance(text, str) else to_json(text)}")
            return moment.timestamp()
        return now

    # -- Task, Parallel, Map share error handling ------------------------------------------------
    async def with_error_handling(self, frame: Frame, name: str, state: dict[str, Any], raw: Any, scope: Scope,
                                   jsonata: bool, attempt: Attempt, finish: Finish) -> StateOutcome:
        retries: dict[int, int] = {}
        retry_count = 0
        inside = frame.resume
        if inside is not None:  # picked up inside this state after a durable back-off or a restart
            frame.resume = None
            frame.picked_up = inside if inside.get("kind") in ("task", "units") else None
            retries = {int(k): v for k, v in inside.get("retries", {}).items()}
            retry_count = inside.get("retry_count", 0)
            if retry_count:
                scope = Scope(raw, self._context(frame, name, self.host.now(), retry_count), frame.variables, name,
                              scope.entered_event_id)
        entered_time = inside.get("entered_time", self.host.now()) if inside else self.host.now()
        if inside is not None and inside.get("kind") == "retry" and inside.get("until") is not None:
            await self.host.sleep_until(inside["until"])  # a unit's back-off after a restart: what is left
        while True:
            if frame.hooks is not None:
                frame.progress = {"entered": scope.entered_event_id, "entered_time": entered_time,
                                 "retries": dict(retries), "retry_count": retry_count}
            try:
                result = await attempt(scope)
                output, assigned = finish(result, scope)
                return state.get("Next"), output, assigned
            except StatesError as err:
                retrier = _match(state.get("Retry", []), err)
                if retrier is not None:
                    index, rule = retrier
                    count = retries.get(index, 0) if self.inspected != name else self.retrier_count
                    max_attempts = rule.get("MaxAttempts", 3)
                    if count >= max_attempts:  # TestState names the retrier that is spent
                        self.inspect(scope, "errorDetails", {"retryIndex": index})
                    if count < max_attempts:
                        retries[index] = count + 1
                        delay = rule.get("IntervalSeconds", 1) * rule.get("BackoffRate", 2.0) ** count
                        if "MaxDelaySeconds" in rule:
                            delay = min(delay, rule["MaxDelaySeconds"])
                        if rule.get("JitterStrategy") == "FULL":
                            delay = random.uniform(0, delay)
                        until = self.host.now() + delay
                        if self.inspected == name:  # TestState: say so instead of waiting
                            self.inspect(scope, "errorDetails", {"retryBackoffIntervalSeconds": int(delay),
                                                                 "retryIndex": index})
                            raise Retriable(err) from None
                        if frame.hooks is not None:
                            # Committed (at the top level a durable timer: the host raises Suspend); the
                            # state resumes from here.
                            await frame.hooks.retry(until, Checkpoint(name, raw, frame.variables, until, resume={
                                "kind": "retry", "entered": scope.entered_event_id, "entered_time": entered_time,
                                "retries": retries, "retry_count": retry_count + 1, "until": until}))
                        await self.host.sleep_until(until)
                        retry_count += 1
                        scope = Scope(raw, self._context(frame, name, self.host.now(), retry_count),
                                      frame.variables, name, scope.entered_event_id)
                        continue
                if err.unless_retried is not None:
                    err.unless_retried()
                    err.unless_retried = None
                catcher = _match(state.get("Catch", []), err)
                if catcher is None:
                    raise
                self.inspect(scope, "errorDetails", {"catchIndex": catcher[0]})
                if self.inspected == name:
                    self.caught = err
                rule = catcher[1]
                output, assigned = self._caught(scope, raw, rule, err, jsonata)
                return rule["Next"], output, assigned

    def _caught(self, scope: Scope, raw: Any, rule: dict[str, Any], err: StatesError,
                jsonata: bool) -> tuple[Any, Any]:
        """A catcher's output and assigned variables for the error it caught."""
        error_output: dict[str, Any] = {"Error": err.error, "Cause": err.cause}
        if err.cause is None and err.error == "States.Timeout":
            error_output["Cause"] = ""  # AWS: a timed-out task's caught error has an empty cause
        elif err.cause is None and err.error is not None:
            # A failure with neither (SendTaskFailure without both) keeps both as null, as AWS records.
            error_output.pop("Cause")
        if jsonata:
            states = self.states_var(scope, raw, errorOutput=error_output)
            assigned = templates.assign_jsonata(rule["Assign"], scope, states) if "Assign" in rule else None
            output = templates.jsonata_value(rule["Output"], scope, states, "Output") \
                if "Output" in rule else error_output
            return output, assigned
        assigned = templates.assign_jsonpath(rule["Assign"], error_output, scope) if "Assign" in rule else None
        path = rule.get("ResultPath", "$")
        return (raw if "ResultPath" in rule and path is None else jsonpath.assign(raw, path, error_output)), assigned

    # -- Task, Parallel, Map: their own modules ---------------------------------------------------
    async def _run_task(self, frame: Frame, name: str, state: dict[str, Any], raw: Any, scope: Scope,
                        jsonata: bool) -> StateOutcome:
        return await run_task(self, frame, name, state, raw, scope, jsonata)

    async def _run_parallel(self, frame: Frame, name: str, state: dict[str, Any], raw: Any, scope: Scope,
                            jsonata: bool) -> StateOutcome:
        return await run_parallel(self, frame, name, state, raw, scope, jsonata)

    async def _run_map(self, frame: Frame, name: str, state: dict[str, Any], raw: Any, scope: Scope,
                       jsonata: bool) -> StateOutcome:
        return await run_map(self, frame, name, state, raw, scope, jsonata)

    def child(self, history: History) -> Engine:
        """An interpreter for a distributed Map's child execution: its events stay out of the parent."""
        return dataclasses.replace(self, history=history, on_transition=None, top_hooks=None, units=None,
                                   map_runs=None)


def error_matches(names: list[str], error: str | None, matched_by_all: bool | None = None) -> bool:
    if error == "States.Runtime":  # AWS: it always fails the execution, even a rule naming it takes it not
        return False
    for pattern in names:
        if pattern == error:
            return True
        if pattern == "States.ALL" and (error not in NOT_MATCHED_BY_ALL if matched_by_all is None else matched_by_all):
            return True
        if pattern == "States.TaskFailed" and error not in NOT_MATCHED_BY_ALL and error != "States.Timeout" \
                and not (error or "").startswith("States.") or (pattern == "States.TaskFailed" and error in (
                    "States.TaskFailed", "States.Permissions", "States.HeartbeatTimeout")):
            return True
    return False


def _match(rules: list[dict[str, Any]], err: StatesError) -> tuple[int, dict[str, Any]] | None:
    for index, rule in enumerate(rules):
        if error_matches(rule.get("ErrorEquals", []), err.error, err.matched_by_all):
            return index, rule
    return None


async def wait_any(*aws: Awaitable[Any]) -> None:
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()


__all__ = ["Interpreter", "Host", "FrameHooks", "Checkpoint", "Transition", "Attempt", "Finish", "json"]
