"""An HTTP subscriber run by the test: confirmation, signed deliveries, retries, dead-lettering."""

from __future__ import annotations

import base64
import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.conftest import ServerProcess
from tests.sns.conftest import receive, wait_for


class Subscriber:
    """Records every POST; answers with the next scripted status (then 200)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict[str, Any] | str]] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        subscriber = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                try:
                    parsed: dict[str, Any] | str = json.loads(body)
                except ValueError:
                    parsed = body
                with subscriber.lock:
                    subscriber.requests.append(({k.lower(): v for k, v in self.headers.items()}, parsed))
                    status = subscriber.statuses.pop(0) if subscriber.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def of_type(self, kind: str) -> list[tuple[dict[str, str], Any]]:
        with self.lock:
            return [r for r in self.requests if r[0].get("x-amz-sns-message-type") == kind]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    running = Subscriber()
    yield running
    running.close()


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url.replace("http://localhost:", "http://127.0.0.1:"), timeout=5) as response:
        return bytes(response.read())


def verify_signature(message: dict[str, Any]) -> None:
    """Verify as AWS documents it ("Verifying the signatures of Amazon SNS messages")."""
    if message["Type"] == "Notification":
        fields = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        fields = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    text = "".join(f"{name}\n{message[name]}\n" for name in fields if name in message)
    certificate = x509.load_pem_x509_certificate(fetch(message["SigningCertURL"]))
    algorithm = hashes.SHA256() if message["SignatureVersion"] == "2" else hashes.SHA1()
    certificate.public_key().verify(base64.b64decode(message["Signature"]), text.encode(),  # type: ignore[call-arg,union-attr]
                                    padding.PKCS1v15(), algorithm)  # type: ignore[arg-type]


def confirmed_subscription(sns: Any, topic_arn: str, subscriber: Subscriber, **attributes: str) -> str:
    arn = sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=subscriber.url, Attributes=attributes,
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    headers, confirmation = wait_for(lambda: subscriber.of_type("SubscriptionConfirmation"))[0]
    assert headers["x-amz-sns-topic-arn"] == topic_arn
    assert confirmation["Type"] == "SubscriptionConfirmation" and confirmation["Token"]
    verify_signature(confirmation)
    assert b"<ConfirmSubscriptionResponse" in fetch(confirmation["SubscribeURL"])
    assert sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["PendingConfirmation"] == "false"
    return str(arn)


def test_http_subscriber_confirms_and_receives_signed_notifications(sns: Any, topic_arn: str,
                                                                    subscriber: Subscriber) -> None:
    subscription = confirmed_subscription(sns, topic_arn, subscriber)
    message_id = sns.publish(TopicArn=topic_arn, Message="over http", Subject="web")["MessageId"]
    headers, notification = wait_for(lambda: subscriber.of_type("Notification"))[0]
    assert headers["x-amz-sns-message-id"] == message_id
    assert headers["x-amz-sns-topic-arn"] == topic_arn
    assert headers["x-amz-sns-subscription-arn"] == subscription
    assert headers["content-type"] == "text/plain; charset=UTF-8"
    assert headers["user-agent"] == "Amazon Simple Notification Service Agent"
    assert (notification["Message"], notification["Subject"]) == ("over http", "web")
    verify_signature(notification)


def test_signature_version_2_signs_with_sha256(sns: Any, topic_arn: str, subscriber: Subscriber) -> None:
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="SignatureVersion", AttributeValue="2")
    confirmed_subscription(sns, topic_arn, subscriber)
    sns.publish(TopicArn=topic_arn, Message="sha256 please")
    _, notification = wait_for(lambda: subscriber.of_type("Notification"))[0]
    assert notification["SignatureVersion"] == "2"
    verify_signature(notification)
    tampered = dict(notification, Message="forged")
    with pytest.raises(InvalidSignature):
        verify_signature(tampered)


def test_pending_http_subscriptions_receive_no_notifications(sns: Any, topic_arn: str,
                                                             subscriber: Subscriber) -> None:
    sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=subscriber.url)
    wait_for(lambda: subscriber.of_type("SubscriptionConfirmation"))
    sns.publish(TopicArn=topic_arn, Message="not yet")
    import time

    time.sleep(0.3)
    assert subscriber.of_type("Notification") == []


def test_raw_http_delivery_posts_the_bare_message(sns: Any, topic_arn: str, subscriber: Subscriber) -> None:
    confirmed_subscription(sns, topic_arn, subscriber, RawMessageDelivery="true")
    sns.publish(TopicArn=topic_arn, Message="just this")
    headers, body = wait_for(lambda: subscriber.of_type("Notification"))[0]
    assert body == "just this" and headers["x-amz-sns-rawdelivery"] == "true"


def test_server_errors_are_retried_until_delivered(sns: Any, topic_arn: str, subscriber: Subscriber) -> None:
    policy = {"healthyRetryPolicy": {"numRetries": 3, "numNoDelayRetries": 3, "minDelayTarget": 1,
                                     "maxDelayTarget": 1}}
    confirmed_subscription(sns, topic_arn, subscriber, DeliveryPolicy=json.dumps(policy))
    subscriber.statuses = [500, 503]
    sns.publish(TopicArn=topic_arn, Message="eventually")
    attempts = wait_for(lambda: len(subscriber.of_type("Notification")) >= 3 and subscriber.of_type("Notification"))
    assert [r[1]["Message"] for r in attempts] == ["eventually"] * 3
    assert len({r[1]["MessageId"] for r in attempts}) == 1


def test_exhausted_retries_go_to_the_dead_letter_queue(sns: Any, sqs: Any, topic_arn: str, subscriber: Subscriber,
                                                       make_queue: Any) -> None:
    dlq_url, dlq_arn = make_queue()
    policy = {"healthyRetryPolicy": {"numRetries": 2, "numNoDelayRetries": 2, "minDelayTarget": 1,
                                     "maxDelayTarget": 1}}
    confirmed_subscription(sns, topic_arn, subscriber, DeliveryPolicy=json.dumps(policy),
                           RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn}))
    subscriber.statuses = [500] * 10
    message_id = sns.publish(TopicArn=topic_arn, Message="doomed")["MessageId"]
    [dead] = receive(sqs, dlq_url, 1, MessageAttributeNames=["All"])
    assert json.loads(dead["Body"])["MessageId"] == message_id
    # The dead-letter queue gets the body the subscriber would have got, nothing added (recorded against AWS).
    assert "MessageAttributes" not in dead
    assert len(subscriber.of_type("Notification")) == 3  # the first try and two retries


def test_client_errors_are_not_retried(sns: Any, sqs: Any, topic_arn: str, subscriber: Subscriber,
                                       make_queue: Any) -> None:
    dlq_url, dlq_arn = make_queue()
    confirmed_subscription(sns, topic_arn, subscriber, RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn}))
    subscriber.statuses = [404]
    sns.publish(TopicArn=topic_arn, Message="gone")
    assert len(receive(sqs, dlq_url, 1)) == 1
    assert len(subscriber.of_type("Notification")) == 1


def test_retry_delays_follow_the_delivery_policy(fresh_server: ServerProcess, subscriber: Subscriber) -> None:
    sns = fresh_server.client("sns")
    topic_arn = sns.create_topic(Name="delayed")["TopicArn"]
    policy = {"healthyRetryPolicy": {"numRetries": 1, "minDelayTarget": 600, "maxDelayTarget": 600}}
    confirmed_subscription(sns, topic_arn, subscriber, DeliveryPolicy=json.dumps(policy))
    subscriber.statuses = [500]
    sns.publish(TopicArn=topic_arn, Message="later")
    wait_for(lambda: subscriber.of_type("Notification"))
    import time

    time.sleep(0.5)
    assert len(subscriber.of_type("Notification")) == 1  # the retry waits ten minutes...
    fresh_server.advance_clock(601)
    wait_for(lambda: len(subscriber.of_type("Notification")) == 2)  # ...of the server's clock
