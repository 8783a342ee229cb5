"""SQS's console reads: peeking changes nothing a consumer sees; summaries list redrive targets."""

from __future__ import annotations

import json
from pathlib import Path

from eventyard.services.sqs import inspection, queues
from tests.sqs.test_engine import Engine


def test_peeking_leaves_receive_counts_visibility_and_receipts_alone(tmp_path: Path) -> None:
    engine = Engine(tmp_path / "db")
    queue = engine.create("peeked")
    for body in ("first", "second", "third"):
        engine.send(queue, body)
        engine.clock.advance(1)
    in_flight = engine.receive(queue, n=1, visibility=30)[0]
    peeked = engine.run(lambda c: inspection.peek(c, queues.get(c, queue.key), 10, engine.clock.now()))
    assert [m["Body"] for m in peeked] == ["first", "second", "third"]
    assert [m["State"] for m in peeked] == ["in flight", "visible", "visible"]
    assert [m["ApproximateReceiveCount"] for m in peeked] == [1, 0, 0]
    again = engine.run(lambda c: inspection.peek(c, queues.get(c, queue.key), 10, engine.clock.now()))
    assert again == peeked  # looking twice sees the same: nothing moved
    received = engine.receive(queue, n=10)
    assert [m.body for m in received] == ["second", "third"]  # the peek hid nothing
    engine.delete(queue, in_flight.receipt_handle)  # and the earlier receipt handle still works


def test_peek_is_bounded_and_oldest_first(tmp_path: Path) -> None:
    engine = Engine(tmp_path / "db")
    queue = engine.create("many")
    for i in range(150):
        engine.send(queue, f"m{i}")
    peeked = engine.run(lambda c: inspection.peek(c, queues.get(c, queue.key), 1000, engine.clock.now()))
    assert len(peeked) == inspection.MAX_PEEK and peeked[0]["Body"] == "m0"


def test_summaries_name_each_queues_dead_letter_target(tmp_path: Path) -> None:
    engine = Engine(tmp_path / "db")
    dlq = engine.create("dlq")
    engine.create("source", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 3}))
    engine.create("plain.fifo", FifoQueue="true")
    found = engine.run(lambda c: inspection.summaries(c, "000000000000", "us-east-1"))
    by_name = {s.key.name: s for s in found}
    assert by_name["source"].dead_letter_target_arn == dlq.arn and by_name["source"].max_receive_count == 3
    assert by_name["dlq"].dead_letter_target_arn is None and by_name["plain.fifo"].fifo
    assert engine.run(lambda c: inspection.summaries(c, "000000000000", "eu-west-1")) == []
    assert len(engine.run(lambda c: inspection.summaries(c, "000000000000", None))) == 3
