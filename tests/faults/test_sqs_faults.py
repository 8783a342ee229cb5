"""SQS under `duplicate` and `reorder`: standard queues show AWS's at-least-once, best-effort-order
delivery on purpose; FIFO queues keep their promises. Plus the handler the seed's first pitfall asks
for: an idempotent one (aws-lambda-powertools' idempotency utility) survives duplicates a naive one
does not."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from tests.conftest import ServerProcess
from tests.faults.conftest import fault_counts, set_faults


def drain(sqs: Any, url: str, expected: int, batch: int = 10) -> list[dict[str, Any]]:
    """Receive (and delete) until `expected` messages came, or a generous deadline passed."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while len(got) < expected and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=batch, WaitTimeSeconds=1).get("Messages", [])
        for message in messages:
            got.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return got


def drain_until_empty(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Receive (and delete) until a receive finds nothing: copies are visible at once, so none is left."""
    got: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return got
        for message in messages:
            got.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_a_standard_queue_hands_every_message_out_twice_with_one_message_id(
        faulty: ServerProcess, unique: str) -> None:
    sqs = faulty.client("sqs")
    url = sqs.create_queue(QueueName=f"dup-{unique}")["QueueUrl"]
    set_faults(faulty, [{"service": "sqs", "resource": f"dup-{unique}", "fault": "duplicate", "probability": 1.0}])
    sent = {sqs.send_message(QueueUrl=url, MessageBody=f"order-{n}")["MessageId"]: f"order-{n}" for n in range(5)}
    received = drain(sqs, url, expected=10, batch=1)
    assert Counter(m["MessageId"] for m in received) == {message_id: 2 for message_id in sent}
    assert all(m["Body"] == sent[m["MessageId"]] for m in received)
    assert len({m["ReceiptHandle"] for m in received}) == 10  # each hand-out has a handle of its own
    assert "Messages" not in sqs.receive_message(QueueUrl=url)  # a copy is not copied again
    assert fault_counts(faulty) == [(5, 5)]


def test_a_duplicate_survives_the_deletion_of_the_first_hand_out(faulty: ServerProcess, unique: str) -> None:
    sqs = faulty.client("sqs")
    url = sqs.create_queue(QueueName=f"dup2-{unique}")["QueueUrl"]
    set_faults(faulty, [{"service": "sqs", "resource": f"dup2-{unique}", "fault": "duplicate"}])
    message_id = sqs.send_message(QueueUrl=url, MessageBody="pay 10")["MessageId"]
    [first] = sqs.receive_message(QueueUrl=url)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesNotVisible"]) == ("1", "0")
    [again] = sqs.receive_message(QueueUrl=url)["Messages"]
    assert (again["MessageId"], again["Body"]) == (message_id, "pay 10")
    assert again["ReceiptHandle"] != first["ReceiptHandle"]


def test_reorder_shuffles_a_standard_queue_while_a_fifo_queue_keeps_its_order(
        faulty: ServerProcess, unique: str) -> None:
    sqs = faulty.client("sqs")
    standard = sqs.create_queue(QueueName=f"ord-{unique}")["QueueUrl"]
    fifo = sqs.create_queue(QueueName=f"ord-{unique}.fifo",
                            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    set_faults(faulty, [{"service": "sqs", "resource": "*", "fault": "reorder", "probability": 1.0},
                        {"service": "sqs", "resource": "*", "fault": "duplicate", "probability": 1.0}])
    for n in range(20):
        sqs.send_message(QueueUrl=standard, MessageBody=str(n))
        sqs.send_message(QueueUrl=fifo, MessageBody=str(n), MessageGroupId="g")
    shuffled = [int(m["Body"]) for m in drain(sqs, standard, expected=40, batch=10)]
    assert sorted(shuffled) == sorted(list(range(20)) * 2)
    firsts = list(dict.fromkeys(shuffled))
    assert firsts != list(range(20))
    in_order = [int(m["Body"]) for m in drain(sqs, fifo, expected=20, batch=10)]
    assert in_order == list(range(20))  # neither reordered nor duplicated
    assert "Messages" not in sqs.receive_message(QueueUrl=fifo)


def test_rules_for_other_queues_leave_a_queue_alone(faulty: ServerProcess, unique: str) -> None:
    sqs = faulty.client("sqs")
    url = sqs.create_queue(QueueName=f"calm-{unique}")["QueueUrl"]
    set_faults(faulty, [{"service": "sqs", "resource": f"other-{unique}", "fault": "duplicate"},
                        {"service": "sqs", "resource": f"other-{unique}", "fault": "reorder"}])
    for n in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=str(n))
    assert [m["Body"] for m in drain(sqs, url, expected=5, batch=1)] == ["0", "1", "2", "3", "4"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


class InMemoryIdempotencyStore(BasePersistenceLayer):
    """Powertools' persistence contract (put fails when a live record exists), kept in a dict."""

    def __init__(self) -> None:
        super().__init__()
        self.records: dict[str, DataRecord] = {}

    def _get_record(self, idempotency_key: str) -> DataRecord:
        if idempotency_key not in self.records:
            raise IdempotencyItemNotFoundError
        return self.records[idempotency_key]

    def _put_record(self, data_record: DataRecord) -> None:
        existing = self.records.get(data_record.idempotency_key)
        if existing is not None and not existing.is_expired:
            raise IdempotencyItemAlreadyExistsError(old_data_record=existing)
        self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        self.records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        self.records.pop(data_record.idempotency_key, None)


class ConsumerContext:
    """What Powertools reads from a Lambda context: this consumer runs in the test, not in Lambda."""

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def test_an_idempotent_handler_passes_under_duplicates_where_a_naive_counter_fails(
        faulty: ServerProcess, unique: str) -> None:
    sqs = faulty.client("sqs")
    url = sqs.create_queue(QueueName=f"pay-{unique}")["QueueUrl"]
    set_faults(faulty, [{"service": "sqs", "resource": f"pay-{unique}", "fault": "duplicate", "probability": 0.5}])
    amounts = [10, 25, 5, 40, 15, 30, 20, 35, 50, 45]
    for amount in amounts:
        sqs.send_message(QueueUrl=url, MessageBody=str(amount))

    naive_balance = 0
    checked_balance = 0
    store = InMemoryIdempotencyStore()

    config = IdempotencyConfig(event_key_jmespath="MessageId")
    config.register_lambda_context(ConsumerContext())

    @idempotent_function(data_keyword_argument="message", persistence_store=store, config=config)
    def credit(message: dict[str, Any]) -> int:  # check-before-write: a MessageId is credited once
        nonlocal checked_balance
        checked_balance += int(message["Body"])
        return checked_balance

    received = drain_until_empty(sqs, url)
    for message in received:
        naive_balance += int(message["Body"])
        credit(message={"MessageId": message["MessageId"], "Body": message["Body"]})
    [(matched, duplicated)] = fault_counts(faulty)
    assert matched == len(amounts) and 0 < duplicated < len(amounts)  # at probability 0.5, some of ten
    assert len(received) == len(amounts) + duplicated
    assert checked_balance == sum(amounts)
    assert naive_balance > sum(amounts)
