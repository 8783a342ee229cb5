"""Subscription filters: matching log events delivered to a Lambda function or a Kinesis stream.

AWS's payload is gzipped JSON (`messageType` DATA_MESSAGE, `owner`, `logGroup`, `logStream`,
`subscriptionFilters`, `logEvents` of id/timestamp/message, and `extractedFields` for space-delimited
patterns); a function receives it base64-encoded as `{"awslogs": {"data": ...}}` through an
asynchronous invoke, a stream as the record's data. The events a PutLogEvents stored are matched in
that same transaction, which also writes one durable timer per filter (`ingest.py`): delivery is at
least once, retried with backoff, and survives a crash.

On creation AWS checks the destination: a function must allow CloudWatch Logs to invoke it (a
resource policy for `logs.amazonaws.com`), a stream must be ACTIVE and receives AWS's
CONTROL_MESSAGE. Destinations of services Eventyard does not serve (Firehose) fail that check with
AWS's words. Before any lookup, a stream destination needs `roleArn` and another account's function
is refused (AWS reaches those through a logs destination), as recorded.
"""

from __future__ import annotations

import base64
import fnmatch
import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime import timers
from eventyard.runtime.ids import new_uuid
from eventyard.runtime.timers import RetryPolicy, Timer
from eventyard.services.logs import metrics as log_metrics
from eventyard.services.logs.filter_patterns import FilterPattern, compile_filter_pattern
from eventyard.storage import Connection, Row

if TYPE_CHECKING:
    from eventyard.server.platform import Platform

TIMER_KIND = "logs:subscription"
RETRY = RetryPolicy(max_attempts=12, base_delay=1.0, multiplier=2.0, max_delay=300.0)
MAX_FILTERS_PER_GROUP = 2
MAX_BATCH_BYTES = 128 * 1024  # raw message bytes per delivery: gzip+base64 stays inside Lambda's 256 KB async limit
PATTERN_ERROR = "Invalid subscription filter pattern"
LAMBDA_REFUSED = ("Could not execute the lambda function. Make sure you have given CloudWatch Logs permission "
                  "to execute your function.")
KINESIS_REFUSED = ("Could not deliver test message to specified Kinesis stream. Check if the given kinesis stream "
                   "is in ACTIVE state.")
FIREHOSE_REFUSED = ("Could not deliver test message to specified Firehose stream. Check if the given Firehose "
                    "stream is in ACTIVE state.")
CONTROL_TEXT = "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."
CROSS_ACCOUNT_LAMBDA = ("Cross-account lambda invocation passing is not allowed. You must use DestinationPolicies to "
                        "create cross account lambda triggers.")
NOT_FOUND = "The specified subscription filter does not exist."


def compiled(pattern: str) -> FilterPattern:
    return compile_filter_pattern(pattern, PATTERN_ERROR)


@dataclass(frozen=True)
class Destination:
    kind: str  # lambda | kinesis
    arn: str
    region: str
    account_id: str


def parse_destination(arn: str) -> Destination:
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        raise AwsError("InvalidParameterException", f"Invalid destination ARN: {arn}")
    service, region, account, resource = parts[2], parts[3], parts[4], parts[5]
    if service == "lambda" and resource.startswith("function:"):
        return Destination("lambda", arn, region, account)
    if service == "kinesis" and resource.startswith("stream/"):
        return Destination("kinesis", arn, region, account)
    if service == "firehose":
        raise AwsError("InvalidParameterException", FIREHOSE_REFUSED)
    if service == "logs" and resource.startswith("destination:"):
        raise AwsError("ResourceNotFoundException", "The specified destination does not exist.")
    raise AwsError("InvalidParameterException", f"Invalid destination ARN: {arn}")


def admit_destination(arn: str, role_arn: str | None, account_id: str) -> Destination:
    """The destination checks that need no lookup. AWS makes them before it looks for the log group
    (recorded: another account's function is refused even for a missing group)."""
    vendor = arn.split(":", 3)[2] if arn.count(":") >= 3 else ""
    if vendor in {"kinesis", "firehose"} and not role_arn:
        raise AwsError("InvalidParameterException", f"destinationArn for vendor {vendor} cannot be used without roleArn")
    destination = parse_destination(arn)
    if destination.kind == "lambda" and destination.account_id != account_id:
        # Another account's function is reached only through a logs destination (PutDestination).
        raise AwsError("AccessDeniedException", CROSS_ACCOUNT_LAMBDA)
    return destination


async def check_destination(platform: Platform, destination: Destination, group_arn: str, now: float) -> None:
    """AWS's test of a new subscription's destination (raises its error when the test fails)."""
    if destination.kind == "lambda":
        await _check_invoke_permission(platform, destination, group_arn)
        return
    try:
        described = await platform.call("kinesis", "DescribeStreamSummary", {"StreamARN": destination.arn},
                                        region=destination.region, account_id=destination.account_id)
        if described["StreamDescriptionSummary"]["StreamStatus"] not in {"ACTIVE", "UPDATING"}:
            raise AwsError("InvalidParameterException", KINESIS_REFUSED)
        control = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
                   "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": int(now * 1000),
                                                             "message": CONTROL_TEXT}]}
        await platform.call("kinesis", "PutRecord", {"StreamARN": destination.arn, "Data": encode(control),
                                                     "PartitionKey": new_uuid()},
                            region=destination.region, account_id=destination.account_id)
    except AwsError as error:
        if error.message == KINESIS_REFUSED:
            raise
        raise AwsError("InvalidParameterException", KINESIS_REFUSED) from error


async def _check_invoke_permission(platform: Platform, destination: Destination, group_arn: str) -> None:
    try:
        found = await platform.call("lambda", "GetPolicy", {"FunctionName": destination.arn},
                                    region=destination.region, account_id=destination.account_id)
    except AwsError as error:
        raise AwsError("InvalidParameterException", LAMBDA_REFUSED) from error
    statements = json.loads(found["Policy"]).get("Statement", [])
    if not any(_allows_logs(statement, destination.region, group_arn) for statement in statements):
        raise AwsError("InvalidParameterException", LAMBDA_REFUSED)


def _allows_logs(statement: dict[str, Any], region: str, group_arn: str) -> bool:
    principal = (statement.get("Principal") or {}).get("Service") if isinstance(statement.get("Principal"), dict) \
        else statement.get("Principal")
    if principal not in {"logs.amazonaws.com", f"logs.{region}.amazonaws.com", "*"}:
        return False
    if statement.get("Effect") != "Allow" or statement.get("Action") not in {"lambda:InvokeFunction", "lambda:*"}:
        return False
    source = ((statement.get("Condition") or {}).get("ArnLike") or {}).get("AWS:SourceArn")
    return source is None or any(fnmatch.fnmatchcase(arn, source) for arn in (group_arn, f"{group_arn}:*"))


# -- storage -----------------------------------------------------------------------------------
def put(conn: Connection, group_id: int, params: dict[str, Any], now: float) -> None:
    name = params["filterName"]
    existing = conn.execute("SELECT id FROM logs_subscription_filters WHERE group_id=? AND name=?",
                            (group_id, name)).fetchone()
    if existing is None:
        count = conn.execute("SELECT COUNT(*) FROM logs_subscription_filters WHERE group_id=?",
                             (group_id,)).fetchone()[0]
        if count >= MAX_FILTERS_PER_GROUP:
            raise AwsError("LimitExceededException", "Resource limit exceeded.")
    options = {k: params[k] for k in ("applyOnTransformedLogs", "fieldSelectionCriteria", "emitSystemFields")
               if k in params}
    conn.execute(
        "INSERT INTO logs_subscription_filters (group_id, name, pattern, destination_arn, role_arn, distribution,"
        " options, created_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (group_id, name) DO UPDATE SET"
        " pattern = excluded.pattern, destination_arn = excluded.destination_arn, role_arn = excluded.role_arn,"
        " distribution = excluded.distribution, options = excluded.options",
        (group_id, name, params["filterPattern"], params["destinationArn"], params.get("roleArn"),
         params.get("distribution") or "ByLogStream", json.dumps(options), now))


def delete(conn: Connection, group_id: int, name: str) -> None:
    if conn.execute("DELETE FROM logs_subscription_filters WHERE group_id=? AND name=?",
                    (group_id, name)).rowcount == 0:
        raise AwsError("ResourceNotFoundException", NOT_FOUND)


def describe(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {"filterName": row["name"], "logGroupName": row["group_name"],
                           "filterPattern": row["pattern"], "destinationArn": row["destination_arn"],
                           "distribution": row["distribution"], "creationTime": int(row["created_at"] * 1000)}
    if row["role_arn"]:
        out["roleArn"] = row["role_arn"]
    out.update(json.loads(row["options"]))
    out.setdefault("applyOnTransformedLogs", False)
    return out


# -- matching and delivery ---------------------------------------------------------------------
@dataclass(frozen=True)
class ActiveSubscription:
    id: int
    name: str
    pattern: FilterPattern
    destination: str
    distribution: str


def schedule(conn: Connection, subscription: ActiveSubscription, account_id: str, region: str, group: str,
             stream: str, events: Sequence[tuple[int, int, str]], now: float) -> int:
    """Write the delivery timers of the events ((id, timestamp, message)) that match, in the caller's
    transaction; answers how many were written."""
    matched: list[dict[str, Any]] = []
    for event_id, timestamp, message in events:
        found = subscription.pattern.match(message)
        if found is None:
            continue
        event: dict[str, Any] = {"id": f"{event_id:056d}", "timestamp": timestamp, "message": message}
        if subscription.pattern.kind == "delimited":
            event["extractedFields"] = {name[1:]: value for name, value in found.values.items()}
        matched.append(event)
    written = 0
    for batch in _batches(matched):
        timers.schedule(conn, TIMER_KIND, {
            "subscription_id": subscription.id, "filter": subscription.name, "destination": subscription.destination,
            "distribution": subscription.distribution, "account_id": account_id, "region": region, "group": group,
            "stream": stream, "events": batch}, now, now)
        written += 1
    return written


def _batches(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    batches: list[list[dict[str, Any]]] = []
    size = MAX_BATCH_BYTES
    for event in events:
        length = len(event["message"].encode()) + 100
        if size + length > MAX_BATCH_BYTES and (not batches or batches[-1]):
            batches.append([])
            size = 0
        batches[-1].append(event)
        size += length
    return batches


def encode(message: dict[str, Any]) -> bytes:
    return gzip.compress(json.dumps(message, separators=(",", ":")).encode())


def data_message(payload: dict[str, Any]) -> dict[str, Any]:
    return {"messageType": "DATA_MESSAGE", "owner": payload["account_id"], "logGroup": payload["group"],
            "logStream": payload["stream"], "subscriptionFilters": [payload["filter"]],
            "logEvents": payload["events"]}


async def deliver(platform: Platform, timer: Timer) -> None:
    """The timer handler: send one batch to its destination (a failure raises and is retried)."""
    payload = timer.payload
    current = await platform.db.read(lambda conn: conn.execute(
        "SELECT destination_arn FROM logs_subscription_filters WHERE id=?", (payload["subscription_id"],)).fetchone())
    if current is None or current["destination_arn"] != payload["destination"]:
        return  # the filter was deleted or now sends elsewhere
    destination = parse_destination(payload["destination"])
    data = encode(data_message(payload))
    where = (platform.metrics, payload["account_id"], payload["region"], payload["group"], payload["filter"],
             destination.kind, len(payload["events"]))
    try:
        await _send(platform, destination, payload, data)
    except AwsError as error:
        log_metrics.refused(*where, error.code)
        raise
    log_metrics.forwarded(*where, len(data))


async def _send(platform: Platform, destination: Destination, payload: dict[str, Any], data: bytes) -> None:
    if destination.kind == "lambda":
        body = json.dumps({"awslogs": {"data": base64.b64encode(data).decode()}}).encode()
        await platform.call("lambda", "Invoke", {"FunctionName": destination.arn, "InvocationType": "Event",
                                                 "Payload": body},
                            region=destination.region, account_id=destination.account_id)
        return
    key = payload["stream"] if payload["distribution"] == "ByLogStream" else new_uuid()
    await platform.call("kinesis", "PutRecord", {"StreamARN": destination.arn, "Data": data, "PartitionKey": key},
                        region=destination.region, account_id=destination.account_id)
