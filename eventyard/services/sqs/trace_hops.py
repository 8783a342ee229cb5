"""A sent message that carries an AWSTraceHeader leaves a hop (`runtime/tracing.py`) in the send's
own transaction: queue, message id, time. Messages without one cost nothing here."""

from __future__ import annotations

from eventyard.runtime import tracing
from eventyard.services.sqs.messages import OutgoingMessage
from eventyard.services.sqs.queues import Queue
from eventyard.storage import Connection


def sent(conn: Connection, queue: Queue, outgoing: OutgoingMessage, message_id: str, now: float,
         operation: str = "SendMessage") -> None:
    header = outgoing.system_attributes.get("AWSTraceHeader")
    incoming = tracing.parse(header.get("StringValue")) if header else None
    if incoming is None:
        return
    tracing.record(conn, tracing.Hop(incoming, tracing.new_segment(), now, "sqs", operation, queue.arn,
                                     queue.key.account_id, queue.key.region, ref=message_id))
