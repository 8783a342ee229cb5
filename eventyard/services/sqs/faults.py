"""SQS under fault rules (/_eventyard/faults): what a standard queue may do and FIFO queues never do.

- `duplicate`: AWS stores copies of each message on several servers, so a message received once may
  be handed out again to a later receive: same MessageId and body, a new receipt handle. A message's
  first receive leaves such a copy behind, visible at once; the copy is a message of its own (deleting
  the original's handle does not delete it), and it is never copied again.
- `reorder`: a standard queue makes a best effort at order only. Before the claim, the oldest visible
  messages (twice the receive's MaxNumberOfMessages, at least `REORDER_WINDOW`) take their turns in a
  shuffled order; they all stay visible, so nothing is hidden or delayed.

FIFO queues are left alone: their order and exactly-once processing are what AWS promises.
"""

from __future__ import annotations

import random

from eventyard.runtime.faults import FaultInjector, resource_names
from eventyard.services.sqs import bookkeeping
from eventyard.services.sqs.messages import ReceivedMessage, parse_receipt_handle
from eventyard.services.sqs.queues import Queue
from eventyard.storage import Connection, skip_locked

REORDER_WINDOW = 10
TURN_STEP = 0.001  # seconds between the shuffled messages' turns: still visible, now in another order
_COPY = (
    "INSERT INTO sqs_messages (queue_id, message_id, body, body_md5, attributes, system_attributes, sent_at,"
    " available_at, expires_at, group_id, sender_id, first_received_at)"
    " SELECT queue_id, message_id, body, body_md5, attributes, system_attributes, sent_at, ?, expires_at,"
    " group_id, sender_id, first_received_at FROM sqs_messages WHERE seq = ?"
)


class ReceiveFaults:
    """The `reorder` and `duplicate` rules of one ReceiveMessage call."""

    def __init__(self, injector: FaultInjector, queue_url: str) -> None:
        self.injector = injector
        self.queue_url = queue_url

    def _applies(self, queue: Queue) -> bool:
        return bool(self.injector.rules) and not queue.fifo

    def reorder(self, conn: Connection, queue: Queue, now: float, max_messages: int) -> None:
        """Shuffle the turns of the oldest visible messages, when a `reorder` rule fires."""
        if not self._applies(queue):
            return
        window = conn.execute(
            "SELECT seq, available_at FROM sqs_messages WHERE queue_id = ? AND available_at <= ? AND expires_at > ?"
            f" ORDER BY available_at, seq LIMIT ?{skip_locked(conn)}",
            (queue.id, now, now, max(REORDER_WINDOW, 2 * max_messages)),
        ).fetchall()
        if len(window) < 2:
            return  # nothing to reorder: no draw, so idle polls do not move the rule's stream
        fired = self.injector.fire("sqs", "reorder", resource_names(queue.arn, self.queue_url), "ReceiveMessage")
        if fired is None:
            return
        order = [row[0] for row in window]
        random.Random(fired.draw).shuffle(order)
        first = min(row[1] for row in window) - len(order) * TURN_STEP
        conn.executemany("UPDATE sqs_messages SET available_at = ? WHERE seq = ?",
                         [(first + n * TURN_STEP, seq) for n, seq in enumerate(order)])

    def duplicate(self, conn: Connection, queue: Queue, received: list[ReceivedMessage], now: float) -> None:
        """Leave a copy of each message received for the first time, when a `duplicate` rule fires."""
        if not received or not self._applies(queue):
            return
        names = resource_names(queue.arn, self.queue_url)
        for message in received:
            seq, _ = parse_receipt_handle(message.receipt_handle, queue)
            row = conn.execute("SELECT receive_count, first_received_at FROM sqs_messages WHERE seq = ?",
                               (seq,)).fetchone()
            # A copy keeps the original's first receive time, so its own first receive is not "first".
            first_receive = row is not None and row[0] == 1 and row[1] == now
            if first_receive and self.injector.fire("sqs", "duplicate", names, "ReceiveMessage") is not None:
                conn.execute(_COPY, (now, seq))
                bookkeeping.added(conn, queue.id)
