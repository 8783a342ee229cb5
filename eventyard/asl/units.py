"""Checkpoints inside a top-level Map or Parallel state. Each Map iteration and Parallel branch is a
*unit*: when it ends, its result and its history events are committed; when it stops at a Wait, a
retry back-off or a task handing out its token, where it stands is committed. After a restart the
state runs only the units that had not ended, and parked units pick up where they stopped.

A unit's events stay out of the visible history until the state ends (as before units existed), so
a restart may renumber them: the events of units that were lost are dropped and the kept ones get
consecutive ids again (`restore`). No client has seen those ids, so the history stays consistent.
"""

from __future__ import annotations

import bisect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from eventyard.asl.history import History, Lane
from eventyard.asl.model import Checkpoint, TaskRequest


@dataclass
class UnitHooks:
    """A unit frame's durable points: commit where it stands, then let the engine sleep in memory."""

    index: int
    lane: Lane
    save: Callable[[int, dict[str, Any], TaskRequest | None], Awaitable[None]]

    def _record(self, checkpoint: Checkpoint) -> dict[str, Any]:
        return {"status": "parked", "events": list(self.lane.sink or []), "position": {
            "state": checkpoint.state, "input": checkpoint.input, "variables": checkpoint.variables,
            "lane": self.lane.last, "resume": checkpoint.resume}}

    async def wait(self, name: str, until: float, checkpoint: Checkpoint) -> None:
        await self.save(self.index, self._record(checkpoint), None)

    async def retry(self, until: float, checkpoint: Checkpoint) -> None:
        await self.save(self.index, self._record(checkpoint), None)

    async def task(self, checkpoint: Checkpoint, request: TaskRequest) -> None:
        await self.save(self.index, self._record(checkpoint), request)

    async def recorded(self) -> None:
        """A unit's events are committed with its next record (a new record now would drop its token)."""


def done_record(result: Any, events: list[dict[str, Any]] | None, last: int, end: int) -> dict[str, Any]:
    """An ended unit: its result, its events, its last state event (`last`) and last event (`end`)."""
    return {"status": "done", "result": result, "events": list(events or []), "last": last, "end": end}


def failed_record(error: str | None, cause: str | None) -> dict[str, Any]:
    """A distributed Map's failed child execution (counted against the tolerated failures)."""
    return {"status": "failed", "error": error, "cause": cause, "events": []}


def restore(history: History, records: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Append the saved units' events to `history` with consecutive ids from its next id, and point
    every id the records hold (previous events, lanes, entered states) at the new ids."""
    base = history.next_id
    events = sorted((e for r in records.values() for e in r.get("events", [])), key=lambda e: e["id"])
    mapping: dict[int, int] = {}
    for event in events:
        mapping[event["id"]] = history.next_id
        history.next_id += 1
    known = sorted(mapping)

    def remap(old: Any) -> Any:
        if not isinstance(old, int) or old < base:
            return old
        if old in mapping:
            return mapping[old]
        at = bisect.bisect(known, old)  # an event of a lost unit: follow the kept event before it
        return mapping[known[at - 1]] if at else base - 1

    renumbered: dict[int, dict[str, Any]] = {}
    new_events: dict[int, dict[str, Any]] = {}
    for event in events:
        new_events[event["id"]] = dict(event, id=mapping[event["id"]], previousEventId=remap(event["previousEventId"]))
    history.events.extend(new_events[e["id"]] for e in events)
    for index, record in records.items():
        out = dict(record, events=[new_events[e["id"]] for e in record.get("events", [])])
        for key in ("last", "end"):
            if key in out:
                out[key] = remap(out[key])
        if "position" in out:
            position = dict(out["position"], lane=remap(out["position"]["lane"]))
            if position.get("resume"):
                position["resume"] = dict(position["resume"], entered=remap(position["resume"].get("entered")))
            out["position"] = position
        renumbered[index] = out
    return renumbered
