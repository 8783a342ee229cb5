"""`--auth sigv4` with two accounts: another account's resource, named by its full ARN or queue URL, is
refused with the service's own AWS error until the owner's resource policy grants it; an explicit Deny
always wins; deliveries a service makes into another account need the target's policy too."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import CLIENT_CONFIG, ServerProcess, start_authenticated
from tests.kinesis.conftest import FAST_TRANSITIONS, wait_for_status

OWNER = ("AKIAOWNER00000000001", "owner-secret", "111111111111")
OTHER = ("AKIAOTHER00000000002", "other-secret", "222222222222")
OTHER_ROOT = f"arn:aws:iam::{OTHER[2]}:root"


@pytest.fixture(scope="module")
def two_accounts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = start_authenticated(tmp_path_factory.mktemp("cross-account") / "data", OWNER, OTHER, env=FAST_TRANSITIONS)
    yield process
    process.stop()


def client(server: ServerProcess, service: str, key: tuple[str, str, str] = OWNER) -> Any:
    return boto3.client(service, endpoint_url=server.url, region_name="us-east-1", aws_access_key_id=key[0],
                        aws_secret_access_key=key[1], config=CLIENT_CONFIG)


def refusal(call: Callable[[], Any]) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response
    return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"], error["Error"].get("Message", "")


def not_allowed(action: str, resource: str) -> str:
    return (f"User: {OTHER_ROOT} is not authorized to perform: {action} on resource: {resource} "
            f"because no resource-based policy allows the {action} action")


def denied(action: str, resource: str) -> str:
    return (f"User: {OTHER_ROOT} is not authorized to perform: {action} on resource: {resource} "
            "with an explicit deny in a resource-based policy")


def deny_statement(principal: Any, action: str, resource: str) -> dict[str, Any]:
    return {"Sid": "no-other", "Effect": "Deny", "Principal": principal, "Action": action, "Resource": resource}


def receive_one(sqs: Any, url: str, deadline: float = 30.0) -> dict[str, Any]:
    """The next message of `url`, waiting (long polls) until one arrives or the deadline passes."""
    ends = time.monotonic() + deadline
    while time.monotonic() < ends:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MessageAttributeNames=["All"]).get("Messages")
        if messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
            return dict(messages[0])
    raise AssertionError(f"no message arrived in {url}")


# -- SQS -----------------------------------------------------------------------------------------------
def test_sqs_refuses_another_accounts_queue_until_its_policy_grants_it(two_accounts: ServerProcess,
                                                                       unique: str) -> None:
    owner, other = client(two_accounts, "sqs"), client(two_accounts, "sqs", OTHER)
    url = owner.create_queue(QueueName=f"xq-{unique}")["QueueUrl"]
    arn = f"arn:aws:sqs:us-east-1:{OWNER[2]}:xq-{unique}"
    assert refusal(lambda: other.send_message(QueueUrl=url, MessageBody="x")) == (
        "AccessDenied", 403, not_allowed("sqs:sendmessage", arn))
    legacy = two_accounts.legacy_sqs_client(access_key=OTHER[0], secret_key=OTHER[1])
    assert refusal(lambda: legacy.send_message(QueueUrl=url, MessageBody="x"))[:2] == ("AccessDenied", 403)
    assert refusal(lambda: other.get_queue_url(QueueName=f"xq-{unique}", QueueOwnerAWSAccountId=OWNER[2]))[0] == \
        "AccessDenied"
    # A queue that does not exist grants nothing either: AWS does not say whether it exists.
    missing = url.replace(f"xq-{unique}", f"missing-{unique}")
    assert refusal(lambda: other.send_message(QueueUrl=missing, MessageBody="x"))[0] == "AccessDenied"

    owner.add_permission(QueueUrl=url, Label="other-sends", AWSAccountIds=[OTHER[2]], Actions=["SendMessage"])
    assert other.send_message(QueueUrl=url, MessageBody="from the other account")["MessageId"]
    assert other.send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "b"}])["Successful"]
    assert refusal(lambda: other.receive_message(QueueUrl=url))[2] == not_allowed("sqs:receivemessage", arn)
    assert owner.receive_message(QueueUrl=url)["Messages"]  # the owner is never asked

    policy = json.loads(owner.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    policy["Statement"].append(deny_statement({"AWS": OTHER[2]}, "sqs:SendMessage", arn))
    owner.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    assert refusal(lambda: other.send_message(QueueUrl=url, MessageBody="x")) == (
        "AccessDenied", 403, denied("sqs:sendmessage", arn))


# -- SNS -----------------------------------------------------------------------------------------------
def test_sns_refuses_another_accounts_topic_until_its_policy_grants_it(two_accounts: ServerProcess,
                                                                       unique: str) -> None:
    owner, other = client(two_accounts, "sns"), client(two_accounts, "sns", OTHER)
    topic = owner.create_topic(Name=f"xt-{unique}")["TopicArn"]
    assert refusal(lambda: other.publish(TopicArn=topic, Message="x")) == (
        "AuthorizationError", 403, not_allowed("SNS:Publish", topic))
    assert refusal(lambda: other.get_topic_attributes(TopicArn=topic))[0] == "AuthorizationError"
    assert refusal(lambda: other.list_tags_for_resource(ResourceArn=topic))[0] == "AuthorizationError"

    owner.add_permission(TopicArn=topic, Label="other-publishes", AWSAccountId=[OTHER[2]], ActionName=["Publish"])
    assert other.publish(TopicArn=topic, Message="from the other account")["MessageId"]
    assert other.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[{"Id": "1", "Message": "m"}])["Successful"]
    assert refusal(lambda: other.subscribe(TopicArn=topic, Protocol="email", Endpoint="a@example.com"))[2] == \
        not_allowed("SNS:Subscribe", topic)

    policy = json.loads(owner.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    policy["Statement"].append(deny_statement({"AWS": OTHER_ROOT}, "SNS:Publish", topic))
    owner.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy))
    assert refusal(lambda: other.publish(TopicArn=topic, Message="x")) == (
        "AuthorizationError", 403, denied("SNS:Publish", topic))


def test_a_subscriber_manages_its_own_subscription_to_another_accounts_topic(two_accounts: ServerProcess,
                                                                              unique: str) -> None:
    owner, other = client(two_accounts, "sns"), client(two_accounts, "sns", OTHER)
    topic = owner.create_topic(Name=f"xs-{unique}")["TopicArn"]
    owner.add_permission(TopicArn=topic, Label="other-subscribes", AWSAccountId=[OTHER[2]], ActionName=["Subscribe"])
    queue = client(two_accounts, "sqs", OTHER).create_queue(QueueName=f"xs-{unique}")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:us-east-1:{OTHER[2]}:xs-{unique}"
    assert queue
    arn = other.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    assert other.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["Owner"] == OTHER[2]
    other.unsubscribe(SubscriptionArn=arn)


# -- Lambda --------------------------------------------------------------------------------------------
def _handler_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("h.py", "def handler(event, context):\n    return {'got': event}\n")
    return buffer.getvalue()


def test_lambda_refuses_another_accounts_function_until_a_permission_grants_it(two_accounts: ServerProcess,
                                                                              unique: str) -> None:
    owner, other = client(two_accounts, "lambda"), client(two_accounts, "lambda", OTHER)
    name = f"xf-{unique}"
    arn = owner.create_function(FunctionName=name, Runtime="python3.12", Handler="h.handler",
                                Role=f"arn:aws:iam::{OWNER[2]}:role/lambda-role",
                                Code={"ZipFile": _handler_zip()})["FunctionArn"]
    assert refusal(lambda: other.invoke(FunctionName=arn, Payload=b"{}")) == (
        "AccessDeniedException", 403, not_allowed("lambda:InvokeFunction", arn))
    assert refusal(lambda: other.get_function(FunctionName=arn))[2] == not_allowed("lambda:GetFunction", arn)
    assert refusal(lambda: other.list_tags(Resource=arn))[0] == "AccessDeniedException"
    missing = arn.replace(name, f"missing-{unique}")
    assert refusal(lambda: other.invoke(FunctionName=missing))[0] == "AccessDeniedException"

    owner.add_permission(FunctionName=name, StatementId="other-invokes", Action="lambda:InvokeFunction",
                         Principal=OTHER[2])
    answer = other.invoke(FunctionName=arn, Payload=b'{"n": 1}')
    assert json.loads(answer["Payload"].read()) == {"got": {"n": 1}}
    assert refusal(lambda: other.get_function(FunctionName=arn))[0] == "AccessDeniedException"
    # A permission on the function does not cover its aliases: each has its own policy.
    version = owner.publish_version(FunctionName=name)["Version"]
    owner.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    assert refusal(lambda: other.invoke(FunctionName=f"{arn}:live"))[2] == \
        not_allowed("lambda:InvokeFunction", f"{arn}:live")


# -- Step Functions -------------------------------------------------------------------------------------
def test_step_functions_never_lets_another_account_in(two_accounts: ServerProcess, unique: str) -> None:
    owner, other = client(two_accounts, "stepfunctions"), client(two_accounts, "stepfunctions", OTHER)
    machine = owner.create_state_machine(
        name=f"xm-{unique}", roleArn=f"arn:aws:iam::{OWNER[2]}:role/sfn-role",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    assert refusal(lambda: other.start_execution(stateMachineArn=machine)) == (
        "AccessDeniedException", 400, not_allowed("states:StartExecution", machine))
    assert refusal(lambda: other.describe_state_machine(stateMachineArn=machine))[0] == "AccessDeniedException"
    execution = owner.start_execution(stateMachineArn=machine)["executionArn"]
    assert refusal(lambda: other.describe_execution(executionArn=execution))[2] == \
        not_allowed("states:DescribeExecution", execution)
    assert refusal(lambda: other.list_tags_for_resource(resourceArn=machine))[0] == "AccessDeniedException"


# -- EventBridge ---------------------------------------------------------------------------------------
def test_put_events_to_another_accounts_bus_needs_its_bus_policy(two_accounts: ServerProcess, unique: str) -> None:
    owner, other = client(two_accounts, "events"), client(two_accounts, "events", OTHER)
    sqs = client(two_accounts, "sqs")
    bus = owner.create_event_bus(Name=f"xb-{unique}")["EventBusArn"]
    url = sqs.create_queue(QueueName=f"xb-{unique}")["QueueUrl"]
    owner.put_rule(Name="all", EventBusName=f"xb-{unique}", EventPattern=json.dumps({"source": ["other.app"]}))
    owner.put_targets(Rule="all", EventBusName=f"xb-{unique}",
                      Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:us-east-1:{OWNER[2]}:xb-{unique}"}])
    entry = {"Source": "other.app", "DetailType": "t", "Detail": '{"n": 1}', "EventBusName": bus}
    assert refusal(lambda: other.put_events(Entries=[entry])) == (
        "AccessDeniedException", 400, not_allowed("events:PutEvents", bus))
    assert refusal(lambda: other.describe_event_bus(Name=bus))[0] == "AccessDeniedException"

    owner.put_permission(EventBusName=f"xb-{unique}", Action="events:PutEvents", Principal=OTHER[2],
                         StatementId="other-sends")
    assert other.put_events(Entries=[entry])["FailedEntryCount"] == 0
    event = json.loads(receive_one(sqs, url)["Body"])
    assert event["account"] == OTHER[2] and event["detail"] == {"n": 1}

    policy = json.loads(owner.describe_event_bus(Name=f"xb-{unique}")["Policy"])
    policy["Statement"].append(deny_statement({"AWS": OTHER_ROOT}, "events:PutEvents", bus))
    owner.put_permission(EventBusName=f"xb-{unique}", Policy=json.dumps(policy))
    assert refusal(lambda: other.put_events(Entries=[entry])) == (
        "AccessDeniedException", 400, denied("events:PutEvents", bus))


# -- Kinesis -------------------------------------------------------------------------------------------
def test_kinesis_refuses_another_accounts_stream_until_its_resource_policy_grants_it(two_accounts: ServerProcess,
                                                                                     unique: str) -> None:
    owner, other = client(two_accounts, "kinesis"), client(two_accounts, "kinesis", OTHER)
    owner.create_stream(StreamName=f"xk-{unique}", ShardCount=1)
    wait_for_status(owner, f"xk-{unique}")
    arn = f"arn:aws:kinesis:us-east-1:{OWNER[2]}:stream/xk-{unique}"
    assert refusal(lambda: other.put_record(StreamARN=arn, Data=b"x", PartitionKey="k")) == (
        "AccessDeniedException", 400, not_allowed("kinesis:PutRecord", arn))
    assert refusal(lambda: other.describe_stream_summary(StreamARN=arn))[0] == "AccessDeniedException"

    grant = {"Version": "2012-10-17", "Statement": [{"Sid": "other-writes", "Effect": "Allow",
                                                      "Principal": {"AWS": OTHER_ROOT},
                                                      "Action": ["kinesis:PutRecord", "kinesis:PutRecords"],
                                                      "Resource": arn}]}
    owner.put_resource_policy(ResourceARN=arn, Policy=json.dumps(grant))
    assert other.put_record(StreamARN=arn, Data=b"x", PartitionKey="k")["SequenceNumber"]
    assert refusal(lambda: other.list_shards(StreamARN=arn))[2] == not_allowed("kinesis:ListShards", arn)

    grant["Statement"].append(deny_statement({"AWS": OTHER[2]}, "kinesis:Put*", arn))
    owner.put_resource_policy(ResourceARN=arn, Policy=json.dumps(grant))
    assert refusal(lambda: other.put_record(StreamARN=arn, Data=b"x", PartitionKey="k")) == (
        "AccessDeniedException", 400, denied("kinesis:PutRecord", arn))


# -- services without resource policies --------------------------------------------------------------------
def test_services_without_resource_policies_refuse_another_accounts_arns(two_accounts: ServerProcess,
                                                                         unique: str) -> None:
    logs, scheduler = client(two_accounts, "logs"), client(two_accounts, "scheduler")
    logs.create_log_group(logGroupName=f"xl-{unique}")
    group = f"arn:aws:logs:us-east-1:{OWNER[2]}:log-group:xl-{unique}"
    other_logs = client(two_accounts, "logs", OTHER)
    assert refusal(lambda: other_logs.describe_log_streams(logGroupIdentifier=group)) == (
        "AccessDeniedException", 400, not_allowed("logs:DescribeLogStreams", group))
    schedule_group = scheduler.create_schedule_group(Name=f"xg-{unique}")["ScheduleGroupArn"]
    assert refusal(lambda: client(two_accounts, "scheduler", OTHER).list_tags_for_resource(
        ResourceArn=schedule_group))[:2] == ("AccessDeniedException", 403)
    registry = client(two_accounts, "schemas").create_registry(RegistryName=f"xr-{unique}")["RegistryArn"]
    assert refusal(lambda: client(two_accounts, "schemas", OTHER).list_tags_for_resource(ResourceArn=registry))[:2] \
        == ("ForbiddenException", 403)
    alarm = f"arn:aws:cloudwatch:us-east-1:{OWNER[2]}:alarm:xa-{unique}"
    assert refusal(lambda: client(two_accounts, "cloudwatch", OTHER).list_tags_for_resource(ResourceARN=alarm))[:2] \
        == ("AccessDenied", 403)
    # The owner itself is never asked.
    assert logs.describe_log_streams(logGroupIdentifier=group)["logStreams"] == []


# -- deliveries into another account ------------------------------------------------------------------------
def test_sns_delivers_to_another_accounts_queue_only_when_its_policy_admits_sns_for_the_topic(
        two_accounts: ServerProcess, unique: str) -> None:
    owner_sqs, other_sqs = client(two_accounts, "sqs"), client(two_accounts, "sqs", OTHER)
    other_sns = client(two_accounts, "sns", OTHER)
    topic = other_sns.create_topic(Name=f"xd-{unique}")["TopicArn"]
    target = owner_sqs.create_queue(QueueName=f"xd-{unique}")["QueueUrl"]
    target_arn = f"arn:aws:sqs:us-east-1:{OWNER[2]}:xd-{unique}"
    dlq = other_sqs.create_queue(QueueName=f"xd-dlq-{unique}")["QueueUrl"]
    subscription = other_sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=target_arn, Attributes={
        "RawMessageDelivery": "true",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{OTHER[2]}:xd-dlq-{unique}"})},
        ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert subscription.startswith(topic)

    other_sns.publish(TopicArn=topic, Message="refused")
    assert receive_one(other_sqs, dlq)["Body"] == "refused"  # the queue's policy let nobody in
    assert not owner_sqs.receive_message(QueueUrl=target).get("Messages")

    owner_sqs.set_queue_attributes(QueueUrl=target, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": target_arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]})})
    other_sns.publish(TopicArn=topic, Message="admitted")
    assert receive_one(owner_sqs, target)["Body"] == "admitted"


def test_eventbridge_delivers_into_another_account_only_as_its_policies_allow(two_accounts: ServerProcess,
                                                                              unique: str) -> None:
    owner_sqs, other_sqs = client(two_accounts, "sqs"), client(two_accounts, "sqs", OTHER)
    owner_events, other_events = client(two_accounts, "events"), client(two_accounts, "events", OTHER)
    queue = owner_sqs.create_queue(QueueName=f"xe-{unique}")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:us-east-1:{OWNER[2]}:xe-{unique}"
    dlq = other_sqs.create_queue(QueueName=f"xe-dlq-{unique}")["QueueUrl"]
    bus = owner_events.create_event_bus(Name=f"xe-{unique}")["EventBusArn"]
    owner_events.put_rule(Name="in", EventBusName=f"xe-{unique}", EventPattern=json.dumps({"source": ["x.app"]}))
    owner_events.put_targets(Rule="in", EventBusName=f"xe-{unique}", Targets=[{"Id": "q", "Arn": queue_arn}])
    rule = other_events.put_rule(Name=f"xe-{unique}", EventPattern=json.dumps({"source": ["x.app"]}))["RuleArn"]
    dead_letter = {"Arn": f"arn:aws:sqs:us-east-1:{OTHER[2]}:xe-dlq-{unique}"}
    retry = {"MaximumRetryAttempts": 0}
    other_events.put_targets(Rule=f"xe-{unique}", Targets=[
        {"Id": "queue", "Arn": queue_arn, "DeadLetterConfig": dead_letter, "RetryPolicy": retry},
        {"Id": "bus", "Arn": bus, "DeadLetterConfig": dead_letter, "RetryPolicy": retry}])

    other_events.put_events(Entries=[{"Source": "x.app", "DetailType": "t", "Detail": '{"try": 1}'}])
    codes = sorted(receive_one(other_sqs, dlq)["MessageAttributes"]["ERROR_CODE"]["StringValue"] for _ in range(2))
    assert codes == ["NO_PERMISSIONS", "NO_PERMISSIONS"]

    owner_events.put_permission(EventBusName=f"xe-{unique}", Action="events:PutEvents", Principal=OTHER[2],
                                StatementId="other-rule")
    owner_sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule}}}]})})
    other_events.put_events(Entries=[{"Source": "x.app", "DetailType": "t", "Detail": '{"try": 2}'}])
    # Once straight from the other account's rule, once through the owner's bus and its rule.
    bodies = [json.loads(receive_one(owner_sqs, queue)["Body"]) for _ in range(2)]
    assert [body["detail"] for body in bodies] == [{"try": 2}, {"try": 2}]
