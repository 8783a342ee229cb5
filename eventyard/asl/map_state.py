"""The Map state: inline and distributed modes over items in the input, with ItemSelector,
MaxConcurrency, ItemBatcher and tolerated failures."""

from __future__ import annotations

import asyncio
import math
import uuid
from typing import Any

from eventyard.asl import jsonata_eval, templates
from eventyard.asl.errors import StatesError
from eventyard.asl.history import History, Lane
from eventyard.asl.model import Checkpoint, Engine, Frame, StateOutcome, type_name
from eventyard.asl.templates import Scope, to_json
from eventyard.asl.units import UnitHooks, done_record, failed_record


def _items(interp: Engine, state: dict[str, Any], raw: Any, scope: Scope, jsonata: bool) -> tuple[Any, Any]:
    """(items, effective input) for the state."""
    if jsonata:
        states = interp.states_var(scope, raw)
        items = templates.jsonata_value(state["Items"], scope, states, "Items") if "Items" in state else raw
        if not isinstance(items, list):
            expr = state.get("Items")
            if isinstance(expr, str) and jsonata_eval.is_expression(expr):
                raise scope.query_error(
                    f"The JSONata expression '{jsonata_eval.expression_text(expr)}' specified for the field 'Items' "
                    f"returned an unexpected result type. Expected 'array', but was '{type_name(items)}' for value: "
                    f"{to_json(items)}", "Items")
            raise scope.query_error(f"Map state input must be an array but was: {to_json(items)}")
        return items, raw
    effective = interp.input_path(state, raw, scope)
    path = state.get("ItemsPath", "$")
    items = templates.select_field(path, effective, scope, "ItemsPath")
    if not isinstance(items, list):
        raise scope.runtime_error(
            f"Invalid path '{path}' : The value at the path is not an array: {to_json(items)}"
            if False else f"Item selector returned a non-array result: {to_json(items)}")
    return items, effective


def _number_field(state: dict[str, Any], key: str, raw: Any, scope: Scope, jsonata: bool, default: float,
                  integer: bool = True) -> float:
    if key in state:
        value = state[key]
        if jsonata and isinstance(value, str):
            value = templates.jsonata_value(value, scope, {"input": raw, "context": scope.context}, key)
        return value
    if f"{key}Path" in state:
        path = state[f"{key}Path"]
        value = templates.select_field(path, raw, scope, f"{key}Path")
        if isinstance(value, str):  # AWS parses numbers given as strings
            try:
                value = int(value) if integer else float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and value != int(value)):
            shown = value if isinstance(value, str) else to_json(value)
            raise scope.runtime_error(f"The {key}Path field refers to value \"{shown}\" which is not a valid "
                                      f"{'integer' if integer else 'float'}: {path}")
        return value
    return default


async def run_map(interp: Engine, frame: Frame, name: str, state: dict[str, Any], raw: Any,
                  scope: Scope, jsonata: bool) -> StateOutcome:
    async def attempt(scope: Scope) -> Any:
        mock = interp.mocked(name)  # TestState: the iterations' results are given
        if mock is not None:
            _inspect_limits(interp, state, raw, scope, jsonata)
            if mock[0] == "error":
                raise StatesError(*mock[1])
            _check_mocked_failures(interp, state, raw, scope, jsonata, mock[1])
            return mock[1]
        return await MapAttempt(interp, frame, name, state, raw, scope, jsonata).run()

    def finish(result: Any, scope: Scope) -> tuple[Any, dict[str, Any] | None]:
        return interp.finish_selected(state, raw, result, scope, jsonata)

    return await interp.with_error_handling(frame, name, state, raw, scope, jsonata, attempt, finish)


def _inspect_limits(interp: Engine, state: dict[str, Any], raw: Any, scope: Scope, jsonata: bool) -> None:
    """TestState's inspection of a Map: a JSONPath Map's input and items, its concurrency and the
    tolerated failures it was given."""
    if not jsonata and "ItemsPath" in state:
        effective = interp.input_path(state, raw, scope)
        interp.inspect(scope, "afterInputPath", effective)
        interp.inspect(scope, "afterItemsPath", templates.select_field(state["ItemsPath"], effective, scope,
                                                                       "ItemsPath"))
    interp.inspect(scope, "maxConcurrency", int(_number_field(state, "MaxConcurrency", raw, scope, jsonata, 0)))
    if "ToleratedFailureCount" in state or "ToleratedFailureCountPath" in state:
        interp.inspect(scope, "toleratedFailureCount",
                       int(_number_field(state, "ToleratedFailureCount", raw, scope, jsonata, 0)))
    if "ToleratedFailurePercentage" in state or "ToleratedFailurePercentagePath" in state:
        interp.inspect(scope, "toleratedFailurePercentage",
                       float(_number_field(state, "ToleratedFailurePercentage", raw, scope, jsonata, 0, False)))


def _check_mocked_failures(interp: Engine, state: dict[str, Any], raw: Any, scope: Scope, jsonata: bool,
                           results: Any) -> None:
    """TestState's mapIterationFailureCount against the Map's tolerance (AWS ignores it for a Map
    that tolerates nothing explicitly, as recorded)."""
    failures = interp.map_iteration_failures
    exceeded = False
    if "ToleratedFailureCount" in state or "ToleratedFailureCountPath" in state:
        exceeded = failures > _number_field(state, "ToleratedFailureCount", raw, scope, jsonata, 0)
    if "ToleratedFailurePercentage" in state or "ToleratedFailurePercentagePath" in state:
        total = len(results) if isinstance(results, list) and results else 1
        limit = _number_field(state, "ToleratedFailurePercentage", raw, scope, jsonata, 0, False)
        exceeded = exceeded or failures * 100 / total > limit
    if exceeded:
        raise StatesError("States.ExceedToleratedFailureThreshold",
                          "The specified tolerated failure threshold was exceeded")


class MapAttempt:
    """One attempt of a Map state (a Retry starts another): its iterations, their results and failures.
    Inline iterations of a top-level Map are units (committed as they end, see units.py); a
    distributed Map's iterations are child executions of a Map Run, their events kept apart."""

    def __init__(self, interp: Engine, frame: Frame, name: str, state: dict[str, Any], raw: Any, scope: Scope,
                 jsonata: bool) -> None:
        self.interp, self.frame, self.name, self.state = interp, frame, name, state
        self.raw, self.scope, self.jsonata = raw, scope, jsonata
        self.processor = state.get("ItemProcessor") or state.get("Iterator") or {}
        self.distributed = self.processor.get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"
        self.items: list[Any] = []
        self.inputs: list[Any] = []
        self.results: list[Any] = []
        self.failures: list[StatesError] = []
        self.saved: dict[int, dict[str, Any]] = {}  # units that ended or parked before a restart
        self.store = interp.units if frame.top else None
        # an inline iteration of a top-level Map is a unit with its own events; one nested in a unit
        # adds its events to that unit's
        self.durable = self.store is not None and not self.distributed
        self.run_arn: str | None = None
        self.limit: Any = None
        self.weights: list[int] = []
        self.start_lane = Lane()
        self.record = interp.history
        self.stopped = False  # an inline iteration failed: no further iteration starts
        self.tolerated_count: float = 0
        self.tolerated_pct: float = 0

    async def run(self) -> list[Any]:
        effective, max_concurrency = self._plan()
        await self._start(effective, max_concurrency)
        tasks = [asyncio.ensure_future(self._iteration(i, v)) for i, v in enumerate(self.inputs)]
        try:
            await asyncio.gather(*tasks)
        except StatesError as err:
            def record_failed() -> None:
                self.interp.history.add(self.frame.lane, "MapStateFailed")

            err.unless_retried = record_failed
            raise
        finally:
            for task in tasks:
                task.cancel()
        return await self._end()

    def _plan(self) -> tuple[Any, int]:
        """Items and iteration inputs; (effective input, MaxConcurrency)."""
        interp, state, scope, jsonata = self.interp, self.state, self.scope, self.jsonata
        try:
            self.items, effective = _items(interp, state, self.raw, scope, jsonata)
            self.inputs = [_item_input(state, self.raw, effective, scope, jsonata, i, item)
                           for i, item in enumerate(self.items)]
            batcher = state.get("ItemBatcher")
            if batcher is not None:
                self.inputs = _batch(batcher, self.inputs, effective, scope, jsonata)
            # AWS: a bad MaxConcurrencyPath fails the state before MapStateStarted (tolerated failures after)
            max_concurrency = int(_number_field(state, "MaxConcurrency", effective, scope, jsonata, 0))
        except StatesError as err:
            if err.error == "States.QueryEvaluationError":
                interp.record_evaluation_failed(self.frame, self.name, err)
                interp.history.add(self.frame.lane, "MapStateFailed")
            raise
        self.results = [None] * len(self.inputs)
        self.weights = [len(v["Items"]) if state.get("ItemBatcher") is not None else 1 for v in self.inputs]
        return effective, max_concurrency

    async def _start(self, effective: Any, max_concurrency: int) -> None:
        """MapStateStarted (and MapRunStarted), unless a restart inside the state picks it up: then
        they are recorded already, and the iterations that ended are not run again."""
        interp, frame, state, scope = self.interp, self.frame, self.state, self.scope
        picked = frame.picked_up if (frame.picked_up or {}).get("kind") == "units" else None
        frame.picked_up = None
        self.saved = picked.get("units", {}) if picked else {}
        if picked is None:
            interp.history.add(frame.lane, "MapStateStarted", "mapStateStartedEventDetails",
                               {"length": len(self.inputs)})
        self.tolerated_count = _number_field(state, "ToleratedFailureCount", effective, scope, self.jsonata, 0)
        self.tolerated_pct = _number_field(state, "ToleratedFailurePercentage", effective, scope, self.jsonata, 0,
                                           False)
        if self.tolerated_count < 0:
            raise scope.runtime_error("ToleratedFailureCount cannot be negative.")
        if not 0 <= self.tolerated_pct <= 100:
            raise scope.runtime_error("ToleratedFailurePercentage must be between 0 and 100.")
        if self.distributed:
            # AWS: a distributed Map runs its iterations as child executions of a Map Run; the
            # parent's history shows only the Map Run's start and end.
            self.run_arn = picked.get("map_run") if picked is not None else self._new_map_run()
            self.record = History(interp.history.clock)
        if picked is not None:
            frame.lane.last = picked["started"]
        elif self.store is not None:
            await self.store.begin(Checkpoint(self.name, self.raw, frame.variables, resume={
                **(frame.progress or {}), "kind": "units", "started": frame.lane.last, "map_run": self.run_arn}))
        self.limit = Limiter(max_concurrency) if self.distributed else \
            asyncio.Semaphore(max_concurrency if max_concurrency > 0 else max(1, len(self.inputs)))
        self.start_lane = Lane(frame.lane.last)
        if self.distributed and interp.map_runs is not None and self.run_arn is not None:
            done: dict[str, tuple[int, int]] = {}
            for index, unit in self.saved.items():
                status = "succeeded" if unit["status"] == "done" else "failed"
                executions, count = done.get(status, (0, 0))
                done[status] = (executions + 1, count + self.weights[index])
            await interp.map_runs.start(self.run_arn, len(self.items), len(self.inputs), max_concurrency,
                                        self.tolerated_count, self.tolerated_pct, done, self.limit)

    def _new_map_run(self) -> str:
        machine = str(self.interp.state_machine.get("Id", "")).split(":")
        region_account = ":".join(machine[3:5]) if len(machine) > 5 else "us-east-1:000000000000"
        # AWS: `<state machine name>/<the Map's Label, or a UUID>:<Map Run id>`
        label = self.state.get("Label") or str(uuid.uuid4())
        run_arn = f"arn:aws:states:{region_account}:mapRun:{machine[-1]}/{label}:{uuid.uuid4()}"
        self.interp.history.add(self.frame.lane, "MapRunStarted", "mapRunStartedEventDetails", {"mapRunArn": run_arn})
        return run_arn

    def _child_ended(self, index: int, status: str) -> None:
        """A distributed Map's child execution started ("running") or ended."""
        if self.distributed and self.interp.map_runs is not None and self.run_arn is not None:
            self.interp.map_runs.child(self.run_arn, self.weights[index], status)

    async def _iteration(self, index: int, value: Any) -> None:
        async with self.limit:
            if self.stopped or self._saved_result(index):
                return
            unit = self.saved.get(index)
            frame = self.frame
            sink = (list(unit["events"]) if unit else []) if self.durable else None if self.distributed \
                else frame.lane.sink
            lane = Lane(self.start_lane.last, sink)
            start, item_input, variables, resume = self.processor["StartAt"], value, dict(frame.variables), None
            if unit is not None:  # parked at a Wait, a back-off or a token before the restart
                position = unit["position"]
                lane.last, start, item_input = position["lane"], position["state"], position["input"]
                variables, resume = position["variables"], position["resume"]
            else:
                self.record.add(lane, "MapIterationStarted", "mapIterationStartedEventDetails",
                                {"index": index, "name": self.name})
            self._child_ended(index, "running")
            item = self.items[index] if index < len(self.items) else value
            hooks = UnitHooks(index, lane, self.store.save) if self.durable and self.store else None
            inner = Frame(self.processor["States"], self.processor.get("QueryLanguage", frame.query_language),
                          variables, lane, {"Index": index, "Value": item}, hooks=hooks, resume=resume)
            runner = self.interp if not self.distributed else self.interp.child(self.record)
            try:
                self.results[index] = await runner.run_frame(inner, start, item_input)
            except StatesError as err:
                await self._iteration_failed(index, lane, err)
                return
            await self._iteration_succeeded(index, lane, sink)

    def _saved_result(self, index: int) -> bool:
        """An iteration that ended before a restart: its result (or failure) as it was."""
        unit = self.saved.get(index)
        if unit is not None and unit["status"] == "done":
            self.results[index] = unit["result"]
            if not self.distributed:
                self.frame.lane.last = max(self.frame.lane.last, unit["end"])
                self.start_lane.last = unit["last"]
            return True
        if unit is not None and unit["status"] == "failed":
            self.failures.append(StatesError(unit["error"], unit["cause"]))
            self.results[index] = {"Error": unit["error"], "Cause": unit["cause"]}
            return True
        return False

    async def _iteration_failed(self, index: int, lane: Lane, err: StatesError) -> None:
        if not self.distributed:  # AWS: the state's failure follows the iteration's last state
            self.frame.lane.last = max(self.frame.lane.last, lane.last)
            self.stopped = True
        self.record.add(lane, "MapIterationFailed", "mapIterationFailedEventDetails", {"index": index, "name": self.name})
        if not self.distributed:
            raise err
        self.failures.append(err)
        self.results[index] = {"Error": err.error, "Cause": err.cause}
        self._child_ended(index, "failed")
        if self.store is not None:
            await self.store.save(index, failed_record(err.error, err.cause))

    async def _iteration_succeeded(self, index: int, lane: Lane, sink: list[dict[str, Any]] | None) -> None:
        # AWS: the next iteration and the state's end follow the iteration's last state, not its
        # MapIterationSucceeded event.
        last = lane.last
        self.record.add(lane, "MapIterationSucceeded", "mapIterationSucceededEventDetails",
                        {"index": index, "name": self.name})
        if not self.distributed:
            self.frame.lane.last = max(self.frame.lane.last, lane.last)  # the state's end follows it
            self.start_lane.last = last
        self._child_ended(index, "succeeded")
        if self.store is not None:
            await self.store.save(index, done_record(self.results[index], sink if self.durable else None, last,
                                                     lane.last))

    async def _end(self) -> list[Any]:
        """Tolerated failures (UpdateMapRun may have changed them meanwhile), then the end events."""
        interp, lane = self.interp, self.frame.lane
        runs = interp.map_runs if self.distributed and self.run_arn is not None else None
        if runs is not None and self.run_arn is not None:
            self.tolerated_count, self.tolerated_pct = await runs.tolerated(self.run_arn)
        if self.failures:
            allowed = max(self.tolerated_count, math.floor(len(self.inputs) * self.tolerated_pct / 100)) if (
                self.tolerated_count or self.tolerated_pct) else 0
            if len(self.failures) > allowed:
                if self.distributed:
                    if runs is not None and self.run_arn is not None:
                        await runs.end(self.run_arn, "FAILED")
                    interp.history.add(lane, "MapRunFailed", "mapRunFailedEventDetails",
                                       {"error": "States.ExceedToleratedFailureThreshold"})
                interp.history.add(lane, "MapStateFailed")
                raise StatesError("States.ExceedToleratedFailureThreshold",
                                  "The specified tolerated failure threshold was exceeded")
        # AWS: MapStateExited follows the event before the state's end: a distributed Map's
        # MapRunStarted (every recording since November 2024; older ones show MapRunSucceeded), an
        # inline Map's last iteration event
        last = lane.last
        if self.distributed:
            if runs is not None and self.run_arn is not None:
                await runs.end(self.run_arn, "SUCCEEDED")
            interp.history.add(lane, "MapRunSucceeded")
        interp.history.add(lane, "MapStateSucceeded")
        lane.last = last
        return self.results


class Limiter:
    """A distributed Map's MaxConcurrency (0: no limit), which UpdateMapRun may change while it runs."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self.changed = asyncio.Condition()

    async def __aenter__(self) -> None:
        async with self.changed:
            await self.changed.wait_for(lambda: self.limit <= 0 or self.active < self.limit)
            self.active += 1

    async def __aexit__(self, *exc: object) -> None:
        async with self.changed:
            self.active -= 1
            self.changed.notify_all()

    def resize(self, limit: int) -> None:
        self.limit = limit

        async def wake() -> None:
            async with self.changed:
                self.changed.notify_all()

        asyncio.ensure_future(wake())


def _item_input(state: dict[str, Any], raw: Any, effective: Any, scope: Scope, jsonata: bool,
                index: int, item: Any) -> Any:
    selector = state.get("ItemSelector", state.get("Parameters"))
    if selector is None:
        return item
    context = dict(scope.context)
    context["Map"] = {"Item": {"Index": index, "Value": item}}
    item_scope = Scope(raw, context, scope.variables, scope.state_name, scope.entered_event_id)
    if jsonata:
        return templates.jsonata_value(selector, item_scope, {"input": raw, "context": context}, "ItemSelector")
    return templates.payload(selector, effective, item_scope)


def _batch(batcher: dict[str, Any], inputs: list[Any], effective: Any, scope: Scope,
           jsonata: bool) -> list[Any]:
    size = int(batcher.get("MaxItemsPerBatch", 0) or 0)
    if not size and "MaxItemsPerBatchPath" in batcher:
        size = int(templates.select_field(batcher["MaxItemsPerBatchPath"], effective, scope, "MaxItemsPerBatchPath"))
    size = size or len(inputs) or 1
    batch_input = batcher.get("BatchInput")
    if batch_input is not None and not jsonata:
        batch_input = templates.payload(batch_input, effective, scope)
    batches = []
    for start in range(0, len(inputs), size):
        entry: dict[str, Any] = {"Items": inputs[start:start + size]}
        if batch_input is not None:
            entry["BatchInput"] = batch_input
        batches.append(entry)
    return batches
