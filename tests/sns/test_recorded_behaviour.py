"""SNS answers as recorded against AWS (LocalStack's AWS-validated snapshots): codes, wording,
statuses, delivery shapes and the checks AWS makes."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess
from tests.sns.conftest import receive
from tests.sns.test_topics import error_of


def _error(call: Any, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    return error_of(excinfo)


def test_another_regions_topic_is_an_invalid_topic_arn_for_every_operation(server: ServerProcess, sns: Any,
                                                                           topic_arn: str) -> None:
    elsewhere = server.client("sns", region="eu-west-1")
    expected = ("InvalidParameter", "Invalid parameter: TopicArn", 400)
    assert _error(elsewhere.get_topic_attributes, TopicArn=topic_arn) == expected
    assert _error(elsewhere.publish, TopicArn=topic_arn, Message="m") == expected
    assert _error(elsewhere.subscribe, TopicArn=topic_arn, Protocol="email", Endpoint="a@example.com") == expected
    assert _error(elsewhere.delete_topic, TopicArn=topic_arn) == expected
    assert sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["TopicArn"] == topic_arn


def test_add_permission_refuses_actions_sns_does_not_have(sns: Any, topic_arn: str) -> None:
    sns.add_permission(TopicArn=topic_arn, Label="p", AWSAccountId=["000000000000"], ActionName=["Publish"])
    assert _error(sns.add_permission, TopicArn=topic_arn, Label="p", AWSAccountId=["000000000000"],
                  ActionName=["Publish"]) == ("InvalidParameter", "Invalid parameter: Statement already exists", 400)
    assert _error(sns.add_permission, TopicArn=topic_arn, Label="q", AWSAccountId=["000000000000"],
                  ActionName=["InvalidAction"]) == (
        "InvalidParameter", "Invalid parameter: Policy statement action out of service scope!", 400)


@pytest.mark.parametrize("number", ["+15--551234567", "NAA+15551234567", "+15551234567.", "/+15551234567"])
def test_subscribing_a_malformed_phone_number_names_it(sns: Any, topic_arn: str, number: str) -> None:
    assert _error(sns.subscribe, TopicArn=topic_arn, Protocol="sms", Endpoint=number) == (
        "InvalidParameter", f"Invalid SMS endpoint: {number}", 400)


@pytest.mark.parametrize("attributes, message", [
    ({"attr1": {"DataType": "String", "BinaryValue": b"1"}},
     "The message attribute 'attr1' with type 'String' must use field 'String'."),
    ({"attr1": {"DataType": "Number", "BinaryValue": b"1"}},
     "The message attribute 'attr1' with type 'Number' must use field 'String'."),
    ({"attr1": {"DataType": "Binary", "StringValue": "1"}},
     "The message attribute 'attr1' with type 'Binary' must use field 'Binary'."),
    ({"attr1": {"DataType": "Binary", "BinaryValue": b""}},
     "The message attribute 'attr1' must contain non-empty message attribute value for message attribute type "
     "'Binary'."),
    ({"attr1": {"DataType": "String.", "StringValue": "x"}},
     "The message attribute 'attr1' has an invalid message attribute type, the set of supported type prefixes is "
     "Binary, Number, and String."),
    ({"attr1": {"DataType": "Stringprefixed", "StringValue": "x"}},
     "The message attribute 'attr1' has an invalid message attribute type, the set of supported type prefixes is "
     "Binary, Number, and String."),
    ({"a" * 257: {"DataType": "String", "StringValue": "x"}},
     "Length of message attribute name must be less than 256 bytes."),
    ({"a^*?": {"DataType": "String", "StringValue": "x"}},
     "Invalid non-alphanumeric character '#x5E' was found in the message attribute name. Can only include "
     "alphanumeric characters, hyphens, underscores, or dots."),
    ({".abc": {"DataType": "String", "StringValue": "x"}},
     "Invalid message attribute name starting with character '.' was found."),
    ({"abc.": {"DataType": "String", "StringValue": "x"}},
     "Invalid message attribute name ending with character '.' was found."),
    ({"a..bc": {"DataType": "String", "StringValue": "x"}},
     "Message attribute name can not have successive '.' character."),
])
def test_message_attribute_mistakes_in_aws_words(sns: Any, topic_arn: str, attributes: dict[str, Any],
                                                 message: str) -> None:
    assert _error(sns.publish, TopicArn=topic_arn, Message="m", MessageAttributes=attributes) == (
        "ParameterValueInvalid", message, 400)
    # In a batch the same mistake fails the whole request.
    assert _error(sns.publish_batch, TopicArn=topic_arn, PublishBatchRequestEntries=[
        {"Id": "1", "Message": "m", "MessageAttributes": attributes}, {"Id": "2", "Message": "ok"}]) == (
        "ParameterValueInvalid", message, 400)


def test_custom_data_type_labels_are_accepted(sns: Any, topic_arn: str) -> None:
    for data_type in ("String.prefixed", "String.  prefixed."):
        assert sns.publish(TopicArn=topic_arn, Message="m",
                           MessageAttributes={"a": {"DataType": data_type, "StringValue": "x"}})["MessageId"]


def test_a_member_missing_inside_a_structure_is_the_front_ends_validation_error(server: ServerProcess,
                                                                                topic_arn: str) -> None:
    sns = boto3.client("sns", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                       aws_secret_access_key="secret", config=Config(parameter_validation=False))
    assert _error(sns.publish, TopicArn=topic_arn, Message="m", MessageAttributes={"attr1": {"StringValue": "v"}}) == (
        "ValidationError", "1 validation error detected: Value null at 'messageAttributes.attr1.member.dataType' "
                           "failed to satisfy constraint: Member must not be null", 400)
    assert _error(sns.unsubscribe) == (
        "InvalidParameter", "Invalid parameter: SubscriptionArn Reason: no value for required parameter", 400)


def test_a_fifo_topics_group_id_reaches_fifo_queues_only(sns: Any, sqs: Any, unique: str, make_queue: Any) -> None:
    fifo_topic = sns.create_topic(Name=f"f-{unique}.fifo", Attributes={"FifoTopic": "true",
                                                                       "ContentBasedDeduplication": "true"})["TopicArn"]
    standard_url, standard_arn = make_queue()
    sns.subscribe(TopicArn=fifo_topic, Protocol="sqs", Endpoint=standard_arn)
    sns.publish(TopicArn=fifo_topic, Message="m", MessageGroupId="g1")
    [message] = receive(sqs, standard_url, 1, MessageSystemAttributeNames=["All"])
    assert "MessageGroupId" not in message.get("Attributes", {})
    body = json.loads(message["Body"])
    # FIFO notifications are not signed, and the unsubscribe link keeps the ARN as it is.
    assert "Signature" not in body and "SigningCertURL" not in body and "SignatureVersion" not in body
    assert body["UnsubscribeURL"].endswith("SubscriptionArn=" + body["TopicArn"] +
                                           body["UnsubscribeURL"].rsplit(body["TopicArn"], 1)[1])


def test_a_standard_topics_group_id_reaches_standard_queues(sns: Any, sqs: Any, topic_arn: str,
                                                            make_queue: Any) -> None:
    url, arn = make_queue()
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic_arn, Message="m", MessageGroupId="my-group-id-1")
    [message] = receive(sqs, url, 1, MessageSystemAttributeNames=["All"])
    assert message["Attributes"]["MessageGroupId"] == "my-group-id-1"
    assert "SubscriptionArn=arn:aws:sns:" in json.loads(message["Body"])["UnsubscribeURL"]


def test_fifo_subscription_rules(sns: Any, unique: str, make_queue: Any, topic_arn: str) -> None:
    _, fifo_queue = make_queue(fifo=True)
    assert _error(sns.subscribe, TopicArn=topic_arn, Protocol="sqs", Endpoint=fifo_queue) == (
        "InvalidParameter", "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be "
                            "subscribed to standard SNS topics", 400)
    fifo_topic = sns.create_topic(Name=f"f-{unique}.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    subscription = sns.subscribe(TopicArn=fifo_topic, Protocol="sqs", Endpoint=fifo_queue)["SubscriptionArn"]
    _, standard_dlq = make_queue()
    assert _error(sns.set_subscription_attributes, SubscriptionArn=subscription, AttributeName="RedrivePolicy",
                  AttributeValue=json.dumps({"deadLetterTargetArn": standard_dlq})) == (
        "InvalidParameter", "Invalid parameter: RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription "
                            "to a FIFO Topic.", 400)


def test_a_scope_set_before_the_policy_is_kept_and_filters_the_body(sns: Any, sqs: Any, topic_arn: str,
                                                                    make_queue: Any) -> None:
    url, arn = make_queue()
    subscription = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn,
                                 Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
    sns.set_subscription_attributes(SubscriptionArn=subscription, AttributeName="FilterPolicyScope",
                                    AttributeValue="MessageBody")
    assert "FilterPolicyScope" not in sns.get_subscription_attributes(SubscriptionArn=subscription)["Attributes"]
    sns.set_subscription_attributes(SubscriptionArn=subscription, AttributeName="FilterPolicy",
                                    AttributeValue=json.dumps({"object": {"key": [{"prefix": "auto-"}]}}))
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription)["Attributes"]
    assert attributes["FilterPolicyScope"] == "MessageBody"
    sns.publish(TopicArn=topic_arn, Message=json.dumps({"object": {"key": "manual-1"}}))
    sns.publish(TopicArn=topic_arn, Message=json.dumps({"object": {"key": "auto-1"}}))
    [message] = receive(sqs, url, 1)
    assert json.loads(message["Body"]) == {"object": {"key": "auto-1"}}


def test_nested_keys_count_their_depth_in_a_policys_combinations(sns: Any, topic_arn: str, make_queue: Any) -> None:
    _, arn = make_queue()
    subscription = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn,
                                 Attributes={"FilterPolicyScope": "MessageBody"})["SubscriptionArn"]
    policy = {"key_a": {"key_b": {"key_c": ["v1", "v2", "v3", "v4"]}}, "key_d": {"key_e": ["v1", "v2", "v3"]},
              "key_f": ["v1", "v2", "v3"]}  # 3 x 4 x 2 x 3 x 1 x 3 = 216 > 150
    assert _error(sns.set_subscription_attributes, SubscriptionArn=subscription, AttributeName="FilterPolicy",
                  AttributeValue=json.dumps(policy)) == (
        "InvalidParameter", "Invalid parameter: FilterPolicy: Filter policy is too complex", 400)


def test_the_subscriber_is_the_principal_that_signed(server: ServerProcess, sns: Any, topic_arn: str,
                                                     make_queue: Any, unique: str) -> None:
    _, arn = make_queue()
    root = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
    assert sns.get_subscription_attributes(SubscriptionArn=root)["Attributes"]["SubscriptionPrincipal"] == \
        "arn:aws:iam::000000000000:root"
    iam = server.client("iam")
    iam.create_user(UserName=f"u-{unique}")
    key = iam.create_access_key(UserName=f"u-{unique}")["AccessKey"]
    as_user = boto3.client("sns", endpoint_url=server.url, region_name="us-east-1",
                           aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    _, other = make_queue()
    subscription = as_user.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=other)["SubscriptionArn"]
    assert sns.get_subscription_attributes(SubscriptionArn=subscription)["Attributes"]["SubscriptionPrincipal"] == \
        f"arn:aws:iam::000000000000:user/u-{unique}"


def test_confirm_subscription_token_errors(sns: Any, topic_arn: str) -> None:
    assert _error(sns.confirm_subscription, TopicArn=topic_arn, Token="randomtoken") == (
        "InvalidParameter", "Invalid token", 400)
    assert _error(sns.confirm_subscription, TopicArn=topic_arn, Token="ab" * 64) == (
        "InvalidParameter", "Invalid parameter: Token", 400)
    assert _error(sns.confirm_subscription, TopicArn=topic_arn + "-gone", Token="ab" * 64) == (
        "InvalidParameter", "Invalid parameter: Token", 400)


def test_batch_entry_ids_and_tags_in_aws_words(sns: Any, topic_arn: str) -> None:
    assert _error(sns.publish_batch, TopicArn=topic_arn, PublishBatchRequestEntries=[
        {"Id": "message.id", "Message": "m"}]) == (
        "InvalidBatchEntryId", "The Id of a batch entry in the batch request contains an impermissible character: "
                               "message.id", 400)
    assert _error(sns.publish_batch, TopicArn=topic_arn, PublishBatchRequestEntries=[
        {"Id": "a" * 81, "Message": "m"}]) == (
        "InvalidBatchEntryId", f"The Id of a batch entry in the batch request is too long: {'a' * 81}", 400)
    assert _error(sns.tag_resource, ResourceArn=topic_arn, Tags=[{"Key": "k", "Value": "1"},
                                                                 {"Key": "k", "Value": "2"}]) == (
        "InvalidParameter", "Invalid parameter: Duplicated keys are not allowed.", 400)


def test_arn_shape_errors_count_the_elements(sns: Any) -> None:
    assert _error(sns.subscribe, TopicArn="arn:aws:sns:us-east-1:random", Protocol="email",
                  Endpoint="a@example.com") == (
        "InvalidParameter", "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 5", 400)
    assert _error(sns.unsubscribe, SubscriptionArn="arn:aws:sns:us-east-1:000000000000:random") == (
        "InvalidParameter", "Invalid parameter: SubscriptionId", 400)


def test_topics_and_subscriptions_page_by_100_with_sealed_tokens(fresh_server: ServerProcess) -> None:
    sns = fresh_server.client("sns")
    arns = sorted(sns.create_topic(Name=f"page-{i:03d}")["TopicArn"] for i in range(101))
    first = sns.list_topics()
    assert [t["TopicArn"] for t in first["Topics"]] == arns[:100]
    rest = sns.list_topics(NextToken=first["NextToken"])
    assert [t["TopicArn"] for t in rest["Topics"]] == arns[100:] and "NextToken" not in rest
    with pytest.raises(ClientError) as raised:
        sns.list_subscriptions(NextToken=first["NextToken"])  # a topics token is no subscriptions token
    assert raised.value.response["Error"]["Code"] == "InvalidParameter"
    assert raised.value.response["Error"]["Message"] == "Invalid parameter: NextToken"


@pytest.mark.parametrize("name,message", [
    ("a" * 257, f"Invalid parameter: {'a' * 257} Reason: must be at most 256 characters long"),
    ("", "Invalid parameter:  Reason: cannot be empty"),
    ("@name", "Invalid parameter: @name Reason: must contain only characters 'a'-'z', 'A'-'Z', '0'-'9', '_', '-', "
              "and '.'"),
])
def test_platform_application_names_in_aws_words(sns: Any, name: str, message: str) -> None:
    with pytest.raises(ClientError) as raised:
        sns.create_platform_application(Name=name, Platform="ADM", Attributes={
            "PlatformPrincipal": "id", "PlatformCredential": "secret"})
    assert error_of(raised) == ("InvalidParameter", message, 400)


def test_platform_application_checks_in_aws_order(sns: Any, unique: str) -> None:
    cases = [
        (dict(Platform="AAA", Attributes={"PlatformPrincipal": "id", "PlatformCredential": "s"}),
         ("InvalidParameter", "Invalid parameter: Platform Reason: AAA is not supported", 400)),
        (dict(Platform="ADM", Attributes={"PlatformPrincipal": "id"}),
         ("InvalidParameter", "Invalid parameter: Attributes Reason: PlatformPrincipal attribute provided without "
                              "PlatformCredential", 400)),
        (dict(Platform="ADM", Attributes={"PlatformCredential": "s"}),
         ("InvalidParameter", "Invalid parameter: Attributes Reason: PlatformCredential attribute provided without "
                              "PlatformPrincipal", 400)),
        (dict(Platform="ADM", Attributes={}),
         ("ValidationError", "1 validation error detected: Value null at 'attributes' failed to satisfy constraint: "
                             "Member must not be null", 400)),
    ]
    for params, expected in cases:
        with pytest.raises(ClientError) as raised:
            sns.create_platform_application(Name=f"app-{unique}", **params)
        assert error_of(raised) == expected
    with pytest.raises(ClientError) as raised:  # the ARN is judged before the missing attributes
        sns.set_platform_application_attributes(PlatformApplicationArn="invalid-arn", Attributes={})
    assert error_of(raised) == ("InvalidParameter", "Invalid parameter: PlatformApplicationArn Reason: An ARN must "
                                "have at least 6 elements, not 1", 400)


def test_sms_wording(sns: Any) -> None:
    for attributes, message in (({"InvalidAttribute": "x"}, "InvalidAttribute is not a valid attribute"),
                                ({"DefaultSMSType": "invalid"}, "DefaultSMSType is invalid")):
        with pytest.raises(ClientError) as raised:
            sns.set_sms_attributes(attributes=attributes)
        assert error_of(raised) == ("InvalidParameter", message, 400)
    with pytest.raises(ClientError) as raised:
        sns.publish(Message="m", PhoneNumber="+1a234")
    assert error_of(raised) == ("InvalidParameter", "Invalid parameter: PhoneNumber Reason: +1a234 is not valid to "
                                "publish to", 400)
    with pytest.raises(ClientError) as raised:
        sns.opt_in_phone_number(phoneNumber="+1a234")
    assert error_of(raised) == ("InvalidParameter", "Invalid parameter: PhoneNumber Reason: input incorrectly "
                                "formatted", 400)
    with pytest.raises(ClientError) as raised:
        sns.publish(Message="m", TargetArn="arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/none")
    assert error_of(raised) == ("InvalidParameter", "Invalid parameter: TargetArn Reason: No endpoint found for the "
                                "target arn specified", 400)


def test_delivery_status_logging_records_successful_sqs_deliveries(server: ServerProcess, sns: Any,
                                                                   unique: str) -> None:
    sqs, logs = server.client("sqs"), server.client("logs")
    topic_arn = sns.create_topic(Name=f"status-{unique}")["TopicArn"]
    url = sqs.create_queue(QueueName=f"status-{unique}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    sns.publish(TopicArn=topic_arn, Message="not logged")  # no feedback role yet
    assert len(receive(sqs, url, 1)) == 1
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="SQSSuccessFeedbackRoleArn",
                             AttributeValue="arn:aws:iam::000000000000:role/sns-feedback")
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="SQSSuccessFeedbackSampleRate", AttributeValue="100")
    message_id = sns.publish(TopicArn=topic_arn, Message="logged")["MessageId"]
    assert len(receive(sqs, url, 1)) == 1
    group = f"sns/us-east-1/000000000000/status-{unique}"
    deadline = time.monotonic() + 10
    while True:
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"] if logs.describe_log_groups(
            logGroupNamePrefix=group)["logGroups"] else []
        if streams:
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    [stream] = streams
    [event] = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])["events"]
    record = json.loads(event["message"])
    assert record["status"] == "SUCCESS" and record["notification"]["messageId"] == message_id
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", record["notification"]["timestamp"])
    assert record["delivery"]["destination"] == queue_arn and record["delivery"]["statusCode"] == 200
    assert "sqsMessageId" in json.loads(record["delivery"]["providerResponse"])


def test_missing_attributes_are_judged_before_the_applications_existence(sns: Any) -> None:
    arn = "arn:aws:sns:us-east-1:000000000000:app/GCM/none"
    with pytest.raises(ClientError) as raised:
        sns.set_platform_application_attributes(PlatformApplicationArn=arn, Attributes={})
    assert error_of(raised)[0] == "ValidationError"
    with pytest.raises(ClientError) as raised:
        sns.set_platform_application_attributes(PlatformApplicationArn=arn, Attributes={"Enabled": "true"})
    assert error_of(raised) == ("NotFound", "PlatformApplication does not exist", 404)
