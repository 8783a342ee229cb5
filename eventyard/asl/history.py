"""Execution history as GetExecutionHistory returns it: numbered events, each naming the event it
follows (`previousEventId`) along its own lane (an execution, a Map iteration, a Parallel branch)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Lane:
    last: int = 0
    sink: list[dict[str, Any]] | None = None  # also collects the lane's events (a Map iteration's, a branch's)


@dataclass
class History:
    clock: Callable[[], float]
    events: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 1

    def add(self, lane: Lane, type_: str, details_key: str | None = None,
            details: dict[str, Any] | None = None) -> int:
        event: dict[str, Any] = {"id": self.next_id, "previousEventId": lane.last, "timestamp": self.clock(),
                                 "type": type_}
        if details_key is not None:
            event[details_key] = details or {}
        self.events.append(event)
        if lane.sink is not None:
            lane.sink.append(event)
        lane.last = self.next_id
        self.next_id += 1
        return event["id"]


def payload_details(text: str) -> dict[str, Any]:
    return {"truncated": False}


TYPE_PREFIX = {"Pass": "Pass", "Task": "Task", "Choice": "Choice", "Wait": "Wait", "Succeed": "Succeed",
               "Fail": "Fail", "Parallel": "Parallel", "Map": "Map"}
