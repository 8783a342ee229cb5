"""Per-shard write limits of provisioned streams (1,000 records and 1 MiB per second), opt-in.

AWS rejects writes past a shard's limits record by record: PutRecords answers them with
`ProvisionedThroughputExceededException` entries, PutRecord with that error. Local tests usually
want no throttling, so this is on only with EVENTYARD_KINESIS_ENFORCE_THROUGHPUT=1. The windows are
in memory (limits are about rate, not state), so with several nodes each node counts its own
writes: N nodes admit up to N times a shard's limit (docs/deployment.md). A write admitted inside a
transaction that then rolls back (or is retried) gives its share back.
"""

from __future__ import annotations

import threading

from eventyard.storage import Connection

RECORDS_PER_SECOND = 1000
BYTES_PER_SECOND = 1024 * 1024


class ShardThroughput:
    def __init__(self) -> None:
        self._windows: dict[int, tuple[int, int, int]] = {}  # shard row id -> (second, records, bytes)
        self._lock = threading.Lock()  # PostgreSQL runs writes on several threads

    def admit(self, conn: Connection, shard_row_id: int, size: int, now: float) -> bool:
        second = int(now)
        with self._lock:
            window = self._windows.get(shard_row_id)
            if window is None or window[0] != second:
                window = (second, 0, 0)
            if window[1] + 1 > RECORDS_PER_SECOND or window[2] + size > BYTES_PER_SECOND:
                self._windows[shard_row_id] = window
                return False
            self._windows[shard_row_id] = (second, window[1] + 1, window[2] + size)
        conn.on_rollback(lambda: self._give_back(shard_row_id, second, size))
        return True

    def _give_back(self, shard_row_id: int, second: int, size: int) -> None:
        with self._lock:
            window = self._windows.get(shard_row_id)
            if window is not None and window[0] == second:
                self._windows[shard_row_id] = (second, max(0, window[1] - 1), max(0, window[2] - size))
