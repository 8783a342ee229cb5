"""Topics over the live server: creation rules, attributes, tags, permissions, listing."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.signing import signed_headers


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"], excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_create_topic_returns_an_arn_and_is_idempotent(sns: Any, unique: str) -> None:
    arn = sns.create_topic(Name=f"t-{unique}")["TopicArn"]
    assert arn == f"arn:aws:sns:us-east-1:000000000000:t-{unique}"
    assert sns.create_topic(Name=f"t-{unique}")["TopicArn"] == arn


def test_create_topic_with_other_attributes_than_the_existing_one_is_rejected(sns: Any, unique: str) -> None:
    sns.create_topic(Name=f"t-{unique}", Attributes={"DisplayName": "a"})
    with pytest.raises(ClientError) as excinfo:
        sns.create_topic(Name=f"t-{unique}", Attributes={"DisplayName": "b"})
    assert error_of(excinfo)[0] == "InvalidParameter"
    assert "Topic already exists with different attributes" in error_of(excinfo)[1]


@pytest.mark.parametrize("name", ["has space", "a" * 257, "bad!char", "x.fifo"])
def test_invalid_topic_names_are_invalid_parameters(sns: Any, name: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sns.create_topic(Name=name)
    assert error_of(excinfo) == ("InvalidParameter", "Invalid parameter: Topic Name", 400)


def test_fifo_topic_needs_the_fifo_suffix(sns: Any, unique: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sns.create_topic(Name=f"t-{unique}", Attributes={"FifoTopic": "true"})
    # AWS words FIFO naming mistakes as any other (recorded in LocalStack's AWS-validated snapshots).
    assert error_of(excinfo) == ("InvalidParameter", "Invalid parameter: Topic Name", 400)


def test_fifo_topic_attributes(sns: Any, unique: str) -> None:
    arn = sns.create_topic(Name=f"t-{unique}.fifo", Attributes={"FifoTopic": "true",
                                                                "ContentBasedDeduplication": "true"})["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["FifoTopic"] == "true"
    assert attributes["ContentBasedDeduplication"] == "true"
    sns.set_topic_attributes(TopicArn=arn, AttributeName="ContentBasedDeduplication", AttributeValue="false")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["ContentBasedDeduplication"] == "false"
    sns.set_topic_attributes(TopicArn=arn, AttributeName="ArchivePolicy",
                             AttributeValue='{"MessageRetentionPeriod": "30"}')
    assert json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["ArchivePolicy"]) == {
        "MessageRetentionPeriod": "30"}


def test_content_based_deduplication_is_for_fifo_topics_only(sns: Any, topic_arn: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="ContentBasedDeduplication", AttributeValue="true")
    assert error_of(excinfo)[0] == "InvalidParameter"


def test_topic_attributes_have_aws_defaults_and_counts(sns: Any, topic_arn: str, make_queue: Any) -> None:
    attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    assert attributes["TopicArn"] == topic_arn
    assert attributes["Owner"] == "000000000000"
    assert attributes["SubscriptionsConfirmed"] == "0"
    assert attributes["SubscriptionsPending"] == "0"
    assert attributes["SubscriptionsDeleted"] == "0"
    policy = json.loads(attributes["Policy"])
    assert policy["Statement"][0]["Resource"] == topic_arn
    assert json.loads(attributes["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3
    _, queue_arn = make_queue()
    arn = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint="someone@example.com")
    attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    assert (attributes["SubscriptionsConfirmed"], attributes["SubscriptionsPending"]) == ("1", "1")
    sns.unsubscribe(SubscriptionArn=arn)
    attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    assert (attributes["SubscriptionsConfirmed"], attributes["SubscriptionsDeleted"]) == ("0", "1")


def test_set_topic_attributes_round_trip(sns: Any, topic_arn: str) -> None:
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="DisplayName", AttributeValue="My Topic")
    policy = {"http": {"defaultHealthyRetryPolicy": {"numRetries": 5, "minDelayTarget": 2, "maxDelayTarget": 10}}}
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(policy))
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="SignatureVersion", AttributeValue="2")
    attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    assert attributes["DisplayName"] == "My Topic"
    assert attributes["SignatureVersion"] == "2"
    assert json.loads(attributes["DeliveryPolicy"]) == policy
    effective = json.loads(attributes["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]
    assert (effective["numRetries"], effective["minDelayTarget"], effective["maxDelayTarget"]) == (5, 2, 10)


@pytest.mark.parametrize("name,value", [("SignatureVersion", "3"), ("TracingConfig", "Sometimes"),
                                        ("Policy", "{not json"), ("DeliveryPolicy", '{"http": 5}'),
                                        ("NoSuchAttribute", "x")])
def test_invalid_topic_attributes_are_rejected(sns: Any, topic_arn: str, name: str, value: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sns.set_topic_attributes(TopicArn=topic_arn, AttributeName=name, AttributeValue=value)
    assert error_of(excinfo)[0] == "InvalidParameter"


def test_missing_topic_is_not_found_with_404(sns: Any, unique: str) -> None:
    arn = f"arn:aws:sns:us-east-1:000000000000:missing-{unique}"
    with pytest.raises(ClientError) as excinfo:
        sns.get_topic_attributes(TopicArn=arn)
    assert error_of(excinfo) == ("NotFound", "Topic does not exist", 404)
    with pytest.raises(ClientError) as excinfo:
        sns.publish(TopicArn=arn, Message="x")
    assert error_of(excinfo) == ("NotFound", "Topic does not exist", 404)


def test_malformed_topic_arn_is_an_invalid_parameter(sns: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sns.get_topic_attributes(TopicArn="not-an-arn")
    assert error_of(excinfo) == ("InvalidParameter", "Invalid parameter: TopicArn Reason: An ARN must have at least "
                                 "6 elements, not 1", 400)
    with pytest.raises(ClientError) as excinfo:
        sns.get_topic_attributes(TopicArn="arn:aws:sns:us-east-1:000000000000:bad/name")
    assert error_of(excinfo) == ("InvalidParameter", "Invalid parameter: TopicArn", 400)


def test_delete_topic_removes_it_and_its_subscriptions_and_is_idempotent(sns: Any, topic_arn: str,
                                                                        make_queue: Any) -> None:
    _, queue_arn = make_queue()
    subscription = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    sns.delete_topic(TopicArn=topic_arn)
    sns.delete_topic(TopicArn=topic_arn)
    with pytest.raises(ClientError) as excinfo:
        sns.get_topic_attributes(TopicArn=topic_arn)
    assert error_of(excinfo)[0] == "NotFound"
    with pytest.raises(ClientError) as excinfo:
        sns.get_subscription_attributes(SubscriptionArn=subscription)
    assert error_of(excinfo) == ("NotFound", "Subscription does not exist", 404)


def test_list_topics_pages_by_100(sns: Any, unique: str) -> None:
    created = {sns.create_topic(Name=f"page-{unique}-{i:03d}")["TopicArn"] for i in range(105)}
    seen: list[str] = []
    pages = 0
    kwargs: dict[str, str] = {}
    while True:
        response = sns.list_topics(**kwargs)
        pages += 1
        assert len(response["Topics"]) <= 100
        seen.extend(t["TopicArn"] for t in response["Topics"])
        if "NextToken" not in response:
            break
        kwargs = {"NextToken": response["NextToken"]}
    assert pages >= 2
    assert created <= set(seen)
    assert len(seen) == len(set(seen))
    paginated = [t["TopicArn"] for page in sns.get_paginator("list_topics").paginate() for t in page["Topics"]]
    assert created <= set(paginated)


def test_tags_round_trip_and_limits(sns: Any, unique: str) -> None:
    arn = sns.create_topic(Name=f"t-{unique}", Tags=[{"Key": "team", "Value": "a"}])["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "b"}])
    tags = {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"]}
    assert tags == {"team": "b", "env": "dev"}
    sns.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    with pytest.raises(ClientError) as excinfo:
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert error_of(excinfo)[0] == "TagLimitExceeded"
    with pytest.raises(ClientError) as excinfo:
        sns.list_tags_for_resource(ResourceArn=f"arn:aws:sns:us-east-1:000000000000:none-{unique}")
    assert error_of(excinfo) == ("ResourceNotFound", "Resource does not exist", 404)


def test_add_and_remove_permission_edit_the_topic_policy(sns: Any, topic_arn: str) -> None:
    sns.add_permission(TopicArn=topic_arn, Label="share", AWSAccountId=["111122223333"], ActionName=["Publish"])
    statements = json.loads(sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Policy"])["Statement"]
    added = [s for s in statements if s["Sid"] == "share"][0]
    assert added["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert added["Action"] == "SNS:Publish"
    sns.remove_permission(TopicArn=topic_arn, Label="share")
    statements = json.loads(sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["__default_statement_ID"]


def test_data_protection_policy_round_trip(sns: Any, topic_arn: str) -> None:
    policy = json.dumps({"Name": "p", "Version": "2021-06-01", "Statement": []})
    sns.put_data_protection_policy(ResourceArn=topic_arn, DataProtectionPolicy=policy)
    assert sns.get_data_protection_policy(ResourceArn=topic_arn)["DataProtectionPolicy"] == policy


def test_an_action_sns_does_not_have_answers_invalid_action(server: Any) -> None:
    body = b"Action=ListPlatformApplicationz&Version=2010-03-31"
    headers = signed_headers("POST", f"{server.url}/", body,
                             {"Content-Type": "application/x-www-form-urlencoded"}, "sns")
    request = urllib.request.Request(f"{server.url}/", data=body, headers=headers, method="POST")
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=5)
    assert answer.value.code == 400
    assert b"<Code>InvalidAction</Code>" in answer.value.read()
