"""Execution history to CloudWatch Logs, as a state machine's `loggingConfiguration` asks: the
events of its level (ALL; ERROR: failures, aborts, time-outs and Fail states; FATAL: the execution's
own failure, abort or time-out), with their input and output only when `includeExecutionData` is on.
Events are shipped in order by one background job through the Logs service's own operations; as on
AWS, delivery is best effort (a deleted log group loses them, nothing waits on them)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from eventyard.protocol.errors import AwsError
from eventyard.services.stepfunctions.metrics import HistoryMetrics

if TYPE_CHECKING:
    from eventyard.server.platform import Platform

log = logging.getLogger(__name__)

DEFAULT = {"level": "OFF", "includeExecutionData": False}
FATAL_EVENTS = frozenset({"ExecutionAborted", "ExecutionFailed", "ExecutionTimedOut"})
# What includeExecutionData=false leaves out of an event's details
DATA_FIELDS = ("input", "inputDetails", "output", "outputDetails", "parameters", "assignedVariables",
               "assignedVariablesDetails")
# AWS writes this stream when logging is configured, to check that it may deliver to the group
VALIDATION_STREAM = "log_stream_created_by_aws_to_validate_log_delivery_subscriptions"


def normalized(config: dict[str, Any] | None) -> dict[str, Any]:
    """A loggingConfiguration as DescribeStateMachine shows it (level and includeExecutionData filled in)."""
    return {**DEFAULT, **(config or {})}


def invalid(message: str) -> AwsError:
    return AwsError("InvalidLoggingConfiguration", f"Invalid Logging Configuration: {message}")


def log_group_of(config: dict[str, Any]) -> tuple[str, str, str] | None:
    """(region, account, log group name) of the configuration's destination, if it has one."""
    destinations = config.get("destinations") or []
    if len(destinations) != 1:
        return None
    arn = ((destinations[0] or {}).get("cloudWatchLogsLogGroup") or {}).get("logGroupArn") or ""
    parts = arn.split(":")
    if len(parts) < 7 or parts[:3] != ["arn", "aws", "logs"] or parts[5] != "log-group":
        return None
    return parts[3], parts[4], parts[6]


async def check(platform: Platform, config: dict[str, Any] | None) -> dict[str, Any]:
    """The configuration to store; InvalidLoggingConfiguration as AWS answers it."""
    config = normalized(config)
    destinations = config.get("destinations")
    if (config["level"] != "OFF" and len(destinations or []) != 1) or len(destinations or []) > 1:
        raise invalid("Must specify exactly one Log Destination.")
    if destinations:
        where = log_group_of(config)
        if where is None or not await _group_exists(platform, *where):
            raise invalid("Log Destination not found.")
        if config["level"] != "OFF":
            await _create_stream(platform, *where, VALIDATION_STREAM)
    return config


async def _group_exists(platform: Platform, region: str, account: str, group: str) -> bool:
    if "logs" not in platform.services:
        return False
    found = await platform.call("logs", "DescribeLogGroups", {"logGroupNamePrefix": group}, region=region,
                                account_id=account)
    return any(g.get("logGroupName") == group for g in found.get("logGroups", []))


async def _create_stream(platform: Platform, region: str, account: str, group: str, stream: str) -> None:
    try:
        await platform.call("logs", "CreateLogStream", {"logGroupName": group, "logStreamName": stream},
                            region=region, account_id=account)
    except AwsError as error:
        if error.code != "ResourceAlreadyExistsException":
            raise


def logged(level: str, event_type: str) -> bool:
    if level == "ALL":
        return True
    if level == "ERROR":
        return event_type == "FailStateEntered" or event_type.endswith(("Failed", "Aborted", "TimedOut"))
    return level == "FATAL" and event_type in FATAL_EVENTS


def record(event: dict[str, Any], execution_arn: str, redrive_count: int, with_data: bool) -> dict[str, Any]:
    """One log event's message: the history event as AWS writes it to CloudWatch Logs."""
    details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
    if not with_data:
        details = {k: v for k, v in details.items() if k not in DATA_FIELDS}
    return {"id": str(event["id"]), "type": event["type"], "details": details,
            "previous_event_id": str(event["previousEventId"]),
            "event_timestamp": str(round(event["timestamp"] * 1000)), "execution_arn": execution_arn,
            "redrive_count": str(redrive_count)}


def stream_name(machine_arn: str, created_at: float) -> str:
    """One stream per state machine and log group (AWS names them states/<machine>/<date>/<id>)."""
    day = datetime.fromtimestamp(created_at, UTC).strftime("%Y-%m-%d-%H-%M")
    return f"states/{machine_arn.split(':')[6]}/{day}/{hashlib.sha256(machine_arn.encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class LogTarget:
    """Where a state machine's executions log: its configuration, as stored, and its identity."""

    config: dict[str, Any]
    machine_arn: str
    machine_created: float

    @classmethod
    def of(cls, machine: Any) -> LogTarget:
        """From a sfn_state_machines row."""
        return cls(normalized(json.loads(machine["logging"] or "{}")), machine["arn"], machine["created_at"])


@dataclass
class Batch:
    region: str
    account: str
    group: str
    stream: str
    messages: list[tuple[int, str]]  # (timestamp in ms, message)


class ExecutionLogs:
    """The ordered, best-effort shipper of every execution's log events."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.queue: asyncio.Queue[Batch] = asyncio.Queue()
        self.streams: set[tuple[str, str, str, str]] = set()
        self.metrics = HistoryMetrics(platform.metrics)  # task metrics read the same committed events

    def start(self) -> None:
        self.platform.supervisor.job("stepfunctions:execution-logs", self._ship_forever)

    def ship(self, target: LogTarget | None, execution_arn: str, redrive_count: int,
             events: list[dict[str, Any]]) -> None:
        self.metrics.record(execution_arn, events)
        if target is None:
            return
        config = target.config
        where = log_group_of(config)
        if config["level"] == "OFF" or where is None:
            return
        with_data = bool(config.get("includeExecutionData"))
        messages = [(round(e["timestamp"] * 1000), json.dumps(record(e, execution_arn, redrive_count, with_data)))
                    for e in events if logged(config["level"], e["type"])]
        if messages:
            self.queue.put_nowait(Batch(*where, stream_name(target.machine_arn, target.machine_created), messages))

    async def _ship_forever(self) -> None:
        while True:
            batch = await self.queue.get()
            try:
                await self._ship(batch)
            except AwsError as error:  # best effort, as on AWS: a missing group loses the events
                self.streams.discard((batch.region, batch.account, batch.group, batch.stream))
                log.info("execution log events for %s/%s not delivered: %s", batch.group, batch.stream, error)

    async def _ship(self, batch: Batch) -> None:
        key = (batch.region, batch.account, batch.group, batch.stream)
        if key not in self.streams:
            await _create_stream(self.platform, *key)
            self.streams.add(key)
        events = [{"timestamp": stamp, "message": message} for stamp, message in sorted(batch.messages,
                                                                                        key=lambda m: m[0])]
        await self.platform.call("logs", "PutLogEvents", {"logGroupName": batch.group, "logStreamName": batch.stream,
                                                          "logEvents": events},
                                 region=batch.region, account_id=batch.account)
