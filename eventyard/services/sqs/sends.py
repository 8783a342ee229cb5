"""SendMessage inside another service's transaction (the QUEUE_SENDS port, runtime/ports.py): SNS
writes its deliveries to SQS queues with the publish that makes them (services/sns/direct.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.ports import QUEUE_SENDS
from eventyard.services.sqs import messages, trace_hops
from eventyard.services.sqs import queues as queue_store
from eventyard.services.sqs.names import key_from_arn
from eventyard.services.sqs.provider import WAKE_CHANNEL, SqsProvider, outgoing_message
from eventyard.storage import Connection

if TYPE_CHECKING:
    from eventyard.server.platform import Platform


class QueueSends:
    def __init__(self, provider: SqsProvider) -> None:
        self.provider = provider

    def send(self, conn: Connection, queue_arn: str, params: dict[str, Any], trace_header: str | None,
             now: float) -> Callable[[], None]:
        """SendMessage's checks and rows, as the queue's own account sends (as an in-process SendMessage
        from SNS does); a refusal raises its AwsError before anything is written (messages.send checks
        first). Answers what SendMessage does once its transaction committed."""
        key = key_from_arn(queue_arn)
        if key is None:
            raise AwsError("InvalidParameterValue", f"not a queue ARN: {queue_arn}")
        outgoing = outgoing_message(params, trace_header)
        queue = queue_store.get(conn, key)
        result = messages.send(conn, queue, outgoing, now, key.account_id)
        trace_hops.sent(conn, queue, outgoing, result.message_id, now)
        size = len(outgoing.body.encode())

        def committed() -> None:
            self.provider.platform.db.announce(WAKE_CHANNEL, str(queue.id))  # long polls on any node
            self.provider.metrics.sent(params["QueueUrl"], key.region, (size,))

        return committed


def provide(platform: Platform, provider: SqsProvider) -> None:
    platform.ports.provide(QUEUE_SENDS, QueueSends(provider))
