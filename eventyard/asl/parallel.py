"""The Parallel state: every branch runs on the same input, the result is the list of outputs."""

from __future__ import annotations

import asyncio
from typing import Any

from eventyard.asl import templates
from eventyard.asl.errors import StatesError
from eventyard.asl.history import Lane
from eventyard.asl.model import Checkpoint, Engine, Frame, StateOutcome, UnitStore
from eventyard.asl.templates import Scope
from eventyard.asl.units import UnitHooks, done_record


async def run_branches(interp: Engine, frame: Frame, branches: list[dict[str, Any]], value: Any,
                       store: UnitStore | None = None, saved: dict[int, dict[str, Any]] | None = None) -> list[Any]:
    """Run every branch; with a `store` (a top-level state) each branch is a unit: an ended branch is
    committed, and a branch in `saved` (from before a restart) is not run again, or picks up where
    it was parked."""
    saved = saved or {}
    ends: list[int] = []  # each branch's last event

    async def branch(index: int, definition: dict[str, Any]) -> Any:
        record = saved.get(index)
        if record is not None and record["status"] == "done":
            ends.append(record["end"])
            return record["result"]
        sink = (list(record["events"]) if record else []) if store is not None else frame.lane.sink
        lane = Lane(frame.lane.last, sink)
        start, branch_input, variables, resume = definition["StartAt"], value, dict(frame.variables), None
        if record is not None:
            position = record["position"]
            lane.last, start, branch_input = position["lane"], position["state"], position["input"]
            variables, resume = position["variables"], position["resume"]
        hooks = UnitHooks(index, lane, store.save) if store is not None else None
        inner = Frame(definition["States"], definition.get("QueryLanguage", frame.query_language), variables, lane,
                      frame.map_item, hooks=hooks, resume=resume)
        try:
            result = await interp.run_frame(inner, start, branch_input)
        finally:
            ends.append(lane.last)
        if store is not None:
            await store.save(index, done_record(result, sink, lane.last, lane.last))
        return result

    tasks = [asyncio.ensure_future(branch(i, b)) for i, b in enumerate(branches)]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        # AWS: the state's end follows the last event of the branches (the one that ended last)
        frame.lane.last = max([frame.lane.last, *ends])


async def run_parallel(interp: Engine, frame: Frame, name: str, state: dict[str, Any], raw: Any,
                       scope: Scope, jsonata: bool) -> StateOutcome:
    async def attempt(scope: Scope) -> Any:
        mock = interp.mocked(name)  # TestState: the branches' results are given
        if mock is not None:
            if mock[0] == "error":
                raise StatesError(*mock[1])
            return mock[1]
        if jsonata:
            states = interp.states_var(scope, raw)
            value = templates.jsonata_value(state["Arguments"], scope, states, "Arguments") \
                if "Arguments" in state else raw
        else:
            value = interp.input_path(state, raw, scope)
            if "Parameters" in state:
                value = templates.payload(state["Parameters"], value, scope)
        picked = frame.picked_up if (frame.picked_up or {}).get("kind") == "units" else None
        frame.picked_up = None
        store = interp.units if frame.top else None
        if picked is not None:  # after a restart: ParallelStateStarted is recorded, some branches ended
            frame.lane.last = picked["started"]
        else:
            interp.history.add(frame.lane, "ParallelStateStarted")
            if store is not None:
                await store.begin(Checkpoint(name, raw, frame.variables, resume={
                    **(frame.progress or {}), "kind": "units", "started": frame.lane.last}))
        try:
            result = await run_branches(interp, frame, state["Branches"], value, store,
                                        picked.get("units") if picked else None)
        except StatesError as err:
            def record_failed() -> None:
                interp.history.add(frame.lane, "ParallelStateFailed")

            err.unless_retried = record_failed  # AWS: an attempt its Retry takes records no ParallelStateFailed
            raise err
        last = frame.lane.last
        interp.history.add(frame.lane, "ParallelStateSucceeded")
        frame.lane.last = last  # ParallelStateExited follows the same event as ParallelStateSucceeded
        return result

    def finish(result: Any, scope: Scope) -> tuple[Any, dict[str, Any] | None]:
        return interp.finish_selected(state, raw, result, scope, jsonata)

    return await interp.with_error_handling(frame, name, state, raw, scope, jsonata, attempt, finish)


__all__ = ["run_parallel", "run_branches"]
