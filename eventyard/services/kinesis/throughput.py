"""Per-shard write limits of provisioned streams (1,000 records and 1 MiB per second), opt-in.

AWS rejects writes past a shard's limits record by record: PutRecords answers them with
`ProvisionedThroughputExceededException` entries, PutRecord with that error. Local tests usually
want no throttling, so this is on only with EVENTYARD_KINESIS_ENFORCE_THROUGHPUT=1. The windows are
in memory (limits are about rate, not state) and touched only by the storage writer thread.
"""

from __future__ import annotations

RECORDS_PER_SECOND = 1000
BYTES_PER_SECOND = 1024 * 1024


class ShardThroughput:
    def __init__(self) -> None:
        self._windows: dict[int, tuple[int, int, int]] = {}  # shard row id -> (second, records, bytes)

    def admit(self, shard_row_id: int, size: int, now: float) -> bool:
        second = int(now)
        window = self._windows.get(shard_row_id)
        if window is None or window[0] != second:
            window = (second, 0, 0)
        if window[1] + 1 > RECORDS_PER_SECOND or window[2] + size > BYTES_PER_SECOND:
            self._windows[shard_row_id] = window
            return False
        self._windows[shard_row_id] = (second, window[1] + 1, window[2] + size)
        return True
