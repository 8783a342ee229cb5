"""The Map state: inline and distributed modes over items in the input, with ItemSelector,
MaxConcurrency, ItemBatcher and tolerated failures."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import uuid
from typing import TYPE_CHECKING, Any

from eventyard.asl import jsonata_eval, templates
from eventyard.asl.errors import StatesError
from eventyard.asl.history import History, Lane
from eventyard.asl.interpreter import Checkpoint
from eventyard.asl.templates import Scope, to_json
from eventyard.asl.units import UnitHooks, done_record, failed_record

if TYPE_CHECKING:
    from eventyard.asl.interpreter import Frame, Interpreter


def _items(interp: Interpreter, state: dict[str, Any], raw: Any, scope: Scope, jsonata: bool) -> tuple[Any, Any]:
    """(items, effective input) for the state."""
    if jsonata:
        states = interp._states_var(scope, raw)
        items = templates.jsonata_value(state["Items"], scope, states, "Items") if "Items" in state else raw
        if not isinstance(items, list):
            expr = state.get("Items")
            if isinstance(expr, str) and jsonata_eval.is_expression(expr):
                raise scope.query_error(
                    f"The JSONata expression '{jsonata_eval.expression_text(expr)}' specified for the field 'Items' "
                    f"returned an unexpected result type. Expected 'array', but was '{_type(items)}' for value: "
                    f"{to_json(items)}", "Items")
            raise scope.query_error(f"Map state input must be an array but was: {to_json(items)}")
        return items, raw
    effective = interp._input_path(state, raw, scope)
    path = state.get("ItemsPath", "$")
    items = templates.select_field(path, effective, scope, "ItemsPath")
    if not isinstance(items, list):
        raise scope.runtime_error(
            f"Invalid path '{path}' : The value at the path is not an array: {to_json(items)}"
            if False else f"Item selector returned a non-array result: {to_json(items)}")
    return items, effective


def _type(value: Any) -> str:
    from eventyard.asl.interpreter import _type_name

    return _type_name(value)


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


async def run_map(interp: Interpreter, frame: Frame, name: str, state: dict[str, Any], raw: Any,
                  scope: Scope, jsonata: bool) -> tuple[str | None, Any, dict[str, Any] | None]:
    from eventyard.asl.interpreter import Frame

    processor = state.get("ItemProcessor") or state.get("Iterator") or {}
    distributed = processor.get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"

    async def attempt(scope: Scope) -> Any:
        try:
            items, effective = _items(interp, state, raw, scope, jsonata)
            inputs = [_item_input(interp, state, raw, effective, scope, jsonata, i, item)
                      for i, item in enumerate(items)]
            batcher = state.get("ItemBatcher")
            if batcher is not None:
                inputs = _batch(interp, batcher, inputs, effective, scope, jsonata)
            # AWS: a bad MaxConcurrencyPath fails the state before MapStateStarted (tolerated failures after)
            max_concurrency = int(_number_field(state, "MaxConcurrency", effective, scope, jsonata, 0))
        except StatesError as err:
            if err.error == "States.QueryEvaluationError":
                interp.record_evaluation_failed(frame, name, err)
                interp.history.add(frame.lane, "MapStateFailed")
            raise
        # After a restart inside the state: MapStateStarted (and MapRunStarted) are recorded, and the
        # iterations that ended are not run again.
        picked = frame.picked_up if (frame.picked_up or {}).get("kind") == "units" else None
        frame.picked_up = None
        store = interp.units if frame.top else None
        saved: dict[int, dict[str, Any]] = picked.get("units", {}) if picked else {}
        if picked is None:
            interp.history.add(frame.lane, "MapStateStarted", "mapStateStartedEventDetails", {"length": len(inputs)})
        tolerated_count = _number_field(state, "ToleratedFailureCount", effective, scope, jsonata, 0)
        tolerated_pct = _number_field(state, "ToleratedFailurePercentage", effective, scope, jsonata, 0, False)
        if tolerated_count < 0:
            raise scope.runtime_error("ToleratedFailureCount cannot be negative.")
        if not 0 <= tolerated_pct <= 100:
            raise scope.runtime_error("ToleratedFailurePercentage must be between 0 and 100.")
        run_arn = None
        if distributed:
            # AWS: a distributed Map runs its iterations as child executions of a Map Run; the
            # parent's history shows only the Map Run's start and end.
            if picked is not None:
                run_arn = picked.get("map_run")
            else:
                machine = str(interp.state_machine.get("Id", "")).split(":")
                region_account = ":".join(machine[3:5]) if len(machine) > 5 else "us-east-1:000000000000"
                # AWS: `<state machine name>/<the Map's Label, or a UUID>:<Map Run id>`
                label = state.get("Label") or str(uuid.uuid4())
                run_arn = f"arn:aws:states:{region_account}:mapRun:{machine[-1]}/{label}:{uuid.uuid4()}"
                interp.history.add(frame.lane, "MapRunStarted", "mapRunStartedEventDetails", {"mapRunArn": run_arn})
        if picked is not None:
            frame.lane.last = picked["started"]
        elif store is not None:
            await store.begin(Checkpoint(name, raw, frame.variables, resume={
                **(frame.progress or {}), "kind": "units", "started": frame.lane.last, "map_run": run_arn}))
        limit: Any = Limiter(max_concurrency) if distributed else \
            asyncio.Semaphore(max_concurrency if max_concurrency > 0 else max(1, len(inputs)))
        runs = interp.map_runs if distributed else None
        weights = [len(v["Items"]) if state.get("ItemBatcher") is not None else 1 for v in inputs]
        if runs is not None and run_arn is not None:
            done: dict[str, tuple[int, int]] = {}
            for index, unit in saved.items():
                status = "succeeded" if unit["status"] == "done" else "failed"
                executions, count = done.get(status, (0, 0))
                done[status] = (executions + 1, count + weights[index])
            await runs.start(run_arn, len(items), len(inputs), max_concurrency, tolerated_count, tolerated_pct, done,
                             limit)
        results: list[Any] = [None] * len(inputs)
        failures: list[StatesError] = []
        start_lane = Lane(frame.lane.last)
        record = History(interp.history.clock) if distributed else interp.history
        # an inline iteration of a top-level Map is a unit with its own events; one nested in a unit
        # adds its events to that unit's
        durable = store is not None and not distributed

        stopped = [False]  # an inline iteration failed: no further iteration starts

        async def iteration(index: int, value: Any) -> None:
            async with limit:
                if stopped[0]:
                    return
                unit = saved.get(index)
                if unit is not None and unit["status"] == "done":
                    results[index] = unit["result"]
                    if not distributed:
                        frame.lane.last = max(frame.lane.last, unit["end"])
                        start_lane.last = unit["last"]
                    return
                if unit is not None and unit["status"] == "failed":
                    failures.append(StatesError(unit["error"], unit["cause"]))
                    results[index] = {"Error": unit["error"], "Cause": unit["cause"]}
                    return
                sink = (list(unit["events"]) if unit else []) if durable else None if distributed \
                    else frame.lane.sink
                lane = Lane(start_lane.last, sink)
                start, item_input, variables, resume = processor["StartAt"], value, dict(frame.variables), None
                if unit is not None:  # parked at a Wait, a back-off or a token before the restart
                    position = unit["position"]
                    lane.last, start, item_input = position["lane"], position["state"], position["input"]
                    variables, resume = position["variables"], position["resume"]
                else:
                    record.add(lane, "MapIterationStarted", "mapIterationStartedEventDetails",
                               {"index": index, "name": name})
                if runs is not None:
                    runs.child(run_arn, weights[index], "running")
                inner = Frame(processor["States"], processor.get("QueryLanguage", frame.query_language),
                              variables, lane, {"Index": index, "Value": items[index]
                                                if index < len(items) else value},
                              hooks=UnitHooks(index, lane, store.save) if durable and store else None,
                              resume=resume)
                runner = interp if not distributed else _child(interp, record)
                try:
                    results[index] = await runner.run_frame(inner, start, item_input)
                except StatesError as err:
                    if not distributed:  # AWS: the state's failure follows the iteration's last state
                        frame.lane.last = max(frame.lane.last, lane.last)
                        stopped[0] = True
                    record.add(lane, "MapIterationFailed", "mapIterationFailedEventDetails",
                               {"index": index, "name": name})
                    if not distributed:
                        raise
                    failures.append(err)
                    results[index] = {"Error": err.error, "Cause": err.cause}
                    if runs is not None:
                        runs.child(run_arn, weights[index], "failed")
                    if store is not None:
                        await store.save(index, failed_record(err.error, err.cause))
                    return
                # AWS: the next iteration and the state's end follow the iteration's last state,
                # not its MapIterationSucceeded event.
                last = lane.last
                record.add(lane, "MapIterationSucceeded", "mapIterationSucceededEventDetails",
                           {"index": index, "name": name})
                if not distributed:
                    frame.lane.last = max(frame.lane.last, lane.last)  # the state's end follows it
                    start_lane.last = last
                if runs is not None:
                    runs.child(run_arn, weights[index], "succeeded")
                if store is not None:
                    await store.save(index, done_record(results[index], sink if durable else None, last, lane.last))

        tasks = [asyncio.ensure_future(iteration(i, v)) for i, v in enumerate(inputs)]
        try:
            await asyncio.gather(*tasks)
        except StatesError as err:
            def record_failed() -> None:
                interp.history.add(frame.lane, "MapStateFailed")

            err.unless_retried = record_failed
            raise
        finally:
            for task in tasks:
                task.cancel()
        if runs is not None and run_arn is not None:  # UpdateMapRun may have changed them meanwhile
            tolerated_count, tolerated_pct = await runs.tolerated(run_arn)
        if failures:
            allowed = max(tolerated_count, math.floor(len(inputs) * tolerated_pct / 100)) if (
                tolerated_count or tolerated_pct) else 0
            if len(failures) > allowed:
                if distributed:
                    if runs is not None and run_arn is not None:
                        await runs.end(run_arn, "FAILED")
                    interp.history.add(frame.lane, "MapRunFailed", "mapRunFailedEventDetails",
                                       {"error": "States.ExceedToleratedFailureThreshold"})
                interp.history.add(frame.lane, "MapStateFailed")
                raise StatesError("States.ExceedToleratedFailureThreshold",
                                  "The specified tolerated failure threshold was exceeded")
        if distributed:
            if runs is not None and run_arn is not None:
                await runs.end(run_arn, "SUCCEEDED")
            interp.history.add(frame.lane, "MapRunSucceeded")
        last = frame.lane.last
        interp.history.add(frame.lane, "MapStateSucceeded")
        frame.lane.last = last  # MapStateExited follows the same event as MapStateSucceeded
        return results

    def finish(result: Any, scope: Scope) -> tuple[Any, dict[str, Any] | None]:
        return interp._finish_selected(state, raw, result, scope, jsonata)

    return await interp._with_error_handling(frame, name, state, raw, scope, jsonata, attempt, finish)


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


def _child(interp: Interpreter, history: History) -> Interpreter:
    """An interpreter for a distributed Map's child execution: its events stay out of the parent."""
    return dataclasses.replace(interp, history=history, on_transition=None, top_hooks=None, units=None, map_runs=None)


def _item_input(interp: Interpreter, state: dict[str, Any], raw: Any, effective: Any, scope: Scope, jsonata: bool,
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


def _batch(interp: Interpreter, batcher: dict[str, Any], inputs: list[Any], effective: Any, scope: Scope,
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
