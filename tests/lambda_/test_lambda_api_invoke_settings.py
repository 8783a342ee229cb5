"""Event invoke configs and reserved concurrency through boto3: shapes and refusals as AWS records them."""

from __future__ import annotations

from typing import Any

from botocore.config import Config

from tests.lambda_.conftest import error_response, queue_arn

CODE = "def handler(event, context):\n    return event\n"
ARN = "arn:aws:lambda:us-east-1:000000000000:function"


def test_event_invoke_configs_show_both_destinations_and_refuse_bad_ones(lam: Any, make_function: Any) -> None:
    name = make_function(CODE)
    put = lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    assert put["DestinationConfig"] == {"OnFailure": {}, "OnSuccess": {}}
    assert put["FunctionArn"] == f"{ARN}:{name}:$LATEST"
    assert lam.get_function_event_invoke_config(FunctionName=name)["DestinationConfig"] == {"OnFailure": {},
                                                                                             "OnSuccess": {}}
    assert error_response(lam.put_function_event_invoke_config, FunctionName="nothing-here")["Error"]["Message"] == (
        "You must specify at least one of error handling or destination setting.")
    assert error_response(lam.put_function_event_invoke_config, FunctionName="nothing-here",
                          MaximumRetryAttempts=1)["Error"]["Message"] == "The function doesn't exist."

    def destination(arn: str) -> str:
        return str(error_response(lam.put_function_event_invoke_config, FunctionName=name,
                                  DestinationConfig={"OnSuccess": {"Destination": arn}})["Error"]["Message"])

    assert destination(f"{ARN}:{name}") == "You can't specify the function as a destination for itself."
    assert destination(f"{ARN}:nothing-here") == f"The destination ARN {ARN}:nothing-here is invalid."
    iam = "arn:aws:iam:us-east-1:000000000000:function:x"
    assert destination(iam) == (f"The provided destination config DestinationConfig(onSuccess=OnSuccess("
                                f"destination={iam}), onFailure=null) is invalid.")
    assert error_response(lam.list_function_event_invoke_configs, FunctionName="nothing-here")["Error"]["Message"] == (
        "The function doesn't exist.")
    lam.delete_function_event_invoke_config(FunctionName=name)
    missing = error_response(lam.delete_function_event_invoke_config, FunctionName=name)["Error"]["Message"]
    assert missing == f"The function {ARN}:{name}:$LATEST doesn't have an EventInvokeConfig"


def test_reserved_concurrency_is_for_functions_within_the_account_limit(lam: Any, make_function: Any) -> None:
    name = make_function(CODE)
    limit = lam.get_account_settings()["AccountLimit"]["ConcurrentExecutions"]
    refused = error_response(lam.put_function_concurrency, FunctionName=name, ReservedConcurrentExecutions=limit)
    assert refused["Error"]["Message"].startswith("Specified ReservedConcurrentExecutions for function decreases "
                                                  "account's UnreservedConcurrentExecution below its minimum value of [")
    assert "Type" not in refused
    unreserved = lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
    assert lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)[
        "ReservedConcurrentExecutions"] == 1
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == unreserved - 1
    qualified = error_response(lam.put_function_concurrency, FunctionName=f"{ARN}:{name}:$LATEST",
                               ReservedConcurrentExecutions=0)["Error"]["Message"]
    assert qualified.startswith("This operation is permitted on Lambda functions only.")
    missing = error_response(lam.put_function_concurrency, FunctionName="nothing-here", ReservedConcurrentExecutions=1)
    assert missing["Error"]["Message"] == f"Function not found: {ARN}:nothing-here:$LATEST"


def test_provisioned_concurrency_is_for_published_versions_and_aliases(server: Any, lam: Any,
                                                                       make_function: Any) -> None:
    name = make_function(CODE)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert error_response(lam.put_provisioned_concurrency_config, FunctionName=name, Qualifier="$LATEST",
                          ProvisionedConcurrentExecutions=1)["Error"]["Message"] == (
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
    assert error_response(lam.get_provisioned_concurrency_config, FunctionName=name,
                          Qualifier="nothing")["Error"]["Message"] == f"Cannot find alias arn: {ARN}:{name}:nothing"
    assert error_response(lam.get_provisioned_concurrency_config, FunctionName=name, Qualifier="1")["Error"]["Code"] == (
        "ProvisionedConcurrencyConfigNotFoundException")
    put = lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1)
    assert (put["Status"], put["RequestedProvisionedConcurrentExecutions"]) == ("IN_PROGRESS", 1)
    assert lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")["Status"] == "READY"
    conflict = error_response(lam.put_provisioned_concurrency_config, FunctionName=name, Qualifier="live",
                              ProvisionedConcurrentExecutions=1)["Error"]
    assert conflict == {"Code": "ResourceConflictException", "Message": "Alias can't be used for Provisioned "
                        "Concurrency configuration on an already Provisioned version"}
    limit = lam.get_account_settings()["AccountLimit"]["ConcurrentExecutions"]
    too_many = error_response(lam.put_provisioned_concurrency_config, FunctionName=name, Qualifier="1",
                              ProvisionedConcurrentExecutions=limit + 1)["Error"]["Message"]
    assert too_many.startswith("Specified ConcurrentExecutions for function is greater than account's unreserved")
    listed = lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
    assert [c["FunctionArn"] for c in listed] == [f"{ARN}:{name}:1"]
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    assert lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"] == []
    unchecked = server.client("lambda", config=Config(parameter_validation=False, retries={"max_attempts": 0}))
    zero = error_response(unchecked.put_provisioned_concurrency_config, FunctionName=name, Qualifier="1",
                          ProvisionedConcurrentExecutions=0)["Error"]["Message"]
    assert zero == ("1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to satisfy "
                    "constraint: Member must have value greater than or equal to 1")


def test_a_dead_letter_record_carries_the_function_errors_message(server: Any, lam: Any, make_function: Any,
                                                                  unique: str) -> None:
    url, arn = queue_arn(server, f"dlq-{unique}")
    sqs = server.client("sqs")
    name = make_function("def handler(event, context):\n    raise Exception('intentional')\n",
                         DeadLetterConfig={"TargetArn": arn})
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    request_id = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"a": 1}')[
        "ResponseMetadata"]["RequestId"]
    messages = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=20)["Messages"]
    attributes = messages[0]["MessageAttributes"]
    assert attributes["ErrorMessage"]["StringValue"] == "intentional"
    assert attributes["RequestID"]["StringValue"] == request_id
    assert messages[0]["Body"] == '{"a": 1}'
