"""The SQS domain called directly with an injected clock: no sleeping through timeouts."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventyard.protocol.errors import AwsError
from eventyard.runtime.clock import ManualClock
from eventyard.services.sqs import messages, queues
from eventyard.services.sqs.messages import OutgoingMessage
from eventyard.services.sqs.names import QueueKey
from eventyard.services.sqs.schema import MIGRATIONS
from eventyard.storage import SqliteDatabase

T = TypeVar("T")


class Engine:
    def __init__(self, path: Path) -> None:
        self.db = SqliteDatabase(path)
        self.db.migrate(MIGRATIONS)
        self.clock = ManualClock()

    def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return self.db.run_sync(fn)

    def create(self, name: str, **attributes: str) -> queues.Queue:
        key = QueueKey("000000000000", "us-east-1", name)
        return self.run(lambda c: queues.create(c, key, attributes, {}, self.clock.now()))

    def send(self, queue: queues.Queue, body: str, **kw: Any) -> messages.SendResult:
        return self.run(lambda c: messages.send(c, queues.get(c, queue.key), OutgoingMessage(body, **kw),
                                                self.clock.now(), "me"))

    def receive(self, queue: queues.Queue, n: int = 10, visibility: int = 30) -> list[messages.ReceivedMessage]:
        return self.run(lambda c: messages.receive(c, queues.get(c, queue.key), n, visibility, self.clock.now()))

    def delete(self, queue: queues.Queue, handle: str) -> None:
        self.run(lambda c: messages.delete(c, queues.get(c, queue.key), handle, self.clock.now()))


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(tmp_path / "sqs.sqlite3")


def test_visibility_expiry_returns_a_message(engine: Engine) -> None:
    queue = engine.create("q")
    engine.send(queue, "m")
    assert len(engine.receive(queue, visibility=10)) == 1
    engine.clock.advance(9.9)
    assert engine.receive(queue) == []
    engine.clock.advance(0.2)
    assert [m.body for m in engine.receive(queue)] == ["m"]


def test_a_delay_holds_a_message_back(engine: Engine) -> None:
    queue = engine.create("q")
    engine.send(queue, "m", delay_seconds=5)
    assert engine.receive(queue) == []
    engine.clock.advance(5)
    assert len(engine.receive(queue)) == 1


def test_retention_drops_old_messages_and_the_sweep_deletes_them(engine: Engine) -> None:
    queue = engine.create("q", MessageRetentionPeriod="60")
    engine.send(queue, "m")
    engine.clock.advance(60)
    assert engine.receive(queue) == []
    assert engine.run(lambda c: messages.sweep_expired(c, engine.clock.now())) == 1


def test_redrive_moves_after_max_receives(engine: Engine) -> None:
    dlq = engine.create("dlq")
    source = engine.create("src", RedrivePolicy='{"deadLetterTargetArn": "%s", "maxReceiveCount": 3}' % dlq.arn)
    engine.send(source, "poison")
    for _ in range(3):
        assert len(engine.receive(source, visibility=1)) == 1
        engine.clock.advance(1)
    assert engine.receive(source) == []
    [dead] = engine.receive(dlq)
    assert dead.body == "poison" and dead.system["DeadLetterQueueSourceArn"] == source.arn


def test_fifo_dedup_window_is_five_minutes(engine: Engine) -> None:
    queue = engine.create("f.fifo", FifoQueue="true")
    first = engine.send(queue, "a", group_id="g", dedup_id="d")
    engine.clock.advance(299)
    assert engine.send(queue, "a", group_id="g", dedup_id="d").message_id == first.message_id
    engine.clock.advance(2)
    assert engine.send(queue, "a", group_id="g", dedup_id="d").message_id != first.message_id


def test_receipt_handles_of_another_queue_are_invalid(engine: Engine) -> None:
    a, b = engine.create("a"), engine.create("b")
    engine.send(a, "m")
    [message] = engine.receive(a)
    with pytest.raises(AwsError) as excinfo:
        engine.delete(b, message.receipt_handle)
    assert excinfo.value.code == "ReceiptHandleIsInvalid"


# An action is (kind, argument): send to a group, receive n, delete the oldest held, or let time pass.
actions = st.lists(st.one_of(
    st.tuples(st.just("send"), st.sampled_from(["g1", "g2", "g3"])),
    st.tuples(st.just("receive"), st.integers(1, 10)),
    st.tuples(st.just("delete"), st.integers(0, 5)),
    st.tuples(st.just("wait"), st.integers(1, 40)),
), max_size=60)


@settings(max_examples=120, deadline=None)
@given(actions)
def test_fifo_groups_are_consumed_in_order_and_never_held_twice(tmp_path_factory: pytest.TempPathFactory,
                                                                script: list[tuple[str, Any]]) -> None:
    engine = Engine(tmp_path_factory.mktemp("prop") / "fifo.sqlite3")
    queue = engine.create("p.fifo", FifoQueue="true", ContentBasedDeduplication="true")
    sent: dict[str, list[str]] = {}
    delivered_in_order: dict[str, list[str]] = {}
    held: dict[str, tuple[str, str, float]] = {}  # message id -> (group, handle, visible again at)
    counter = 0
    for kind, arg in script:
        now = engine.clock.now()
        held = {k: v for k, v in held.items() if v[2] > now}
        if kind == "send":
            counter += 1
            result = engine.send(queue, f"{arg}-{counter}", group_id=arg)
            sent.setdefault(arg, []).append(result.message_id)
        elif kind == "receive":
            blocked = {g for g, _, _ in held.values()}
            for message in engine.receive(queue, arg, visibility=30):
                group = message.system["MessageGroupId"]
                assert message.message_id not in held, "a message was handed out twice while in flight"
                assert group not in blocked, "a group with a message in flight was delivered"
                held[message.message_id] = (group, message.receipt_handle, now + 30)
                order = delivered_in_order.setdefault(group, [])
                if message.message_id not in order:
                    order.append(message.message_id)
        elif kind == "delete" and held:
            message_id = sorted(held)[arg % len(held)]
            engine.delete(queue, held.pop(message_id)[1])
        elif kind == "wait":
            engine.clock.advance(arg)
    for group, order in delivered_in_order.items():
        assert order == sent[group][: len(order)], "group order broken"
    engine.db.close()
