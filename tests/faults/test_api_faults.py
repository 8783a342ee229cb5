"""The faults endpoint, and the API faults (throttle, error) every service answers through boto3."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess
from tests.faults.conftest import fault_counts, faults_request, set_faults

NO_RETRIES = Config(retries={"total_max_attempts": 1})


def client(server: ServerProcess, service: str, config: Config = NO_RETRIES) -> Any:
    return boto3.client(service, endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                        aws_secret_access_key="secret", config=config)


def outcome(call: Any) -> str:
    try:
        call()
        return "ok"
    except ClientError as error:
        return str(error.response["Error"]["Code"])


def test_rules_are_put_shown_with_counts_and_cleared(faulty: ServerProcess) -> None:
    assert faults_request(faulty, "GET") == (200, {"seed": 0, "rules": []})
    answer = set_faults(faulty, [{"service": "sqs", "resource": "orders", "fault": "duplicate", "probability": 0.25}],
                        seed=42)
    assert answer == {"seed": 42, "rules": [{"service": "sqs", "resource": "orders", "fault": "duplicate",
                                             "probability": 0.25, "matched": 0, "fired": 0}]}
    status, cleared = faults_request(faulty, "DELETE")
    assert status == 200 and cleared["rules"] == []


@pytest.mark.parametrize(("rule", "complaint"), [
    ({"service": "s3", "fault": "throttle"}, "service must be one of"),
    ({"service": "sqs", "fault": "explode"}, "fault must be one of"),
    ({"service": "sqs", "fault": "throttle", "probability": 1.5}, "probability"),
    ({"service": "sqs", "fault": "delay"}, "'delay' applies to"),
    ({"service": "sns", "fault": "delay"}, "ms (milliseconds"),
    ({"service": "sqs", "fault": "error", "status": 503}, "code must name"),
    ({"service": "sqs", "fault": "error", "code": "Boom", "status": 200}, "status must be"),
    ({"service": "sqs", "fault": "reorder", "operation": "SendMessage"}, "must be one of ReceiveMessage"),
    ({"service": "events", "fault": "fail", "operation": "PutEvents"}, "leave 'operation' out"),
    ({"service": "sqs", "fault": "throttle", "ms": 5}, "unknown field 'ms'"),
])
def test_a_rule_that_cannot_apply_is_refused_with_the_reason(faulty: ServerProcess, rule: dict[str, Any],
                                                              complaint: str) -> None:
    status, answer = faults_request(faulty, "PUT", {"seed": 1, "rules": [rule]})
    assert status == 400
    assert complaint in answer["error"]
    assert faults_request(faulty, "GET")[1]["rules"] == []  # nothing of a refused document applies


def test_a_body_that_is_not_a_rules_document_is_refused(faulty: ServerProcess) -> None:
    assert faults_request(faulty, "PUT", ["not", "an", "object"])[0] == 400
    assert faults_request(faulty, "PUT", {"seed": "x", "rules": []})[0] == 400
    assert faults_request(faulty, "PUT", {"seed": 1, "rules": [], "extra": 1})[0] == 400
    assert faults_request(faulty, "POST", {"seed": 1, "rules": []})[0] == 405


def test_throttled_sends_are_retried_by_boto3s_standard_mode_and_succeed(faulty: ServerProcess, unique: str) -> None:
    sqs = client(faulty, "sqs")
    url = sqs.create_queue(QueueName=f"throttled-{unique}")["QueueUrl"]
    set_faults(faulty, [{"service": "sqs", "resource": f"throttled-{unique}", "operation": "SendMessage",
                         "fault": "throttle", "probability": 0.5}])
    retrying = client(faulty, "sqs", Config(retries={"mode": "standard", "max_attempts": 10}))
    for n in range(20):
        retrying.send_message(QueueUrl=url, MessageBody=f"m{n}")
    [(matched, fired)] = fault_counts(faulty)
    assert fired > 0, "at probability 0.5 some of 20 sends are throttled"
    assert matched == 20 + fired  # every throttled attempt was retried, and each send finally went through
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "20"
    assert outcome(lambda: sqs.receive_message(QueueUrl=url)) == "ok"  # other operations are untouched


def test_without_retries_a_client_sees_sqs_throttling_as_aws_sends_it(faulty: ServerProcess, unique: str) -> None:
    sqs = client(faulty, "sqs")
    url = sqs.create_queue(QueueName=f"t-{unique}")["QueueUrl"]
    set_faults(faulty, [{"service": "sqs", "resource": f"t-{unique}", "fault": "throttle"}])
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="x")
    assert raised.value.response["Error"]["Code"] == "RequestThrottled"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as legacy:  # the query protocol says the same
        faulty.legacy_sqs_client().send_message(QueueUrl=url, MessageBody="x")
    assert legacy.value.response["Error"]["Code"] == "RequestThrottled"


@pytest.mark.parametrize(("service", "call", "code", "status"), [
    ("sns", lambda c: c.list_topics(), "Throttled", 429),
    ("events", lambda c: c.put_events(Entries=[{"Source": "s", "DetailType": "d", "Detail": "{}"}]),
     "ThrottlingException", 400),
    ("stepfunctions", lambda c: c.list_state_machines(), "ThrottlingException", 400),
    ("logs", lambda c: c.describe_log_groups(), "ThrottlingException", 400),
    ("cloudwatch", lambda c: c.list_metrics(), "Throttling", 400),
    ("lambda", lambda c: c.list_functions(), "TooManyRequestsException", 429),
    ("scheduler", lambda c: c.list_schedules(), "ThrottlingException", 429),
])
def test_each_service_throttles_with_its_own_error(faulty: ServerProcess, service: str, call: Any, code: str,
                                                   status: int) -> None:
    set_faults(faulty, [{"service": service, "fault": "throttle"}])
    with pytest.raises(ClientError) as raised:
        call(client(faulty, service))
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_a_throttled_lambda_invoke_says_why_as_lambda_does(faulty: ServerProcess) -> None:
    set_faults(faulty, [{"service": "lambda", "operation": "Invoke", "fault": "throttle"}])
    with pytest.raises(ClientError) as raised:
        client(faulty, "lambda").invoke(FunctionName="anything")
    response = raised.value.response
    assert response["Error"]["Code"] == "TooManyRequestsException"
    assert response["Reason"] == "ConcurrentInvocationLimitExceeded" and response["Type"] == "User"


def test_kinesis_throttles_record_operations_per_shard_and_others_per_stream(faulty: ServerProcess,
                                                                            unique: str) -> None:
    kinesis = client(faulty, "kinesis")
    kinesis.create_stream(StreamName=f"s-{unique}", ShardCount=1)
    set_faults(faulty, [{"service": "kinesis", "resource": f"s-{unique}", "fault": "throttle"}])
    assert outcome(lambda: kinesis.put_records(StreamName=f"s-{unique}", Records=[
        {"Data": b"x", "PartitionKey": "k"}])) == "ProvisionedThroughputExceededException"
    assert outcome(lambda: kinesis.describe_stream_summary(StreamName=f"s-{unique}")) == "LimitExceededException"
    assert outcome(lambda: kinesis.list_streams()) == "ok"  # names no stream: the rule's resource does not match


def test_an_error_rule_answers_the_named_error_and_sdks_retry_a_503(faulty: ServerProcess, unique: str) -> None:
    sqs = client(faulty, "sqs")
    url = sqs.create_queue(QueueName=f"e-{unique}")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:us-east-1:000000000000:e-{unique}"
    set_faults(faulty, [{"service": "sqs", "resource": queue_arn, "operation": "SendMessage", "fault": "error",
                         "code": "ServiceUnavailable", "status": 503, "probability": 0.5}])
    with pytest.raises(ClientError) as raised:
        for _ in range(50):
            sqs.send_message(QueueUrl=url, MessageBody="x")
    assert raised.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    # A retrying SDK gets through. The queue's name is fixed so that the draws (a hash of the seed, the
    # rule and the resource) are the same in every run: a random name made this half fail about once in
    # a hundred runs, when one send drew ten 503s in a row.
    retried = sqs.create_queue(QueueName="retried-503")["QueueUrl"]
    set_faults(faulty, [{"service": "sqs", "resource": "arn:aws:sqs:us-east-1:000000000000:retried-503",
                         "operation": "SendMessage", "fault": "error", "code": "ServiceUnavailable", "status": 503,
                         "probability": 0.5}])
    retrying = client(faulty, "sqs", Config(retries={"mode": "standard", "max_attempts": 10}))
    for _ in range(10):
        retrying.send_message(QueueUrl=retried, MessageBody="y")
    [(matched, fired)] = fault_counts(faulty)
    assert matched > 10 and fired == matched - 10  # every 503 was retried until the send went through


def test_the_same_seed_gives_the_same_faults_for_the_same_requests(faulty: ServerProcess, unique: str) -> None:
    sqs = client(faulty, "sqs")
    url = sqs.create_queue(QueueName=f"seeded-{unique}")["QueueUrl"]
    rules = [{"service": "sqs", "resource": f"seeded-{unique}", "operation": "SendMessage", "fault": "throttle",
              "probability": 0.3}]

    def run(seed: int) -> list[str]:
        set_faults(faulty, rules, seed=seed)
        return [outcome(lambda: sqs.send_message(QueueUrl=url, MessageBody="x")) for _ in range(40)]

    first = run(seed=1234)
    assert "RequestThrottled" in first and "ok" in first
    assert run(seed=1234) == first
    assert run(seed=99) != first


def test_rules_and_their_counts_survive_a_restart(fresh_server: ServerProcess, unique: str) -> None:
    sqs = client(fresh_server, "sqs")
    url = sqs.create_queue(QueueName=f"r-{unique}")["QueueUrl"]
    set_faults(fresh_server, [{"service": "sqs", "operation": "SendMessage", "fault": "throttle"}], seed=5)
    assert outcome(lambda: sqs.send_message(QueueUrl=url, MessageBody="x")) == "RequestThrottled"
    fresh_server.restart()
    status, answer = faults_request(fresh_server, "GET")
    assert status == 200 and answer["seed"] == 5
    assert [(r["operation"], r["fired"]) for r in answer["rules"]] == [("SendMessage", 1)]
    assert outcome(lambda: client(fresh_server, "sqs").send_message(QueueUrl=url, MessageBody="x")) == \
        "RequestThrottled"
