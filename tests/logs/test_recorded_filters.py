"""Metric and subscription filters as recorded against AWS (LocalStack's AWS-validated Logs suite):
the empty space-delimited pattern `[]`, subscription-filter updates, limits and refusals in AWS's
order and words, metric-filter listings across groups, namespaces with a colon, and the Java
printing of metric transformations in validation messages."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess
from tests.lambda_.conftest import ROLE, make_zip

OTHER_ACCOUNT = "123456789012"


def error(caught: pytest.ExceptionInfo[ClientError]) -> dict[str, str]:
    return {k: caught.value.response["Error"][k] for k in ("Code", "Message")}


def _function_logs_may_invoke(server: ServerProcess, unique: str, group: str) -> str:
    lam = server.client("lambda")
    arn: str = lam.create_function(
        FunctionName=f"sink-{unique}", Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": "def handler(event, context):\n    return None\n"})})["FunctionArn"]
    lam.add_permission(FunctionName=arn, StatementId="logs", Action="lambda:InvokeFunction",
                       Principal="logs.us-east-1.amazonaws.com",
                       SourceArn=f"arn:aws:logs:us-east-1:000000000000:log-group:{group}:*")
    return arn


def test_the_empty_delimited_pattern_matches_every_event(server: ServerProcess) -> None:
    logs = server.client("logs")
    messages = ["GET /a 200", '{"level": "ERROR"}', "one"]
    matched = logs.test_metric_filter(filterPattern="[]", logEventMessages=messages)["matches"]
    assert [(m["eventNumber"], m["eventMessage"], m["extractedValues"]) for m in matched] == [
        (1, "GET /a 200", {}), (2, '{"level": "ERROR"}', {}), (3, "one", {})]


def test_a_subscription_filter_is_updated_in_place_and_limited_to_two(server: ServerProcess, unique: str) -> None:
    logs = server.client("logs")
    group = f"/rec-sub/{unique}"
    logs.create_log_group(logGroupName=group)
    function_arn = _function_logs_may_invoke(server, unique, group)
    logs.put_subscription_filter(logGroupName=group, filterName="test", filterPattern="", destinationArn=function_arn)
    logs.put_subscription_filter(logGroupName=group, filterName="test", filterPattern="[]",
                                 destinationArn=function_arn)
    [described] = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    assert {k: described[k] for k in ("filterName", "filterPattern", "destinationArn", "distribution")} == {
        "filterName": "test", "filterPattern": "[]", "destinationArn": function_arn, "distribution": "ByLogStream"}
    logs.put_subscription_filter(logGroupName=group, filterName="test-2", filterPattern="[]",
                                 destinationArn=function_arn)
    with pytest.raises(ClientError) as caught:
        logs.put_subscription_filter(logGroupName=group, filterName="test-3", filterPattern="",
                                     destinationArn=function_arn)
    assert error(caught) == {"Code": "LimitExceededException", "Message": "Resource limit exceeded."}


def test_subscription_filter_refusals_in_aws_order_and_words(server: ServerProcess, unique: str) -> None:
    logs = server.client("logs")
    group = f"/rec-sub-bad/{unique}"
    logs.create_log_group(logGroupName=group)

    def refusal(group_name: str, destination: str, **extra: str) -> dict[str, str]:
        with pytest.raises(ClientError) as caught:
            logs.put_subscription_filter(logGroupName=group_name, filterName="test", filterPattern="",
                                         destinationArn=destination, **extra)
        return error(caught)

    cross = {"Code": "AccessDeniedException", "Message": "Cross-account lambda invocation passing is not allowed. "
             "You must use DestinationPolicies to create cross account lambda triggers."}
    other_function = f"arn:aws:lambda:us-east-1:{OTHER_ACCOUNT}:function:test"
    # another account's function is refused before the log group is looked for
    assert refusal(f"/missing/{unique}", other_function) == cross
    assert refusal(group, other_function) == cross
    assert refusal(group, f"arn:aws:kinesis:us-east-1:{OTHER_ACCOUNT}:stream/unknown-stream") == {
        "Code": "InvalidParameterException", "Message": "destinationArn for vendor kinesis cannot be used without roleArn"}
    assert refusal(group, f"arn:aws:kinesis:us-east-1:000000000000:stream/none-{unique}") == {
        "Code": "InvalidParameterException", "Message": "destinationArn for vendor kinesis cannot be used without roleArn"}
    # with a role, the stream itself is checked
    assert refusal(group, f"arn:aws:kinesis:us-east-1:000000000000:stream/none-{unique}",
                   roleArn="arn:aws:iam::000000000000:role/r")["Message"].startswith("Could not deliver test message")
    with pytest.raises(ClientError) as caught:
        logs.delete_subscription_filter(logGroupName=f"/missing/{unique}", filterName="test")
    assert error(caught) == {"Code": "ResourceNotFoundException", "Message": "The specified log group does not exist."}
    with pytest.raises(ClientError) as caught:
        logs.delete_subscription_filter(logGroupName=group, filterName="wrong-filter-name")
    assert error(caught) == {"Code": "ResourceNotFoundException",
                             "Message": "The specified subscription filter does not exist."}


def test_metric_filters_are_listed_by_prefix_across_groups(server: ServerProcess, unique: str) -> None:
    logs = server.client("logs")
    prefix = f"by-prefix-{unique}"
    groups = [f"/rec-mf-b/{unique}", f"/rec-mf-a/{unique}"]  # the first filter's group sorts last
    for i, group in enumerate(groups):
        logs.create_log_group(logGroupName=group)
        logs.put_metric_filter(logGroupName=group, filterName=f"{prefix}-{i}",
                               filterPattern=f"filterPattern{i}", metricTransformations=[
                                   {"metricNamespace": f"namespace{i}", "metricName": f"metric{i}",
                                    "metricValue": str(i)}])
    logs.put_metric_filter(logGroupName=groups[0], filterName=f"other-{unique}", filterPattern="",
                           metricTransformations=[{"metricNamespace": "n", "metricName": "m", "metricValue": "1"}])
    found = logs.describe_metric_filters(filterNamePrefix=prefix)["metricFilters"]  # in filter-name order
    assert [(f["filterName"], f["logGroupName"]) for f in found] == [(f"{prefix}-0", groups[0]),
                                                                      (f"{prefix}-1", groups[1])]


def test_a_metric_namespace_may_hold_a_colon(server: ServerProcess, unique: str) -> None:
    logs = server.client("logs")
    group = f"/rec-ns/{unique}"
    logs.create_log_group(logGroupName=group)
    namespace = f"A.B-c_d/1#2:{unique}"
    logs.put_metric_filter(logGroupName=group, filterName="f", filterPattern="filterPattern", metricTransformations=[
        {"metricNamespace": namespace, "metricName": "metricName", "metricValue": "1"}])
    found = logs.describe_metric_filters(metricName="metricName", metricNamespace=namespace)["metricFilters"]
    assert [f["filterName"] for f in found] == ["f"]
    with pytest.raises(ClientError) as caught:  # the model's other refused characters stay refused
        logs.put_metric_filter(logGroupName=group, filterName="g", filterPattern="", metricTransformations=[
            {"metricNamespace": "a*b", "metricName": "m", "metricValue": "1"}])
    assert error(caught) == {"Code": "InvalidParameterException", "Message": (
        "1 validation error detected: Value 'a*b' at 'metricTransformations.1.member.metricNamespace' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: [^:*$]*")}


def _too_many(logs: Any, group: str, transformations: list[dict[str, Any]]) -> str:
    with pytest.raises(ClientError) as caught:
        logs.put_metric_filter(logGroupName=group, filterName="f", filterPattern="[a]",
                               metricTransformations=transformations)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    message: str = caught.value.response["Error"]["Message"]
    return message


def test_too_many_transformations_are_printed_as_java_prints_them(server: ServerProcess, unique: str) -> None:
    logs = server.client("logs")
    group = f"/rec-java/{unique}"
    logs.create_log_group(logGroupName=group)
    recorded = _too_many(logs, group, [
        {"metricName": "metric1", "metricNamespace": "namespace1", "metricValue": "1"},
        {"metricName": "metric2", "metricNamespace": "namespace2", "metricValue": "1"}])
    assert recorded == (
        "1 validation error detected: Value '[MetricTransformation(metricName=metric1, metricNamespace=namespace1, "
        "metricValue=1, defaultValue=null, unit=null, dimensions=null), MetricTransformation(metricName=metric2, "
        "metricNamespace=namespace2, metricValue=1, defaultValue=null, unit=null, dimensions=null)]' at "
        "'metricTransformations' failed to satisfy constraint: Member must have length less than or equal to 1")
    full = _too_many(logs, group, [
        {"metricName": "m", "metricNamespace": "n", "metricValue": "$a", "defaultValue": 1, "unit": "Count",
         "dimensions": {"A": "$a"}},
        {"metricName": "m2", "metricNamespace": "n", "metricValue": "2", "defaultValue": 0.25}])
    assert full.startswith(
        "1 validation error detected: Value '[MetricTransformation(metricName=m, metricNamespace=n, metricValue=$a, "
        "defaultValue=1.0, unit=Count, dimensions={A=$a}), MetricTransformation(metricName=m2, metricNamespace=n, "
        "metricValue=2, defaultValue=0.25, unit=null, dimensions=null)]' at 'metricTransformations'")
