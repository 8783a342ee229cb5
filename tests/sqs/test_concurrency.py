"""Concurrent consumers never hold the same message within its visibility timeout."""

from __future__ import annotations

import threading
from collections import Counter

from tests.conftest import ServerProcess


def test_concurrent_consumers_never_receive_the_same_message(server: ServerProcess, unique: str) -> None:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName=f"race-{unique}", Attributes={"VisibilityTimeout": "600"})["QueueUrl"]
    for batch in range(20):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": f"{batch}-{i}"} for i in range(10)])
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def consume() -> None:
        client = server.client("sqs")
        while True:
            got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return
            with lock:
                seen.update(m["MessageId"] for m in got)

    threads = [threading.Thread(target=consume) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 200
    assert max(seen.values()) == 1
