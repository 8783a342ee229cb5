"""The console's trace view shows the path of a flow, found by any id along it."""

from __future__ import annotations

import html
import re

from tests.conftest import ServerProcess
from tests.console.helpers import page
from tests.tracing.test_every_hop import header, one_message, path, queue, traced


def text(document: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", document)).split())


def test_the_trace_view_shows_the_path_found_by_a_message_id(server: ServerProcess, unique: str) -> None:
    root = f"1-00000005-{unique}{unique}"[:35]
    url, arn = queue(server, f"console-{unique}")
    sns = traced(server.client("sns"), "Publish", header(root))
    topic = sns.create_topic(Name=f"console-{unique}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic, Message="hi")
    message = one_message(server, url)
    path(server, root, 2)
    body = text(page(server, "trace", id=message["MessageId"]))
    assert f"Path of trace {root}" in body and "2 hops through sns, sqs" in body
    table = body[body.index("Outcome"):]
    assert table.index("Publish") < table.index("SendMessage") and f"console-{unique}" in table
    missing = text(page(server, "trace", id="nothing-known"))
    assert "No traced hop is known by" in missing
