"""Subscriptions over the live server: confirmation rules, attributes, listing, errors."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess
from tests.sns.conftest import captured, wait_for
from tests.sns.test_topics import error_of


def test_sqs_subscriptions_are_confirmed_at_once_and_idempotent(sns: Any, topic_arn: str, make_queue: Any) -> None:
    _, queue_arn = make_queue()
    arn = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    assert arn.startswith(topic_arn + ":")
    assert sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"] == arn
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"
    assert attributes["Protocol"] == "sqs" and attributes["Endpoint"] == queue_arn
    assert attributes["RawMessageDelivery"] == "false"


def test_subscribing_again_with_other_attributes_is_rejected(sns: Any, topic_arn: str, make_queue: Any) -> None:
    _, queue_arn = make_queue()
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    with pytest.raises(ClientError) as excinfo:
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                      Attributes={"RawMessageDelivery": "false"})
    assert error_of(excinfo)[0] == "InvalidParameter"


@pytest.mark.parametrize("protocol,endpoint,message", [
    ("carrier-pigeon", "x", "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon"),
    ("sqs", "not-an-arn", "Invalid parameter: SQS endpoint ARN"),
    ("http", "https://example.com", "Invalid parameter: Endpoint must match the specified protocol"),
    ("lambda", "arn:aws:sqs:us-east-1:000000000000:q", "Invalid parameter: Lambda endpoint ARN"),
    ("email", "nobody", "Invalid parameter: Email address"),
])
def test_bad_protocols_and_endpoints_are_invalid_parameters(sns: Any, topic_arn: str, protocol: str,
                                                            endpoint: str, message: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sns.subscribe(TopicArn=topic_arn, Protocol=protocol, Endpoint=endpoint)
    assert error_of(excinfo) == ("InvalidParameter", message, 400)


def test_fifo_queues_cannot_subscribe_to_standard_topics(sns: Any, topic_arn: str, make_queue: Any) -> None:
    _, queue_arn = make_queue(fifo=True)
    with pytest.raises(ClientError) as excinfo:
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    assert "FIFO SQS Queues can not be subscribed to standard SNS topics" in error_of(excinfo)[1]


def test_subscribe_to_a_missing_topic_is_not_found(sns: Any, unique: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sns.subscribe(TopicArn=f"arn:aws:sns:us-east-1:000000000000:no-{unique}", Protocol="email",
                      Endpoint="a@example.com")
    assert error_of(excinfo)[:2] == ("NotFound", "Topic does not exist")


def test_invalid_filter_policies_are_rejected(sns: Any, topic_arn: str, make_queue: Any) -> None:
    _, queue_arn = make_queue()
    with pytest.raises(ClientError) as excinfo:
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"FilterPolicy": "{oops"})
    assert error_of(excinfo)[0] == "InvalidParameter"
    # Given to Subscribe, AWS names the Attributes parameter, then the attribute and the parser's reason.
    assert error_of(excinfo)[1] == (
        "Invalid parameter: Attributes Reason: FilterPolicy: failed to parse JSON. Unexpected character ('o' "
        "(code 111)): was expecting double-quote to start field name\n at [Source: REDACTED "
        "(`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 2]")
    with pytest.raises(ClientError) as excinfo:  # the attribute scope takes no nesting
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                      Attributes={"FilterPolicy": '{"a": {"b": ["c"]}}'})
    assert error_of(excinfo)[0] == "InvalidParameter"
    with pytest.raises(ClientError) as excinfo:
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                      Attributes={"FilterPolicy": '{"a": ["b"]}', "FilterPolicyScope": "Headers"})
    # Worded as AWS words every attribute refused at Subscribe (recorded for RawMessageDelivery).
    assert error_of(excinfo)[1] == ("Invalid parameter: Attributes Reason: FilterPolicyScope: Invalid value "
                                    "[Headers]. Please use either MessageBody or MessageAttributes")


def test_subscription_attributes_round_trip(sns: Any, topic_arn: str, make_queue: Any) -> None:
    _, queue_arn = make_queue()
    _, dlq_arn = make_queue()
    arn = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RawMessageDelivery", AttributeValue="true")
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy",
                                    AttributeValue='{"store": ["a"]}')
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicyScope",
                                    AttributeValue="MessageBody")
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RedrivePolicy",
                                    AttributeValue=json.dumps({"deadLetterTargetArn": dlq_arn}))
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["RawMessageDelivery"] == "true"
    assert json.loads(attributes["FilterPolicy"]) == {"store": ["a"]}
    assert attributes["FilterPolicyScope"] == "MessageBody"
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dlq_arn}
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy", AttributeValue="")
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert "FilterPolicy" not in attributes and "FilterPolicyScope" not in attributes


def test_bad_subscription_attributes_are_rejected(sns: Any, topic_arn: str, make_queue: Any) -> None:
    _, queue_arn = make_queue()
    arn = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    for name, value in [("Color", "blue"), ("RawMessageDelivery", "maybe"), ("RedrivePolicy", '{"x": 1}'),
                        ("DeliveryPolicy", '{"healthyRetryPolicy": {"numRetries": 3}}')]:
        with pytest.raises(ClientError) as excinfo:
            sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName=name, AttributeValue=value)
        assert error_of(excinfo)[0] == "InvalidParameter", name


def test_unknown_and_malformed_subscription_arns(sns: Any, topic_arn: str) -> None:
    missing = f"{topic_arn}:00000000-0000-0000-0000-000000000000"
    with pytest.raises(ClientError) as excinfo:
        sns.get_subscription_attributes(SubscriptionArn=missing)
    assert error_of(excinfo) == ("NotFound", "Subscription does not exist", 404)
    sns.unsubscribe(SubscriptionArn=missing)  # AWS answers success for an unknown subscription
    with pytest.raises(ClientError) as excinfo:
        sns.unsubscribe(SubscriptionArn="junk")
    assert error_of(excinfo)[0] == "InvalidParameter"


def test_email_subscription_is_pending_until_confirmed_with_its_token(sns: Any, server: ServerProcess,
                                                                      topic_arn: str) -> None:
    endpoint = f"{topic_arn.rsplit(':', 1)[1]}@example.com"
    assert sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=endpoint)["SubscriptionArn"] == \
        "pending confirmation"
    listed = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == ["PendingConfirmation"]
    confirmation = wait_for(lambda: captured(server, endpoint=endpoint, type="SubscriptionConfirmation"))[0]
    assert confirmation["token"] and "Action=ConfirmSubscription" in confirmation["subscribe_url"]
    with pytest.raises(ClientError) as excinfo:
        sns.confirm_subscription(TopicArn=topic_arn, Token="wrong")
    assert error_of(excinfo)[0] == "InvalidParameter"
    arn = sns.confirm_subscription(TopicArn=topic_arn, Token=confirmation["token"])["SubscriptionArn"]
    assert sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["PendingConfirmation"] == "false"
    sns.publish(TopicArn=topic_arn, Message="hi there", Subject="Greeting")
    delivered = wait_for(lambda: captured(server, endpoint=endpoint, type="Notification"))[0]
    assert (delivered["message"], delivered["subject"], delivered["protocol"]) == ("hi there", "Greeting", "email")


def test_subscribe_url_get_confirms_a_subscription(sns: Any, server: ServerProcess, topic_arn: str) -> None:
    endpoint = f"json-{topic_arn.rsplit(':', 1)[1]}@example.com"
    arn = sns.subscribe(TopicArn=topic_arn, Protocol="email-json", Endpoint=endpoint,
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    confirmation = wait_for(lambda: captured(server, endpoint=endpoint, type="SubscriptionConfirmation"))[0]
    url = confirmation["subscribe_url"].replace("http://localhost:", "http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=5) as response:
        body = response.read().decode()
    assert "<ConfirmSubscriptionResponse" in body and arn in body
    assert sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["PendingConfirmation"] == "false"


def test_list_subscriptions_pages_and_shows_every_protocol(sns: Any, topic_arn: str) -> None:
    for i in range(103):
        sns.subscribe(TopicArn=topic_arn, Protocol="sms", Endpoint=f"+1555{i:07d}")
    pages = list(sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn))
    assert len(pages) == 2 and len(pages[0]["Subscriptions"]) == 100
    listed = [s for page in pages for s in page["Subscriptions"]]
    assert len({s["SubscriptionArn"] for s in listed}) == 103
    everywhere = [s for page in sns.get_paginator("list_subscriptions").paginate() for s in page["Subscriptions"]
                  if s["TopicArn"] == topic_arn]
    assert len(everywhere) == 103 and {s["Protocol"] for s in everywhere} == {"sms"}


def test_unsubscribe_url_removes_the_subscription(sns: Any, sqs: Any, topic_arn: str, make_queue: Any) -> None:
    url, queue_arn = make_queue()
    arn = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    sns.publish(TopicArn=topic_arn, Message="x")
    from tests.sns.conftest import receive

    envelope = json.loads(receive(sqs, url, 1)[0]["Body"])
    with urllib.request.urlopen(envelope["UnsubscribeURL"].replace("localhost", "127.0.0.1"), timeout=5) as response:
        assert response.status == 200
    with pytest.raises(ClientError):
        sns.get_subscription_attributes(SubscriptionArn=arn)
