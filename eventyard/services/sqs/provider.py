"""SQS operations: each maps its request onto the domain modules inside one storage call."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from eventyard.protocol.errors import AwsError
from eventyard.services import paging
from eventyard.services.base import Provider, RequestContext
from eventyard.services.sqs import access, batches, inspection, listing, messages, move_tasks, trace_hops
from eventyard.services.sqs import queues as queue_store
from eventyard.services.sqs.faults import ReceiveFaults
from eventyard.services.sqs.message_attributes import (
    attributes_md5,
    attributes_size,
    select_attributes,
    validate_message_attributes,
)
from eventyard.services.sqs.messages import OutgoingMessage, ReceivedMessage
from eventyard.services.sqs.metrics import SqsMetrics
from eventyard.services.sqs.names import QueueKey, key_from_arn, key_from_url
from eventyard.services.sqs.queues import Queue
from eventyard.storage import Connection, Isolation

T = TypeVar("T")
SYSTEM_ATTRIBUTE_NAMES = {
    "All", "SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp",
    "SequenceNumber", "MessageDeduplicationId", "MessageGroupId", "AWSTraceHeader", "DeadLetterQueueSourceArn",
}
MAINTENANCE_INTERVAL = 0.2  # seconds between move-task steps; retention sweeps run every 10 s
# Long polls also re-check this often, so a clock moved by tests or a write by another node is seen.
POLL_RECHECK = 1.0
WAKE_CHANNEL = "sqs:messages"


class SqsProvider(Provider):
    unsupported_error_code = "UnsupportedOperation"

    def __init__(self, platform: Any) -> None:
        super().__init__(platform)
        self._waiters: dict[int, set[asyncio.Future[None]]] = {}
        # Whether a move task may be running: the maintenance loop only writes while one is.
        self._moving = True
        self.metrics = SqsMetrics(platform)

    # -- plumbing --------------------------------------------------------------------------
    async def authorize(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> None:
        await access.authorize(self.platform, ctx, operation, params)

    def now(self) -> float:
        return self.platform.clock.now()

    async def _on_queue(self, ctx: RequestContext, params: dict[str, Any],
                        fn: Callable[[Connection, Queue, float], T], read: bool = False, hot: bool = False) -> T:
        """`fn` on the queue in one transaction; `hot`: a send, receive or delete (see `_isolation`)."""
        key = key_from_url(params["QueueUrl"], ctx.region, ctx.account_id)
        now = self.now()

        def run(conn: Connection) -> T:
            return fn(conn, queue_store.get(conn, key), now)

        if read:  # on a read connection of its own: never queued behind writes, nor writes behind it
            return await self.platform.db.read(run)
        return await self.platform.db.write(run, isolation=_isolation(key, hot))

    def _notify(self, queue_id: int) -> None:
        """Messages may be visible in `queue_id` now: wake long polls waiting on it, on every node."""
        self.platform.db.announce(WAKE_CHANNEL, str(queue_id))

    def _wake(self, key: str | None) -> None:
        queue_ids = list(self._waiters) if key is None else [int(key)]
        for queue_id in queue_ids:
            self._wake_queue(queue_id)

    def _wake_queue(self, queue_id: int) -> None:
        for waiter in self._waiters.pop(queue_id, set()):
            if not waiter.done():
                waiter.set_result(None)

    async def _wait_for_messages(self, queue_id: int, timeout: float) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(queue_id, set()).add(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters.get(queue_id, set()).discard(waiter)

    async def start(self) -> None:
        self.platform.db.subscribe(WAKE_CHANNEL, self._wake)
        self.platform.supervisor.every("sqs:move-tasks", MAINTENANCE_INTERVAL,
                                        self.platform.leases.once("sqs:move-tasks", self._step_move_tasks))
        self.platform.supervisor.every("sqs:retention", MAINTENANCE_INTERVAL * 50,
                                        self.platform.leases.once("sqs:retention", self._sweep_expired))

    async def _step_move_tasks(self) -> None:
        if self._moving:
            now = self.now()
            moving = await self.platform.db.write(lambda conn: move_tasks.step(conn, now))
            # Another node may start a task this node (the sweep's leader) never hears of: keep looking.
            self._moving = moving or self.platform.db.shared

    async def _sweep_expired(self) -> None:
        now = self.now()
        await self.platform.db.write(lambda conn: messages.sweep_expired(conn, now))

    # -- queues ----------------------------------------------------------------------------
    async def create_queue(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = QueueKey(ctx.account_id, ctx.region, params["QueueName"])
        given = {k: str(v) for k, v in params.get("Attributes", {}).items()}
        tags = params.get("tags", {})
        now = self.now()
        await self.platform.db.write(lambda conn: queue_store.create(conn, key, given, tags, now))
        return {"QueueUrl": key.url(ctx.base_url)}

    async def get_queue_url(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = QueueKey(params.get("QueueOwnerAWSAccountId") or ctx.account_id, ctx.region, params["QueueName"])
        await self.platform.db.read(lambda conn: queue_store.get(conn, key))
        return {"QueueUrl": key.url(ctx.base_url)}

    async def delete_queue(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._on_queue(ctx, params, queue_store.delete)

    async def list_queues(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = await self.platform.db.read(lambda conn: listing.queues(
            conn, ctx.account_id, ctx.region, params.get("QueueNamePrefix", ""), params.get("NextToken"),
            params.get("MaxResults")))
        result = paging.answer(found, "QueueUrls", lambda key: key.url(ctx.base_url))
        if not result["QueueUrls"]:
            del result["QueueUrls"]  # AWS leaves the list out when nothing matches
        return result

    async def get_queue_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        names = params.get("AttributeNames") or []
        view = await self._on_queue(
            ctx, params, lambda conn, queue, now: queue_store.attributes_view(conn, queue, names, now), read=True
        )
        return {"Attributes": view} if view else {}

    async def set_queue_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        given = {k: str(v) for k, v in params["Attributes"].items()}
        await self._on_queue(ctx, params, lambda conn, queue, now: queue_store.set_attributes(conn, queue, given, now))

    async def purge_queue(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._on_queue(ctx, params, queue_store.purge)

    async def list_dead_letter_source_queues(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = await self._on_queue(ctx, params, lambda conn, queue, now: listing.dead_letter_sources(
            conn, queue.arn, queue.key.region, params.get("NextToken"), params.get("MaxResults")), read=True)
        return paging.answer(found, "queueUrls", lambda key: key.url(ctx.base_url))

    async def tag_queue(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._on_queue(ctx, params, lambda conn, queue, now: queue_store.tag(conn, queue, params["Tags"]))

    async def untag_queue(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._on_queue(ctx, params, lambda conn, queue, now: queue_store.untag(conn, queue, params["TagKeys"]))

    async def list_queue_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tags = await self._on_queue(ctx, params, lambda conn, queue, now: queue.tags)
        return {"Tags": tags} if tags else {}

    async def add_permission(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._on_queue(ctx, params, lambda conn, queue, now: queue_store.add_permission(
            conn, queue, params["Label"], params["AWSAccountIds"], params["Actions"], now))

    async def remove_permission(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._on_queue(ctx, params, lambda conn, queue, now: queue_store.remove_permission(
            conn, queue, params["Label"], now))

    # -- sending ---------------------------------------------------------------------------
    def _outgoing(self, ctx: RequestContext, params: dict[str, Any]) -> OutgoingMessage:
        return outgoing_message(params, ctx.trace_header)

    async def send_message(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        outgoing = self._outgoing(ctx, params)
        sender = ctx.access_key or ctx.account_id

        def send(conn: Connection, queue: Queue, now: float) -> tuple[int, messages.SendResult]:
            result = messages.send(conn, queue, outgoing, now, sender)
            trace_hops.sent(conn, queue, outgoing, result.message_id, now)
            return queue.id, result

        queue_id, result = await self._on_queue(ctx, params, send, hot=True)
        self._notify(queue_id)
        self.metrics.sent(params["QueueUrl"], ctx.region, (len(outgoing.body.encode()),))
        return _send_result(result)

    async def send_message_batch(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entries = params["Entries"]
        batches.check_batch(entries, "SendMessageBatchRequestEntry")
        batches.check_batch_size(sum(len(e.get("MessageBody", "").encode())
                                     + attributes_size(e.get("MessageAttributes") or {}) for e in entries))
        sender = ctx.access_key or ctx.account_id

        # Entry-level checks that need no queue run first; each failure stays with its entry.
        prepared: list[OutgoingMessage | AwsError] = []
        for entry in entries:
            try:
                if "MessageBody" not in entry:
                    raise AwsError("MissingParameter", "The request must contain the parameter MessageBody.")
                prepared.append(self._outgoing(ctx, entry))
            except AwsError as error:
                prepared.append(error)

        def send_all(conn: Connection, queue: Queue, now: float) -> tuple[int, dict[str, Any]]:
            valid = [p for p in prepared if isinstance(p, OutgoingMessage)]
            if queue.fifo:
                batches.check_fifo_entries(valid, queue.content_based_dedup)
            results = messages.send_batch(conn, queue, valid, now, sender)
            for outgoing, result in zip(valid, results, strict=True):
                if not isinstance(result, AwsError):
                    trace_hops.sent(conn, queue, outgoing, result.message_id, now, "SendMessageBatch")
            sent = iter(results)
            outcomes = [p if isinstance(p, AwsError) else next(sent) for p in prepared]
            return queue.id, batches.results(entries, [
                o if isinstance(o, AwsError) else _send_result(o) for o in outcomes])

        queue_id, result = await self._on_queue(ctx, params, send_all, hot=True)
        if result.get("Successful"):
            self._notify(queue_id)
        self.metrics.sent(params["QueueUrl"], ctx.region,
                          (len(p.body.encode()) for p in prepared if isinstance(p, OutgoingMessage)))
        return result

    # -- receiving -------------------------------------------------------------------------
    async def receive_message(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        max_messages = params.get("MaxNumberOfMessages", 1)
        if not 1 <= max_messages <= 10:
            raise AwsError("InvalidParameterValue",
                           f"Value {max_messages} for parameter MaxNumberOfMessages is invalid. Reason: Must be "
                           "between 1 and 10, if provided.")
        wait = params.get("WaitTimeSeconds")
        if wait is not None and not 0 <= wait <= 20:
            raise AwsError("InvalidParameterValue",
                           f"Value {wait} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and "
                           "<= 20, if provided.")
        visibility = params.get("VisibilityTimeout")
        if visibility is not None and not 0 <= visibility <= 43_200:
            raise AwsError("InvalidParameterValue",
                           f"Value {visibility} for parameter VisibilityTimeout is invalid. Reason: Must be "
                           "between 0 and 43200, if provided.")
        wanted_system = set(params.get("AttributeNames", [])) | set(params.get("MessageSystemAttributeNames", []))
        unknown = wanted_system - SYSTEM_ATTRIBUTE_NAMES
        if unknown:
            raise AwsError("InvalidAttributeName", f"Unknown Attribute {sorted(unknown)[0]}.")
        wanted_user = params.get("MessageAttributeNames", [])
        attempt_id = params.get("ReceiveRequestAttemptId")

        faults = ReceiveFaults(self.platform.faults, params["QueueUrl"])  # /_eventyard/faults: reorder, duplicate

        def claim(conn: Connection, queue: Queue, now: float) -> tuple[Queue, list[ReceivedMessage], float | None]:
            timeout = visibility if visibility is not None else queue.int_attr("VisibilityTimeout")
            faults.reorder(conn, queue, now, max_messages)
            got = messages.receive(conn, queue, max_messages, timeout, now, attempt_id)
            faults.duplicate(conn, queue, got, now)
            return queue, got, (None if got else messages.next_visible_at(conn, queue, now))

        queue, received, next_at = await self._on_queue(ctx, params, claim, hot=True)
        if wait is None:
            wait = queue.int_attr("ReceiveMessageWaitTimeSeconds")
        deadline = self.now() + wait
        while not received:
            now = self.now()
            if now >= deadline:
                break
            pause = min(deadline - now, POLL_RECHECK)
            if next_at is not None:
                pause = min(pause, max(next_at - now, 0.001))
            await self._wait_for_messages(queue.id, pause)
            queue, received, next_at = await self._on_queue(ctx, params, claim, hot=True)
        result = [_message_view(m, wanted_system, wanted_user) for m in received]
        self.metrics.received(params["QueueUrl"], ctx.region, len(result))
        return {"Messages": result} if result else {}

    # -- deleting and visibility -----------------------------------------------------------
    async def delete_message(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._on_queue(ctx, params, lambda conn, queue, now: messages.delete(conn, queue, params["ReceiptHandle"], now),
                             hot=True)
        self.metrics.deleted(params["QueueUrl"], ctx.region, 1)

    async def delete_message_batch(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entries = params["Entries"]
        batches.check_batch(entries, "DeleteMessageBatchRequestEntry")

        def delete_all(conn: Connection, queue: Queue, now: float) -> dict[str, Any]:
            if not queue.fifo:  # one statement for the batch (a FIFO handle's expiry is checked one by one)
                handles = [entry["ReceiptHandle"] for entry in entries]
                return batches.results(entries, [o or {} for o in messages.delete_standard(conn, queue, handles)])

            def delete_one(entry: dict[str, Any]) -> dict[str, Any]:
                messages.delete(conn, queue, entry["ReceiptHandle"], now)
                return {}

            return batches.run_entries(conn, entries, delete_one)

        result = await self._on_queue(ctx, params, delete_all, hot=True)
        self.metrics.deleted(params["QueueUrl"], ctx.region, len(result.get("Successful", [])))
        return result

    async def change_message_visibility(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        def change(conn: Connection, queue: Queue, now: float) -> int:
            messages.change_visibility(conn, queue, params["ReceiptHandle"], params["VisibilityTimeout"], now)
            return queue.id

        self._notify(await self._on_queue(ctx, params, change))

    async def change_message_visibility_batch(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entries = params["Entries"]
        batches.check_batch(entries, "ChangeMessageVisibilityBatchRequestEntry")

        def change_all(conn: Connection, queue: Queue, now: float) -> tuple[int, dict[str, Any]]:
            def change_one(entry: dict[str, Any]) -> dict[str, Any]:
                messages.change_visibility(conn, queue, entry["ReceiptHandle"], entry.get("VisibilityTimeout", 0), now)
                return {}

            return queue.id, batches.run_entries(conn, entries, change_one)

        queue_id, result = await self._on_queue(ctx, params, change_all)
        self._notify(queue_id)
        return result

    # -- message move tasks ----------------------------------------------------------------
    async def start_message_move_task(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        source_key = _arn_key(params["SourceArn"])
        destination = params.get("DestinationArn")
        if destination is not None:
            _arn_key(destination)
        now = self.now()

        def start(conn: Connection) -> str:
            source = queue_store.find(conn, source_key)
            if source is None:
                raise AwsError("ResourceNotFoundException", "The resource that you specified for the SourceArn "
                               "parameter doesn't exist.", 404)
            return move_tasks.start(conn, source, destination, params.get("MaxNumberOfMessagesPerSecond"),
                                    ctx.region, now)

        handle = await self.platform.db.write(start)
        self._moving = True
        return {"TaskHandle": handle}

    async def cancel_message_move_task(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        source_key = _arn_key(move_tasks.handle_source(params["TaskHandle"]))

        def cancel(conn: Connection) -> int:
            if queue_store.find(conn, source_key) is None:
                raise AwsError("ResourceNotFoundException", "The resource that you specified for the SourceArn "
                               "parameter doesn't exist.", 404)
            return move_tasks.cancel(conn, params["TaskHandle"])

        moved = await self.platform.db.write(cancel)
        return {"ApproximateNumberOfMessagesMoved": moved}

    async def list_message_move_tasks(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        source_key = _arn_key(params["SourceArn"])

        def listing(conn: Connection) -> list[dict[str, Any]]:
            if queue_store.find(conn, source_key) is None:
                raise AwsError("ResourceNotFoundException", "The resource that you specified for the SourceArn "
                               "parameter doesn't exist.", 404)
            return move_tasks.list_tasks(conn, source_key.arn, params.get("MaxResults", 1))

        return {"Results": await self.platform.db.read(listing)}

    # -- for the console: looking without receiving (no API operation does this) -----------
    async def peek_messages(self, account_id: str, region: str, name: str, limit: int = 10) -> list[dict[str, Any]]:
        """The queue's oldest messages with their state; no receive count, visibility or handle changes."""
        key = QueueKey(account_id, region, name)
        now = self.now()
        return await self.platform.db.read(lambda conn: inspection.peek(conn, queue_store.get(conn, key), limit, now))

    async def queue_summaries(self, account_id: str, region: str | None = None) -> list[inspection.QueueSummary]:
        """Every queue of the account (one region, or all) with its dead-letter target, in one read."""
        return await self.platform.db.read(lambda conn: inspection.summaries(conn, account_id, region))


def outgoing_message(params: dict[str, Any], trace_header: str | None) -> OutgoingMessage:
    """A SendMessage request's (or batch entry's) message, its attributes checked; the X-Ray header of
    the request becomes the message's AWSTraceHeader, as with the X-Ray SDK."""
    system = validate_message_attributes(params.get("MessageSystemAttributes", {})) \
        if params.get("MessageSystemAttributes") else {}
    for name in system:
        if name != "AWSTraceHeader":
            raise AwsError("InvalidParameterValue",
                           f"Message system attribute name '{name}' is invalid.")
    if "AWSTraceHeader" not in system and trace_header:
        system["AWSTraceHeader"] = {"DataType": "String", "StringValue": trace_header}
    return OutgoingMessage(
        body=params["MessageBody"],
        attributes=validate_message_attributes(params.get("MessageAttributes", {})),
        system_attributes=system,
        delay_seconds=params.get("DelaySeconds"),
        group_id=params.get("MessageGroupId"),
        dedup_id=params.get("MessageDeduplicationId"),
    )


def _arn_key(arn: str) -> QueueKey:
    key = key_from_arn(arn)
    if key is None:
        raise AwsError("InvalidParameterValue", f"Value {arn} for parameter SourceArn is invalid. Reason: "
                       "Invalid ARN.")
    return key


def _isolation(key: QueueKey, hot: bool) -> Isolation:
    """How a queue's transaction is isolated on PostgreSQL (SQLite's writer is serial anyway). A FIFO
    queue's operations decide group heads from rows other transactions change (a send sees the group's
    last message, a delete of that message looks for the next): only SERIALIZABLE keeps them right. A
    standard queue's sends, receives and deletes are only claims with SKIP LOCKED, inserts, deletes of
    named rows and counter updates that commute: at READ COMMITTED concurrent senders queue on a
    counter row instead of conflicting over it. Its other operations decide from rows they update."""
    if key.name.endswith(".fifo"):
        return Isolation.SERIALIZABLE
    return Isolation.COMMITTED if hot else Isolation.SNAPSHOT


def _send_result(result: messages.SendResult) -> dict[str, Any]:
    out: dict[str, Any] = {"MessageId": result.message_id, "MD5OfMessageBody": result.body_md5}
    if result.attributes_md5:
        out["MD5OfMessageAttributes"] = result.attributes_md5
    if result.system_attributes_md5:
        out["MD5OfMessageSystemAttributes"] = result.system_attributes_md5
    if result.sequence_number:
        out["SequenceNumber"] = result.sequence_number
    return out


def _message_view(message: ReceivedMessage, wanted_system: set[str], wanted_user: list[str]) -> dict[str, Any]:
    view: dict[str, Any] = {
        "MessageId": message.message_id,
        "ReceiptHandle": message.receipt_handle,
        "MD5OfBody": message.body_md5,
        "Body": message.body,
    }
    if wanted_system:
        system = message.system if "All" in wanted_system else {
            k: v for k, v in message.system.items() if k in wanted_system
        }
        if system:
            view["Attributes"] = system
    user = select_attributes(message.attributes, wanted_user)
    if user:
        view["MessageAttributes"] = user
        view["MD5OfMessageAttributes"] = attributes_md5(user)
    return view


