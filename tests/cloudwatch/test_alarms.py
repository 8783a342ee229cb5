"""Alarms through real clients: configuration, describe filters and pages, SetAlarmState, history,
composite alarms, actions on/off, state-change events, dashboards and tags."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cloudwatch.conftest import wait_for
from tests.conftest import ServerProcess
from tests.lambda_.conftest import ROLE, make_zip


def _alarm(cw: Any, name: str, **overrides: Any) -> None:
    values: dict[str, Any] = {
        "AlarmName": name, "Namespace": "Checks", "MetricName": "Failures", "Statistic": "Sum", "Period": 60,
        "EvaluationPeriods": 1, "Threshold": 0.0, "ComparisonOperator": "GreaterThanThreshold",
        # Children of composite alarms here are driven by SetAlarmState alone: no data changes them.
        "TreatMissingData": "ignore"}
    values.update(overrides)
    cw.put_metric_alarm(**values)


def _state(cw: Any, name: str, composite: bool = False) -> str:
    kind = "CompositeAlarms" if composite else "MetricAlarms"
    found = cw.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm", "CompositeAlarm"])[kind]
    return str(found[0]["StateValue"]) if found else "absent"


def test_a_new_alarm_is_described_as_it_was_put(cloudwatch: Any, unique: str) -> None:
    name = f"latency-{unique}"
    cloudwatch.put_metric_alarm(
        AlarmName=name, AlarmDescription="p99 too slow", Namespace="Checks", MetricName="Latency",
        ExtendedStatistic="p99", Dimensions=[{"Name": "Api", "Value": "orders"}], Unit="Milliseconds", Period=60,
        EvaluationPeriods=5, DatapointsToAlarm=3, Threshold=250.0, ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching", EvaluateLowSampleCountPercentile="ignore",
        AlarmActions=["arn:aws:sns:us-east-1:000000000000:pager"])
    alarm = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert alarm["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:000000000000:alarm:{name}"
    assert (alarm["StateValue"], alarm["StateReason"]) == ("INSUFFICIENT_DATA", "Unchecked: Initial alarm creation")
    assert (alarm["ExtendedStatistic"], alarm["Unit"], alarm["DatapointsToAlarm"]) == ("p99", "Milliseconds", 3)
    assert alarm["Dimensions"] == [{"Name": "Api", "Value": "orders"}]
    assert alarm["AlarmActions"] == ["arn:aws:sns:us-east-1:000000000000:pager"] and alarm["OKActions"] == []
    assert alarm["ActionsEnabled"] is True and alarm["EvaluateLowSampleCountPercentile"] == "ignore"
    for_metric = cloudwatch.describe_alarms_for_metric(Namespace="Checks", MetricName="Latency",
                                                       Dimensions=[{"Name": "Api", "Value": "orders"}])["MetricAlarms"]
    assert [a["AlarmName"] for a in for_metric] == [name]
    cloudwatch.delete_alarms(AlarmNames=[name, f"never-existed-{unique}"])
    assert cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []


def test_set_alarm_state_is_history_and_an_update_keeps_the_state(cw: Any, unique: str) -> None:
    name = f"manual-{unique}"
    _alarm(cw, name)
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing the pager",
                       StateReasonData=json.dumps({"why": "drill"}))
    _alarm(cw, name, Threshold=5.0)
    alarm = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert (alarm["StateValue"], alarm["StateReason"], alarm["Threshold"]) == ("ALARM", "testing the pager", 5.0)
    items = cw.describe_alarm_history(AlarmName=name, ScanBy="TimestampAscending")["AlarmHistoryItems"]
    assert [i["HistoryItemType"] for i in items] == ["ConfigurationUpdate", "StateUpdate", "ConfigurationUpdate"]
    assert items[0]["HistorySummary"] == f'Alarm "{name}" created'
    assert items[1]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    change = json.loads(items[1]["HistoryData"])
    assert change["newState"] == {"stateValue": "ALARM", "stateReason": "testing the pager",
                                  "stateReasonData": {"why": "drill"}}
    assert items[2]["HistorySummary"] == f'Alarm "{name}" updated'
    assert [i["HistoryItemType"] for i in cw.describe_alarm_history(
        AlarmName=name, HistoryItemType="StateUpdate")["AlarmHistoryItems"]] == ["StateUpdate"]
    with pytest.raises(ClientError) as raised:
        cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="x", StateReasonData="{not json")
    assert raised.value.response["Error"]["Code"] == "InvalidFormat"
    with pytest.raises(ClientError) as raised:
        cw.set_alarm_state(AlarmName=f"nope-{unique}", StateValue="OK", StateReason="x")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFound"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_describe_alarms_filters_and_pages(cloudwatch: Any, unique: str) -> None:
    prefix = f"fleet-{unique}-"
    for index in range(5):
        _alarm(cloudwatch, f"{prefix}{index}", AlarmActions=[f"arn:aws:sns:us-east-1:000000000000:team-{index % 2}"])
    cloudwatch.set_alarm_state(AlarmName=f"{prefix}3", StateValue="ALARM", StateReason="drill")
    names: list[str] = []
    token = None
    while True:
        page = cloudwatch.describe_alarms(AlarmNamePrefix=prefix, MaxRecords=2, **({"NextToken": token} if token else {}))
        names += [a["AlarmName"] for a in page["MetricAlarms"]]
        token = page.get("NextToken")
        if not token:
            break
    assert names == [f"{prefix}{i}" for i in range(5)]
    alarming = cloudwatch.describe_alarms(AlarmNamePrefix=prefix, StateValue="ALARM")["MetricAlarms"]
    assert [a["AlarmName"] for a in alarming] == [f"{prefix}3"]
    team = cloudwatch.describe_alarms(AlarmNamePrefix=prefix, ActionPrefix="arn:aws:sns:us-east-1:000000000000:team-1")
    assert [a["AlarmName"] for a in team["MetricAlarms"]] == [f"{prefix}1", f"{prefix}3"]
    with pytest.raises(ClientError) as raised:
        cloudwatch.describe_alarms(NextToken="not-a-token!")
    assert raised.value.response["Error"]["Code"] == "InvalidNextToken"


@pytest.mark.parametrize("overrides, message", [
    ({"Metrics": [{"Id": "m1", "Expression": "1"}]}, "MetricName should not be set if list of Metrics is set."),
    ({"Statistic": None, "ExtendedStatistic": None}, "Exactly one of Statistic or ExtendedStatistic must be set."),
    ({"DatapointsToAlarm": 3}, "DatapointsToAlarm must be less than or equal to EvaluationPeriods"),
    ({"Period": 45}, "Period must be 10, 20, 30 or a multiple of 60."),
    ({"AlarmActions": ["not-an-arn"]}, "Invalid arn syntax: not-an-arn"),
])
def test_put_metric_alarm_refuses_inconsistent_alarms(cw: Any, unique: str, overrides: dict[str, Any],
                                                      message: str) -> None:
    values = {"AlarmName": f"bad-{unique}", "Namespace": "Checks", "MetricName": "Failures", "Statistic": "Sum",
              "Period": 60, "EvaluationPeriods": 1, "Threshold": 0.0, "ComparisonOperator": "GreaterThanThreshold",
              **overrides}
    with pytest.raises(ClientError) as raised:
        cw.put_metric_alarm(**{k: v for k, v in values.items() if v is not None})
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert raised.value.response["Error"]["Message"] == message


def test_composite_alarms_follow_their_rule(cloudwatch: Any, unique: str) -> None:
    cpu, disk, deploy = f"cpu-{unique}", f"disk-{unique}", f"deploy-{unique}"
    for name in (cpu, disk, deploy):
        _alarm(cloudwatch, name)
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="start")
    composite = f"page-{unique}"
    cloudwatch.put_composite_alarm(AlarmName=composite,
                                   AlarmRule=f'(ALARM({cpu}) OR ALARM("{disk}")) AND NOT ALARM({deploy})')
    assert _state(cloudwatch, composite, composite=True) == "OK"
    cloudwatch.set_alarm_state(AlarmName=cpu, StateValue="ALARM", StateReason="hot")
    assert _state(cloudwatch, composite, composite=True) == "ALARM"
    described = cloudwatch.describe_alarms(AlarmNames=[composite], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"][0]
    assert described["StateReason"].startswith(f"arn:aws:cloudwatch:us-east-1:000000000000:alarm:{cpu} "
                                               "transitioned to ALARM at ")
    assert json.loads(described["StateReasonData"])["triggeringAlarms"][0]["state"]["value"] == "ALARM"
    cloudwatch.set_alarm_state(AlarmName=deploy, StateValue="ALARM", StateReason="deploying")
    assert _state(cloudwatch, composite, composite=True) == "OK"
    children = cloudwatch.describe_alarms(ChildrenOfAlarmName=composite)["MetricAlarms"]
    assert sorted(a["AlarmName"] for a in children) == sorted([cpu, disk, deploy])
    parents = cloudwatch.describe_alarms(ParentsOfAlarmName=cpu, AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
    assert [a["AlarmName"] for a in parents] == [composite]
    assert cloudwatch.describe_alarms(AlarmNames=[composite])["MetricAlarms"] == []  # metric alarms by default


def test_composite_rules_must_name_existing_alarms_without_cycles(cw: Any, unique: str) -> None:
    with pytest.raises(ClientError) as raised:
        cw.put_composite_alarm(AlarmName=f"c-{unique}", AlarmRule=f"ALARM(ghost-{unique})")
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as raised:
        cw.put_composite_alarm(AlarmName=f"c-{unique}", AlarmRule="ALARM(a) AND AND")
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    cw.put_composite_alarm(AlarmName=f"a-{unique}", AlarmRule="TRUE")
    cw.put_composite_alarm(AlarmName=f"b-{unique}", AlarmRule=f"ALARM(a-{unique})")
    assert _state(cw, f"b-{unique}", composite=True) == "ALARM"
    with pytest.raises(ClientError) as raised:
        cw.put_composite_alarm(AlarmName=f"a-{unique}", AlarmRule=f"ALARM(b-{unique})")
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as raised:
        cw.delete_alarms(AlarmNames=[f"a-{unique}"])
    assert raised.value.response["Error"]["Code"] == "ResourceConflict"


def test_state_changes_reach_the_default_bus_and_disabled_actions_stay_quiet(server: ServerProcess, cw: Any,
                                                                             unique: str) -> None:
    sqs, events, sns = server.client("sqs"), server.client("events"), server.client("sns")
    inbox = sqs.create_queue(QueueName=f"alarm-events-{unique}")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    name = f"evented-{unique}"
    events.put_rule(Name=f"alarms-{unique}", EventPattern=json.dumps({
        "source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"], "detail": {"alarmName": [name]}}))
    events.put_targets(Rule=f"alarms-{unique}", Targets=[{"Id": "inbox", "Arn": inbox_arn}])
    topic = sns.create_topic(Name=f"quiet-{unique}")["TopicArn"]
    pager = sqs.create_queue(QueueName=f"pager-{unique}")["QueueUrl"]
    pager_arn = sqs.get_queue_attributes(QueueUrl=pager, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=pager_arn)
    _alarm(cw, name, AlarmActions=[topic], Dimensions=[{"Name": "Host", "Value": "web-1"}])
    cw.disable_alarm_actions(AlarmNames=[name])
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["ActionsEnabled"] is False
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="drill")
    event = json.loads(wait_for(lambda: sqs.receive_message(QueueUrl=inbox, WaitTimeSeconds=1).get("Messages"),
                                message="the state-change event")[0]["Body"])
    assert (event["source"], event["detail-type"]) == ("aws.cloudwatch", "CloudWatch Alarm State Change")
    assert event["resources"] == [f"arn:aws:cloudwatch:us-east-1:000000000000:alarm:{name}"]
    detail = event["detail"]
    assert detail["alarmName"] == name
    assert (detail["state"]["value"], detail["state"]["reason"]) == ("ALARM", "drill")
    assert detail["previousState"]["value"] == "INSUFFICIENT_DATA"
    stat = detail["configuration"]["metrics"][0]["metricStat"]
    assert stat["metric"] == {"dimensions": {"Host": "web-1"}, "name": "Failures", "namespace": "Checks"}
    assert (stat["period"], stat["stat"]) == (60, "Sum")
    assert sqs.receive_message(QueueUrl=pager, WaitTimeSeconds=1).get("Messages") is None  # actions disabled
    cw.enable_alarm_actions(AlarmNames=[name])
    cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="recovered")
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="again")
    note = json.loads(wait_for(lambda: sqs.receive_message(QueueUrl=pager, WaitTimeSeconds=1).get("Messages"),
                               message="the alarm notification")[0]["Body"])
    assert note["Subject"] == f'ALARM: "{name}" in US East (N. Virginia)'
    assert json.loads(note["Message"])["NewStateReason"] == "again"


def test_dashboards_are_put_listed_read_and_deleted(cloudwatch: Any, unique: str) -> None:
    body = json.dumps({"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 3,
                                    "properties": {"markdown": "hello"}}]})
    name = f"ops-{unique}"
    assert cloudwatch.put_dashboard(DashboardName=name, DashboardBody=body)["DashboardValidationMessages"] == []
    got = cloudwatch.get_dashboard(DashboardName=name)
    assert (got["DashboardBody"], got["DashboardArn"]) == (body, f"arn:aws:cloudwatch::000000000000:dashboard/{name}")
    entries = cloudwatch.list_dashboards(DashboardNamePrefix=f"ops-{unique}")["DashboardEntries"]
    assert [(e["DashboardName"], e["Size"]) for e in entries] == [(name, len(body))]
    with pytest.raises(ClientError) as raised:
        cloudwatch.put_dashboard(DashboardName=name, DashboardBody="{not json")
    assert raised.value.response["Error"]["Code"] == "InvalidParameterInput"
    with pytest.raises(ClientError) as raised:
        cloudwatch.delete_dashboards(DashboardNames=[name, f"missing-{unique}"])
    assert raised.value.response["Error"]["Code"] == "ResourceNotFound"
    cloudwatch.delete_dashboards(DashboardNames=[name])
    with pytest.raises(ClientError) as raised:
        cloudwatch.get_dashboard(DashboardName=name)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFound"


def test_alarms_and_dashboards_carry_tags(cw: Any, unique: str) -> None:
    name = f"tagged-{unique}"
    _alarm(cw, name, Tags=[{"Key": "team", "Value": "payments"}])
    arn = f"arn:aws:cloudwatch:us-east-1:000000000000:alarm:{name}"
    cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "tier", "Value": "1"}])
    cw.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "tier", "Value": "1"}]
    cw.put_dashboard(DashboardName=f"d-{unique}", DashboardBody='{"widgets": []}', Tags=[{"Key": "k", "Value": "v"}])
    assert cw.list_tags_for_resource(ResourceARN=f"arn:aws:cloudwatch::000000000000:dashboard/d-{unique}")["Tags"] == [
        {"Key": "k", "Value": "v"}]
    with pytest.raises(ClientError) as raised:
        cw.list_tags_for_resource(ResourceARN=f"arn:aws:cloudwatch:us-east-1:000000000000:alarm:ghost-{unique}")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_lambda_action_receives_the_alarm_payload(server: ServerProcess, cw: Any, unique: str) -> None:
    lam, logs = server.client("lambda"), server.client("logs")
    function = f"on-alarm-{unique}"
    code = "import json\n\ndef handler(event, context):\n    print('ALARM-EVENT ' + json.dumps(event))\n"
    arn = lam.create_function(FunctionName=function, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                              Code={"ZipFile": make_zip({"app.py": code})})["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=function, WaiterConfig={"Delay": 0.2})
    name = f"invokes-{unique}"
    _alarm(cw, name, AlarmActions=[arn], AlarmDescription="wake the on-call function")
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="drill")

    def logged() -> dict[str, Any] | None:
        try:
            found = logs.filter_log_events(logGroupName=f"/aws/lambda/{function}", filterPattern="ALARM-EVENT")
        except logs.exceptions.ResourceNotFoundException:
            return None
        events = found["events"]
        return json.loads(events[0]["message"].split("ALARM-EVENT ", 1)[1]) if events else None

    event = wait_for(logged, timeout=60, message="the function's invocation")
    assert (event["source"], event["accountId"], event["region"]) == ("aws.cloudwatch", "000000000000", "us-east-1")
    assert event["alarmArn"] == f"arn:aws:cloudwatch:us-east-1:000000000000:alarm:{name}"
    data = event["alarmData"]
    assert data["alarmName"] == name
    assert (data["state"]["value"], data["state"]["reason"]) == ("ALARM", "drill")
    assert data["previousState"]["value"] == "INSUFFICIENT_DATA"
    assert data["configuration"]["description"] == "wake the on-call function"
    assert data["configuration"]["metrics"][0]["metricStat"]["metric"]["name"] == "Failures"
    actions = wait_for(lambda: cw.describe_alarm_history(AlarmName=name, HistoryItemType="Action")[
        "AlarmHistoryItems"], message="the action's history item")
    assert actions[0]["HistorySummary"] == f"Successfully executed action {arn}"
