"""CloudWatch Logs as Lambda's log agent writes to it (the LOG_AGENT port, runtime/ports.py): groups
and streams made on first use, no PutLogEvents limits, embedded-metric-format lines read as metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from eventyard.runtime.ports import LOG_AGENT, AgentLogs
from eventyard.services.logs import metrics as log_metrics
from eventyard.services.logs import store
from eventyard.storage import Connection

if TYPE_CHECKING:
    from eventyard.server.platform import Platform


class LogAgent:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def received(self, logs: AgentLogs) -> None:
        log_metrics.ingested(self.platform.metrics, logs.account_id, logs.region, logs.group, logs.lines,
                             emf_format=True)

    def append(self, conn: Connection, batch: Sequence[AgentLogs], now: float) -> None:
        for logs in batch:
            store.append(conn, logs.account_id, logs.region, logs.group, logs.stream, logs.lines, now)


def provide(platform: Platform) -> None:
    platform.ports.provide(LOG_AGENT, LogAgent(platform))
