"""Calling a pipe's enrichment and target through the services' own operations (`Platform.call`),
and API destinations through EventBridge's `API_DESTINATIONS` port (runtime/ports.py).

Targets with a batch API (SQS, SNS, event buses, Kinesis, CloudWatch Logs) get the events through
it, in order; Lambda and Step Functions get the whole batch as one JSON array (AWS: "the batch is
converted to a JSON array"); API destinations are called once per event. An enrichment's answer
becomes the events the target receives: an array is a batch, anything else one event, nothing none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.ports import API_DESTINATIONS, ApiDestinationCalls
from eventyard.services.pipes.config import Arn, parse_arn, target_kind
from eventyard.services.pipes.templates import as_text, dynamic
from eventyard.services.sources.records import failed_identifiers


class StageFailed(Exception):
    """The enrichment or target failed as a whole; the batch is retried (or redriven) as AWS does."""


@dataclass
class Outcome:
    """A target call that did not fail as a whole: which events (by index) or source items (by the
    identifiers a Lambda or Step Functions target reported in `batchItemFailures`) failed."""

    failed_indices: set[int] = field(default_factory=set)
    failed_ids: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.failed_indices and not self.failed_ids


def _arn(text: str) -> Arn:
    arn = parse_arn(text)
    assert arn is not None  # checked when the pipe was created
    return arn


def _events_from(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _json(payload: bytes | str) -> Any:
    try:
        return json.loads(payload) if payload else None
    except ValueError:
        return payload.decode() if isinstance(payload, bytes) else payload


class Caller:
    """One pipe's calls to its enrichment and target."""

    def __init__(self, platform: Any, pipe: dict[str, Any], identifiers: list[str]) -> None:
        self.platform = platform
        self.pipe = pipe
        self.identifiers = identifiers  # the source items behind the current batch
        # The events before the stage's input template: dynamic (`$.`) parameters read these.
        self.originals: list[Any] = []
        self._destinations: ApiDestinationCalls | None = None  # EventBridge's, for this batch
        self.trace: str | None = None  # the X-Amzn-Trace-Id the enrichment and the target receive

    def _dynamic(self, value: Any, index: int, event: Any) -> Any:
        """A `$.path` parameter, read from the event as it was before the input template."""
        return dynamic(value, self.originals[index] if index < len(self.originals) else event)

    async def call(self, service: str, operation: str, params: dict[str, Any], arn: Arn) -> dict[str, Any]:
        try:
            return await self.platform.call(service, operation, params, region=arn.region, account_id=arn.account,
                                            headers={"x-amzn-trace-id": self.trace} if self.trace else None)
        except AwsError as error:
            raise StageFailed(f"{error.code}: {error.message}") from error

    # -- enrichment ----------------------------------------------------------------------
    async def enrich(self, events: list[Any]) -> list[Any]:
        arn = _arn(self.pipe["Enrichment"])
        kind = target_kind(arn.text)
        if kind == "lambda":
            return _events_from(await self._lambda_sync(arn, events))
        if kind == "states":
            return _events_from(await self._express_sync(arn, events))
        parameters = (self.pipe.get("EnrichmentParameters") or {}).get("HttpParameters") or {}
        enriched: list[Any] = []
        for index, event in enumerate(events):
            enriched.extend(_events_from(await self._http(arn, parameters, event, index)))
        return enriched

    async def _lambda_sync(self, arn: Arn, events: list[Any]) -> Any:
        answer = await self.call("lambda", "Invoke", {
            "FunctionName": arn.text, "InvocationType": "RequestResponse",
            "Payload": json.dumps(events).encode()}, arn)
        payload = answer.get("Payload") or b""
        if answer.get("FunctionError"):
            raise StageFailed(f"Lambda function {arn.text} failed: {payload.decode(errors='replace')[:500]}")
        return _json(payload)

    async def _express_sync(self, arn: Arn, events: list[Any]) -> Any:
        answer = await self.call("stepfunctions", "StartSyncExecution",
                                 {"stateMachineArn": arn.text, "input": json.dumps(events)}, arn)
        if answer.get("status") != "SUCCEEDED":
            raise StageFailed(f"Execution of {arn.text} ended {answer.get('status')}: "
                              f"{answer.get('error', '')} {answer.get('cause', '')}".strip())
        return _json(answer.get("output") or "")

    async def _http(self, arn: Arn, parameters: dict[str, Any], event: Any, index: int) -> Any:
        name = arn.resource.split("/")[1]
        resolved = {
            "PathParameterValues": [str(self._dynamic(v, index, event))
                                    for v in parameters.get("PathParameterValues") or []],
            "HeaderParameters": {k: str(self._dynamic(v, index, event))
                                 for k, v in (parameters.get("HeaderParameters") or {}).items()},
            "QueryStringParameters": {k: str(self._dynamic(v, index, event))
                                      for k, v in (parameters.get("QueryStringParameters") or {}).items()},
        }
        if self._destinations is None:
            self._destinations = self.platform.ports.get(API_DESTINATIONS).calls()
        try:
            outcome = await self._destinations.invoke(arn.account, arn.region, name, resolved, as_text(event))
        except AwsError as error:  # the destination or its connection does not exist
            raise StageFailed(error.message) from error
        if not outcome.ok:
            raise StageFailed(f"API destination {arn.text} answered {outcome.status or outcome.reason}")
        return _json(outcome.body)

    # -- target --------------------------------------------------------------------------
    async def deliver(self, events: list[Any]) -> Outcome:
        arn = _arn(self.pipe["Target"])
        kind = target_kind(arn.text)
        parameters = self.pipe.get("TargetParameters") or {}
        if kind in {"lambda", "states"}:
            return await self._to_function(kind, arn, parameters, events)
        sender = {"sqs": self._to_queue, "sns": self._to_topic, "event-bus": self._to_bus,
                  "kinesis": self._to_stream, "logs": self._to_logs, "api-destination": self._to_api}[kind]
        return await sender(arn, parameters, events)

    async def _to_function(self, kind: str, arn: Arn, parameters: dict[str, Any], events: list[Any]) -> Outcome:
        own = parameters.get("LambdaFunctionParameters" if kind == "lambda" else "StepFunctionStateMachineParameters")
        invocation = (own or {}).get("InvocationType", "REQUEST_RESPONSE")
        if invocation == "FIRE_AND_FORGET":
            if kind == "lambda":
                await self.call("lambda", "Invoke", {"FunctionName": arn.text, "InvocationType": "Event",
                                                     "Payload": json.dumps(events).encode()}, arn)
            else:
                await self.call("stepfunctions", "StartExecution",
                                {"stateMachineArn": arn.text, "input": json.dumps(events)}, arn)
            return Outcome()
        answer = await (self._lambda_sync(arn, events) if kind == "lambda" else self._express_sync(arn, events))
        failed = failed_identifiers(json.dumps(answer).encode(), self.identifiers) if isinstance(answer, dict) else set()
        return Outcome(failed_ids=failed)

    async def _to_queue(self, arn: Arn, parameters: dict[str, Any], events: list[Any]) -> Outcome:
        own = parameters.get("SqsQueueParameters") or {}
        url = f"{self.platform.settings.public_url}/{arn.account}/{arn.resource}"
        outcome = Outcome()
        for start in range(0, len(events), 10):
            entries = []
            for index, event in enumerate(events[start:start + 10], start):
                entry: dict[str, Any] = {"Id": str(index), "MessageBody": as_text(event)}
                for key in ("MessageGroupId", "MessageDeduplicationId"):
                    if own.get(key):
                        entry[key] = str(self._dynamic(own[key], index, event))
                entries.append(entry)
            answer = await self.call("sqs", "SendMessageBatch", {"QueueUrl": url, "Entries": entries}, arn)
            outcome.failed_indices |= {int(f["Id"]) for f in answer.get("Failed") or []}
        return outcome

    async def _to_topic(self, arn: Arn, parameters: dict[str, Any], events: list[Any]) -> Outcome:
        outcome = Outcome()
        for start in range(0, len(events), 10):
            entries = [{"Id": str(i), "Message": as_text(e)} for i, e in enumerate(events[start:start + 10], start)]
            answer = await self.call("sns", "PublishBatch", {"TopicArn": arn.text,
                                                             "PublishBatchRequestEntries": entries}, arn)
            outcome.failed_indices |= {int(f["Id"]) for f in answer.get("Failed") or []}
        return outcome

    async def _to_bus(self, arn: Arn, parameters: dict[str, Any], events: list[Any]) -> Outcome:
        own = parameters.get("EventBridgeEventBusParameters") or {}
        source_service = _arn(self.pipe["Source"]).service
        outcome = Outcome()
        for start in range(0, len(events), 10):
            entries = []
            for index, event in enumerate(events[start:start + 10], start):
                entry: dict[str, Any] = {
                    "EventBusName": arn.text, "Detail": as_text(event),
                    # AWS's defaults: the pipe is the source, the source's service the detail type.
                    "Source": str(self._dynamic(own.get("Source"), index, event) or f"Pipe {self.pipe['Name']}"),
                    "DetailType": str(self._dynamic(own.get("DetailType"), index, event)
                                      or f"Event from aws:{source_service}"),
                }
                if own.get("Resources"):
                    entry["Resources"] = [str(self._dynamic(r, index, event)) for r in own["Resources"]]
                when = _timestamp(self._dynamic(own.get("Time"), index, event))
                if when is not None:
                    entry["Time"] = when
                entries.append(entry)
            answer = await self.call("events", "PutEvents", {"Entries": entries}, arn)
            outcome.failed_indices |= {start + i for i, r in enumerate(answer.get("Entries") or []) if "ErrorCode" in r}
        return outcome

    async def _to_stream(self, arn: Arn, parameters: dict[str, Any], events: list[Any]) -> Outcome:
        key = (parameters.get("KinesisStreamParameters") or {}).get("PartitionKey", "")
        outcome = Outcome()
        for start in range(0, len(events), 500):
            records = [{"Data": as_text(e).encode(), "PartitionKey": str(self._dynamic(key, i, e)) or "-"}
                       for i, e in enumerate(events[start:start + 500], start)]
            answer = await self.call("kinesis", "PutRecords", {"StreamARN": arn.text, "Records": records}, arn)
            outcome.failed_indices |= {start + i for i, r in enumerate(answer.get("Records") or []) if r.get("ErrorCode")}
        return outcome

    async def _to_logs(self, arn: Arn, parameters: dict[str, Any], events: list[Any]) -> Outcome:
        own = parameters.get("CloudWatchLogsParameters") or {}
        group = arn.resource.split(":")[1]
        stream = own.get("LogStreamName") or self.pipe["Name"]
        try:
            await self.platform.call("logs", "CreateLogStream", {"logGroupName": group, "logStreamName": stream},
                                     region=arn.region, account_id=arn.account)
        except AwsError as error:
            if error.code != "ResourceAlreadyExistsException":
                raise StageFailed(f"{error.code}: {error.message}") from error
        now_ms = int(self.platform.clock.now() * 1000)
        entries = []
        for index, event in enumerate(events):
            stamp = _timestamp(self._dynamic(own.get("Timestamp"), index, event))
            entries.append({"timestamp": int(stamp * 1000) if stamp is not None else now_ms, "message": as_text(event)})
        await self.call("logs", "PutLogEvents", {"logGroupName": group, "logStreamName": stream,
                                                 "logEvents": entries}, arn)
        return Outcome()

    async def _to_api(self, arn: Arn, parameters: dict[str, Any], events: list[Any]) -> Outcome:
        http = parameters.get("HttpParameters") or {}
        outcome = Outcome()
        for index, event in enumerate(events):
            try:
                await self._http(arn, http, event, index)
            except StageFailed:
                outcome.failed_indices.add(index)
        return outcome


def _timestamp(value: Any) -> float | None:
    """A Time/Timestamp parameter's value: epoch seconds or milliseconds, or ISO 8601 text."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value) / 1000 if value > 1e11 else float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
