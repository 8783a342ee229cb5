"""`aws logs tail --follow` (an AWS CLI v2 command, not on PyPI) is a loop over FilterLogEvents:
interleaved events from every stream in timestamp order, paged by nextToken, then polled again
from the last timestamp seen (inclusive) with already-printed eventIds skipped. The loop is
reproduced here with boto3, and each of its server-side guarantees is checked."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ServerProcess


class Follower:
    """What `aws logs tail --follow` does between its prints."""

    def __init__(self, logs: Any, group: str, start_ms: int, page_size: int) -> None:
        self.logs, self.group, self.start, self.page_size = logs, group, start_ms, page_size
        self.seen: set[str] = set()

    def poll(self) -> Iterator[dict[str, Any]]:
        """One round: every page from the last timestamp seen, new events only."""
        token = None
        while True:
            kwargs: dict[str, Any] = {"logGroupName": self.group, "startTime": self.start, "interleaved": True,
                                      "limit": self.page_size}
            if token:
                kwargs["nextToken"] = token
            page = self.logs.filter_log_events(**kwargs)
            for event in page["events"]:
                if event["eventId"] not in self.seen:
                    self.seen.add(event["eventId"])
                    self.start = max(self.start, event["timestamp"])
                    yield event
            token = page.get("nextToken")
            if not token:
                return


@pytest.fixture
def log_group(server: ServerProcess, unique: str) -> str:
    logs = server.client("logs")
    logs.create_log_group(logGroupName=f"/tail/{unique}")
    for stream in ("a", "b"):
        logs.create_log_stream(logGroupName=f"/tail/{unique}", logStreamName=stream)
    return f"/tail/{unique}"


def put(logs: Any, group: str, stream: str, events: list[tuple[int, str]]) -> None:
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": t, "message": m} for t, m in events])


def test_the_follow_loop_prints_every_event_once_in_order(server: ServerProcess, log_group: str) -> None:
    logs = server.client("logs")
    base = int(time.time() * 1000)  # PutLogEvents skips events older than 14 days
    put(logs, log_group, "a", [(base + 1, "a1"), (base + 3, "a3"), (base + 5, "a5")])
    put(logs, log_group, "b", [(base + 2, "b2"), (base + 3, "b3"), (base + 6, "b6")])
    follower = Follower(logs, log_group, base, page_size=2)  # small pages: nextToken carries the loop
    first = list(follower.poll())
    assert [e["message"] for e in first] == ["a1", "b2", "a3", "b3", "a5", "b6"] or \
        [e["message"] for e in first] == ["a1", "b2", "b3", "a3", "a5", "b6"]
    assert [e["timestamp"] for e in first] == sorted(e["timestamp"] for e in first)
    assert {e["logStreamName"] for e in first} == {"a", "b"} and all(e["ingestionTime"] for e in first)
    assert list(follower.poll()) == []  # nothing new: the last timestamp is read again, its ids skipped

    # Later writes, one at the very timestamp the follower stopped at (startTime is inclusive).
    put(logs, log_group, "a", [(base + 6, "a6"), (base + 9, "a9")])
    put(logs, log_group, "b", [(base + 7, "b7")])
    assert [e["message"] for e in follower.poll()] == ["a6", "b7", "a9"]
    assert list(follower.poll()) == []


def test_start_time_is_inclusive(server: ServerProcess, log_group: str) -> None:
    """FilterLogEvents: "Events with a timestamp before this time are not returned"; at it, they are."""
    logs = server.client("logs")
    base = int(time.time() * 1000) + 100_000
    put(logs, log_group, "a", [(base - 1, "before"), (base, "at-start"), (base + 10, "after")])
    found = logs.filter_log_events(logGroupName=log_group, startTime=base)["events"]
    assert [e["message"] for e in found] == ["at-start", "after"]
