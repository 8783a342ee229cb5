"""A pipe's execution log, written to the CloudWatch Logs group of its LogConfiguration.

Each execution (one batch through the pipe) gathers its records and writes them with one
PutLogEvents call into a stream named after the pipe. A record is written when the pipe's Level
includes it (ERROR < INFO < TRACE); IncludeExecutionData ["ALL"] adds the payloads.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.ids import new_uuid

log = logging.getLogger(__name__)
RANKS = {"OFF": 0, "ERROR": 1, "INFO": 2, "TRACE": 3}
LEVELS = {
    "ExecutionStarted": "INFO", "ExecutionSucceeded": "INFO", "ExecutionFailed": "ERROR",
    "ExecutionThrottled": "ERROR", "PollingStageSucceeded": "TRACE",
    "EnrichmentInvocationStarted": "TRACE", "EnrichmentInvocationSucceeded": "TRACE",
    "EnrichmentInvocationFailed": "ERROR", "EnrichmentStageSkipped": "TRACE",
    "TargetInvocationStarted": "TRACE", "TargetInvocationSucceeded": "TRACE",
    "TargetInvocationFailed": "ERROR", "TargetInvocationPartiallyFailed": "ERROR",
    "TargetStageSkipped": "TRACE",
}


class ExecutionLog:
    """The records of one execution, written at its end."""

    def __init__(self, platform: Any, pipe: dict[str, Any]) -> None:
        self.platform = platform
        self.pipe = pipe
        config = pipe.get("LogConfiguration") or {}
        self.rank = RANKS.get(config.get("Level", "OFF"), 0)
        self.group_arn = (config.get("CloudwatchLogsLogDestination") or {}).get("LogGroupArn")
        self.with_data = "ALL" in (config.get("IncludeExecutionData") or [])
        self.execution_id = new_uuid()
        self.records: list[dict[str, Any]] = []

    @property
    def enabled(self) -> bool:
        return self.rank > 0 and bool(self.group_arn)

    def add(self, message_type: str, payload: Any = None, error: str | None = None) -> None:
        level = LEVELS[message_type]
        if not self.enabled or RANKS[level] > self.rank:
            return
        record: dict[str, Any] = {"resourceArn": self.pipe["Arn"],
                                  "timestamp": int(self.platform.clock.now() * 1000),
                                  "executionId": self.execution_id, "messageType": message_type, "logLevel": level}
        if error is not None:
            record["error"] = {"message": error}
        if self.with_data and payload is not None:
            record["payload"] = payload if isinstance(payload, str) else json.dumps(payload)
        self.records.append(record)

    async def flush(self) -> None:
        if not self.records or not self.group_arn:
            return
        _, _, _, region, account, resource = self.group_arn.split(":", 5)
        group = resource.split(":")[1]
        stream = self.pipe["Name"]
        entries = [{"timestamp": r["timestamp"], "message": json.dumps(r)} for r in self.records]
        self.records = []
        try:
            try:
                await self.platform.call("logs", "CreateLogStream", {"logGroupName": group, "logStreamName": stream},
                                         region=region, account_id=account)
            except AwsError as error:
                if error.code != "ResourceAlreadyExistsException":
                    raise
            await self.platform.call("logs", "PutLogEvents", {"logGroupName": group, "logStreamName": stream,
                                                              "logEvents": entries}, region=region, account_id=account)
        except AwsError as error:  # a missing log group must not stop the pipe
            log.info("pipe %s cannot write its log to %s: %s", self.pipe["Name"], self.group_arn, error)
