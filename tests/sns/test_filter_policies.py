"""Every filter-policy form, in both FilterPolicyScopes, end to end through SQS subscriptions."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.sns.conftest import receive

# (policy, ids of the messages below that it lets through)
CASES: dict[str, tuple[dict[str, Any], set[str]]] = {
    "exact": ({"store": ["example_corp"]}, {"m1"}),
    "anything-but": ({"store": [{"anything-but": ["example_corp"]}]}, {"m2", "m4"}),
    "anything-but-prefix": ({"store": [{"anything-but": {"prefix": "exa"}}]}, {"m2", "m4"}),
    "prefix": ({"store": [{"prefix": "exa"}]}, {"m1"}),
    "suffix": ({"store": [{"suffix": "_corp"}]}, {"m1"}),
    "equals-ignore-case": ({"store": [{"equals-ignore-case": "EXAMPLE_CORP"}]}, {"m1", "m4"}),
    "numeric-equals": ({"price": [{"numeric": ["=", 100]}]}, {"m1"}),
    "numeric-range": ({"price": [{"numeric": [">", 0, "<=", 150]}]}, {"m1", "m2", "m4"}),
    "exists": ({"store": [{"exists": True}]}, {"m1", "m2", "m4"}),
    "not-exists": ({"store": [{"exists": False}]}, {"m3", "m5"}),
    "cidr": ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"m1"}),
    "or": ({"$or": [{"store": ["other"]}, {"price": [{"numeric": [">", 500]}]}]}, {"m2", "m3"}),
    "array-member": ({"colors": ["red"]}, {"m1"}),
    "and": ({"store": ["example_corp"], "price": [{"numeric": ["<=", 100]}]}, {"m1"}),
}
MESSAGES: dict[str, dict[str, Any]] = {
    "m1": {"store": "example_corp", "price": 100, "ip": "10.0.0.5", "colors": ["red", "blue"]},
    "m2": {"store": "other", "price": 20},
    "m3": {"price": 600, "colors": ["green"]},
    "m4": {"store": "EXAMPLE_CORP", "price": 40, "ip": "192.168.1.1"},
    "m5": {"unrelated": "x"},
}


def as_attributes(fields: dict[str, Any]) -> dict[str, dict[str, str]]:
    out = {}
    for name, value in fields.items():
        if isinstance(value, list):
            out[name] = {"DataType": "String.Array", "StringValue": json.dumps(value)}
        elif isinstance(value, (int, float)):
            out[name] = {"DataType": "Number", "StringValue": str(value)}
        else:
            out[name] = {"DataType": "String", "StringValue": value}
    return out


@pytest.mark.parametrize("scope", ["MessageAttributes", "MessageBody"])
def test_each_policy_form_lets_through_exactly_its_messages(sns: Any, sqs: Any, make_queue: Any, unique: str,
                                                            scope: str) -> None:
    topic_arn = sns.create_topic(Name=f"filters-{scope}-{unique}")["TopicArn"]
    queues = {}
    for name, (policy, _) in CASES.items():
        url, arn = make_queue()
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={
            "FilterPolicy": json.dumps(policy), "FilterPolicyScope": scope, "RawMessageDelivery": "true"})
        queues[name] = url
    for message_id, fields in MESSAGES.items():
        if scope == "MessageAttributes":
            sns.publish(TopicArn=topic_arn, Message=message_id, MessageAttributes=as_attributes(fields))
        else:
            sns.publish(TopicArn=topic_arn, Message=json.dumps({"id": message_id, **fields}))
    for name, (_, expected) in CASES.items():
        bodies = [m["Body"] for m in receive(sqs, queues[name], len(expected))]
        got = {b if scope == "MessageAttributes" else json.loads(b)["id"] for b in bodies}
        assert got == expected, name
    time.sleep(0.3)  # anything that should not have matched would have arrived by now
    for name, url in queues.items():
        assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == [], name


def test_body_scope_matches_nested_fields_and_never_non_json(sns: Any, sqs: Any, topic_arn: str,
                                                             make_queue: Any) -> None:
    url, arn = make_queue()
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={
        "FilterPolicy": json.dumps({"detail": {"kind": ["order"], "total": [{"numeric": [">=", 10]}]}}),
        "FilterPolicyScope": "MessageBody", "RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic_arn, Message="plain text, not JSON")
    sns.publish(TopicArn=topic_arn, Message=json.dumps({"detail": {"kind": "order", "total": 5}}))
    wanted = json.dumps({"detail": {"kind": "order", "total": 12}})
    sns.publish(TopicArn=topic_arn, Message=wanted)
    assert [m["Body"] for m in receive(sqs, url, 1)] == [wanted]
    time.sleep(0.3)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []


def test_changing_a_filter_policy_takes_effect_for_the_next_publish(sns: Any, sqs: Any, topic_arn: str,
                                                                    make_queue: Any) -> None:
    url, arn = make_queue()
    subscription = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={
        "FilterPolicy": json.dumps({"k": ["a"]}), "RawMessageDelivery": "true"})["SubscriptionArn"]
    sns.set_subscription_attributes(SubscriptionArn=subscription, AttributeName="FilterPolicy",
                                    AttributeValue=json.dumps({"k": ["b"]}))
    sns.publish(TopicArn=topic_arn, Message="a", MessageAttributes={"k": {"DataType": "String", "StringValue": "a"}})
    sns.publish(TopicArn=topic_arn, Message="b", MessageAttributes={"k": {"DataType": "String", "StringValue": "b"}})
    assert [m["Body"] for m in receive(sqs, url, 1)] == ["b"]
