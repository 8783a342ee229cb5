"""SIGKILL while publishing: every acknowledged publish still reaches every subscribed queue."""

from __future__ import annotations

import json
import threading
import time

from tests.conftest import ServerProcess
from tests.sns.conftest import receive


def test_sigkill_during_publishing_loses_nothing_acknowledged(fresh_server: ServerProcess) -> None:
    sns, sqs = fresh_server.client("sns"), fresh_server.client("sqs")
    topic_arn = sns.create_topic(Name="durable")["TopicArn"]
    urls = []
    for name in ("first", "second"):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
        urls.append(url)
    acknowledged: list[set[str]] = [set() for _ in range(3)]

    def publish(slot: int) -> None:
        client = fresh_server.client("sns")
        for i in range(10_000):
            try:
                acknowledged[slot].add(client.publish(TopicArn=topic_arn, Message=f"{slot}-{i}")["MessageId"])
            except Exception:  # the server died under us: only acknowledged ones count
                return

    threads = [threading.Thread(target=publish, args=(slot,)) for slot in range(3)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60  # generous: the kill must land mid-stream, however slow the machine
    while sum(map(len, acknowledged)) < 150 and time.monotonic() < deadline:
        time.sleep(0.02)
    fresh_server.kill()
    for thread in threads:
        thread.join()
    expected = set().union(*acknowledged)
    assert len(expected) >= 150
    fresh_server.start()
    sqs = fresh_server.client("sqs")
    for url in urls:
        got: set[str] = set()
        deadline = time.monotonic() + 60
        while not expected <= got and time.monotonic() < deadline:  # repeats (at least once) may come first
            missing = len(expected - got)
            got |= {json.loads(m["Body"])["MessageId"] for m in receive(sqs, url, missing, timeout=10)}
        assert expected <= got
