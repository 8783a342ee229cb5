"""SQS pages: queues with live depths; one queue's attributes, messages (peeked, not received),
send, purge, its DLQ sources and a one-click redrive (StartMessageMoveTask) with progress."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from eventyard.console.links import arn_parts
from eventyard.console.pages import inventory
from eventyard.console.paging import paginate
from eventyard.console.routing import Routes
from eventyard.console.web import ConsoleRequest, console_url, redirect
from eventyard.protocol.base import HttpResponse
from eventyard.protocol.errors import AwsError

if TYPE_CHECKING:
    from eventyard.console.console import Console

routes = Routes()
DEPTH_ATTRIBUTES = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed"]


def _queue(request: ConsoleRequest) -> tuple[str, str, str]:
    """(arn, region, name) of the queue a request names by ARN."""
    arn = request.arg("arn")
    parts = arn_parts(arn)
    if parts is None or parts[0] != "sqs":
        raise AwsError("InvalidParameterValue", f"Value {arn} for parameter arn is not a queue ARN.")
    return arn, parts[1], parts[3]


async def _url(console: Console, request: ConsoleRequest, arn: str) -> str:
    _, region, account, name = arn_parts(arn) or ("", "", "", "")
    found = await console.call(request, "sqs", "GetQueueUrl", {"QueueName": name, "QueueOwnerAWSAccountId": account},
                               region)
    return str(found["QueueUrl"])


@routes.get("sqs")
async def queues(console: Console, request: ConsoleRequest) -> HttpResponse:
    summaries = await console.provider("sqs").queue_summaries(request.account_id, request.region)
    dead_letter_targets = {s.dead_letter_target_arn for s in summaries if s.dead_letter_target_arn}
    page = paginate(summaries, request, lambda s: s.key.name)


    async def row(summary: Any) -> dict[str, Any]:
        url = await _url(console, request, summary.key.arn)
        attributes = (await console.call(request, "sqs", "GetQueueAttributes",
                                         {"QueueUrl": url, "AttributeNames": DEPTH_ATTRIBUTES}))["Attributes"]
        return {"summary": summary, "attributes": attributes, "is_dlq": summary.key.arn in dead_letter_targets}

    # Live numbers only for the rows shown, asked at once (one group commit), so the page stays bounded.
    rows = await asyncio.gather(*(row(summary) for summary in page.rows))
    return console.render(request, "sqs_queues.html", title="SQS queues", page=page, rows=rows)


@routes.get("sqs/queue")
async def queue(console: Console, request: ConsoleRequest) -> HttpResponse:
    arn, region, name = _queue(request)
    url = await _url(console, request, arn)
    attributes = (await console.call(request, "sqs", "GetQueueAttributes",
                                     {"QueueUrl": url, "AttributeNames": ["All"]}, region))["Attributes"]
    tags = (await console.call(request, "sqs", "ListQueueTags", {"QueueUrl": url}, region)).get("Tags", {})
    sources = await console.collect(request, "sqs", "ListDeadLetterSourceQueues", "queueUrls", {"QueueUrl": url},
                                    region=region)
    return console.render(request, "sqs_queue.html", title=name, arn=arn, queue_url=url, name=name,
                          attributes=attributes, tags=tags, sources=[_arn_of(u, region) for u in sources],
                          redrive_policy=attributes.get("RedrivePolicy"), **await _live_parts(console, request, arn))


async def _live_parts(console: Console, request: ConsoleRequest, arn: str) -> dict[str, Any]:
    _, region, account, name = arn_parts(arn) or ("", request.region, request.account_id, "")
    state = await inventory.queue_state(console, request, arn)
    if state is None:
        raise AwsError("AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
    moves: list[dict[str, Any]] = []
    try:
        moves = (await console.call(request, "sqs", "ListMessageMoveTasks",
                                    {"SourceArn": arn, "MaxResults": 10}, region)).get("Results", [])
    except AwsError:
        pass
    messages = await console.provider("sqs").peek_messages(account, region, name, request.int_arg("peek", 10, 1, 100))
    return {"state": state, "moves": moves, "messages": messages, "now": console.now()}


@routes.get("sqs/queue/live")
async def queue_live(console: Console, request: ConsoleRequest) -> HttpResponse:
    arn, _, _ = _queue(request)
    return console.render(request, "fragments/sqs_live.html", arn=arn, **await _live_parts(console, request, arn))


@routes.post("sqs/send")
async def send(console: Console, request: ConsoleRequest) -> HttpResponse:
    arn, region, name = _queue(request)
    params: dict[str, Any] = {"QueueUrl": await _url(console, request, arn), "MessageBody": request.form.get("body", "")}
    if request.form.get("group_id"):
        params["MessageGroupId"] = request.form["group_id"]
    if request.form.get("dedup_id"):
        params["MessageDeduplicationId"] = request.form["dedup_id"]
    return await _act(console, request, arn, "SendMessage", params, region, "Message sent: {MessageId}")


@routes.post("sqs/purge")
async def purge(console: Console, request: ConsoleRequest) -> HttpResponse:
    arn, region, _ = _queue(request)
    return await _act(console, request, arn, "PurgeQueue", {"QueueUrl": await _url(console, request, arn)}, region,
                      "Purge requested.")


@routes.post("sqs/redrive")
async def redrive(console: Console, request: ConsoleRequest) -> HttpResponse:
    """Move a DLQ's messages back to their source queues (or to one chosen destination)."""
    arn, region, _ = _queue(request)
    params = {"SourceArn": arn}
    if request.form.get("destination"):
        params["DestinationArn"] = request.form["destination"]
    return await _act(console, request, arn, "StartMessageMoveTask", params, region, "Redrive started.")


@routes.post("sqs/redrive/cancel")
async def cancel_redrive(console: Console, request: ConsoleRequest) -> HttpResponse:
    arn, region, _ = _queue(request)
    return await _act(console, request, arn, "CancelMessageMoveTask", {"TaskHandle": request.form.get("task", "")},
                      region, "Redrive cancelled after {ApproximateNumberOfMessagesMoved} messages.")


async def _act(console: Console, request: ConsoleRequest, arn: str, operation: str, params: dict[str, Any],
               region: str, success: str) -> HttpResponse:
    """Run one action and go back to the queue's page saying how it went (post/redirect/get)."""
    try:
        result = await console.call(request, "sqs", operation, params, region)
    except AwsError as error:
        return redirect(console_url("sqs/queue", arn=arn, error=f"{error.code}: {error.message}"))
    return redirect(console_url("sqs/queue", arn=arn, notice=success.format(**result)))


def _arn_of(url: str, region: str) -> str:
    account, name = url.rstrip("/").split("/")[-2:]
    return f"arn:aws:sqs:{region}:{account}:{quote(name, safe='.-_')}"
