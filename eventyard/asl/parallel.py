"""The Parallel state: every branch runs on the same input, the result is the list of outputs."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from eventyard.asl import jsonata_eval, templates
from eventyard.asl.errors import StatesError
from eventyard.asl.history import Lane

if TYPE_CHECKING:
    from eventyard.asl.interpreter import Frame, Interpreter
    from eventyard.asl.templates import Scope


async def run_branches(interp: Interpreter, frame: Frame, branches: list[dict[str, Any]], value: Any) -> list[Any]:
    from eventyard.asl.interpreter import Frame

    async def branch(definition: dict[str, Any]) -> Any:
        inner = Frame(definition["States"], definition.get("QueryLanguage", frame.query_language),
                      dict(frame.variables), Lane(frame.lane.last), frame.map_item)
        return await interp.run_frame(inner, definition["StartAt"], value)

    tasks = [asyncio.ensure_future(branch(b)) for b in branches]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()


async def run_parallel(interp: Interpreter, frame: Frame, name: str, state: dict[str, Any], raw: Any,
                       scope: Scope, jsonata: bool) -> tuple[str | None, Any, dict[str, Any] | None]:
    async def attempt(scope: Scope) -> Any:
        if jsonata:
            states = interp._states_var(scope, raw)
            value = templates.jsonata_value(state["Arguments"], scope, states, "Arguments") \
                if "Arguments" in state else raw
        else:
            value = interp._input_path(state, raw, scope)
            if "Parameters" in state:
                value = templates.payload(state["Parameters"], value, scope)
        interp.history.add(frame.lane, "ParallelStateStarted")
        try:
            result = await run_branches(interp, frame, state["Branches"], value)
        except StatesError as err:
            interp.history.add(frame.lane, "ParallelStateFailed")
            raise err
        interp.history.add(frame.lane, "ParallelStateSucceeded")
        return result

    def finish(result: Any, scope: Scope) -> tuple[Any, dict[str, Any] | None]:
        if jsonata:
            return interp._finish_jsonata(state, raw, result, scope, result)
        if "ResultSelector" in state:
            result = templates.payload(state["ResultSelector"], result, scope)
        return interp._finish_jsonpath(state, raw, result, scope, result)

    return await interp._with_error_handling(frame, name, state, raw, scope, jsonata, attempt, finish)


__all__ = ["run_parallel", "run_branches", "jsonata_eval"]
