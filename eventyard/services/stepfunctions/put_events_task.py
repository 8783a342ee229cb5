"""`arn:aws:states:::events:putEvents` (and `.waitForTaskToken`): AWS adds the state machine's and
the execution's ARNs to every entry's Resources, and an answer with failed entries fails the task
with `EventBridge.FailedEntry`, the answer being its cause."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from eventyard.asl.errors import StatesError

Call = Callable[[str, str, Any, str], Awaitable[Any]]  # (service, action, params, error prefix)


def _entry(entry: Any, resources: list[str]) -> Any:
    if not isinstance(entry, dict):
        return entry
    out = dict(entry)
    if "Detail" in out and not isinstance(out["Detail"], str):  # a JSON Detail is sent as its text
        out["Detail"] = json.dumps(out["Detail"], separators=(",", ":"))
    given = out.get("Resources")
    out["Resources"] = [*(given if isinstance(given, list) else []), *resources]
    return out


async def put_events(call: Call, params: Any, context: dict[str, Any]) -> Any:
    """PutEvents from a task whose context object is `context` (its state machine and execution)."""
    resources = [arn for arn in (context.get("StateMachine", {}).get("Id"), context.get("Execution", {}).get("Id"))
                 if isinstance(arn, str)]
    params = params if isinstance(params, dict) else {}
    entries = params.get("Entries")
    request = {**params, "Entries": [_entry(e, resources) for e in entries]} if isinstance(entries, list) else params
    answer = await call("events", "PutEvents", request, "EventBridge")
    if answer.get("FailedEntryCount"):
        cause = {"Entries": answer.get("Entries", []), "FailedEntryCount": answer["FailedEntryCount"]}
        raise StatesError("EventBridge.FailedEntry", json.dumps(cause, separators=(",", ":")))
    return answer
