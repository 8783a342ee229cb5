"""Alarm evaluation on a server whose clock the test moves: every TreatMissingData mode, metric-math
alarms, M-out-of-N, and an evaluation that falls due while the server is killed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.cloudwatch.conftest import server_now, wait_for
from tests.conftest import ServerProcess


def _states(cw: Any, names: list[str]) -> dict[str, str]:
    return {a["AlarmName"]: a["StateValue"] for a in cw.describe_alarms(AlarmNames=names)["MetricAlarms"]}


def _reason(cw: Any, name: str) -> str:
    return str(cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateReason"])


def test_every_treat_missing_data_mode_decides_as_documented(clocked: ServerProcess) -> None:
    cw = clocked.client("cloudwatch")
    modes = ("missing", "ignore", "breaching", "notBreaching")
    for mode in modes:
        cw.put_metric_alarm(AlarmName=mode, Namespace="Jobs", MetricName="Failures", Statistic="Sum", Period=60,
                            EvaluationPeriods=1, Threshold=5.0, ComparisonOperator="GreaterThanThreshold",
                            TreatMissingData=mode)
    cw.put_metric_data(Namespace="Jobs", MetricData=[{"MetricName": "Failures", "Value": 10.0,
                                                      "Timestamp": server_now(clocked)}])
    clocked.advance_clock(60)  # the minute with the datapoint ends: every mode sees it and alarms
    wait_for(lambda: set(_states(cw, list(modes)).values()) == {"ALARM"}, message="every alarm in ALARM")
    assert re.fullmatch(r"Threshold Crossed: 1 datapoint \[10\.0 \(\d\d/\d\d/\d\d \d\d:\d\d:00\)\] was greater than "
                        r"the threshold \(5\.0\)\.", _reason(cw, "missing"))
    clocked.advance_clock(240)  # no data for longer than the evaluation range
    expected = {"missing": "INSUFFICIENT_DATA", "ignore": "ALARM", "breaching": "ALARM", "notBreaching": "OK"}
    wait_for(lambda: _states(cw, list(modes)) == expected, message=f"states {expected}")
    assert _reason(cw, "missing") == "Insufficient Data: 1 datapoint was unknown."
    assert _reason(cw, "notBreaching") == ("Threshold Crossed: no datapoints were received for 1 period and 1 missing "
                                           "datapoint was treated as [NonBreaching].")
    history = cw.describe_alarm_history(AlarmName="notBreaching", HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history] == ["Alarm updated from ALARM to OK",
                                                      "Alarm updated from INSUFFICIENT_DATA to ALARM"]


def test_metric_math_alarms_watch_an_expression(clocked: ServerProcess) -> None:
    cw = clocked.client("cloudwatch")

    def stat(query_id: str, name: str) -> dict[str, Any]:
        return {"Id": query_id, "ReturnData": False, "MetricStat": {
            "Metric": {"Namespace": "Web", "MetricName": name}, "Period": 60, "Stat": "Sum"}}

    cw.put_metric_alarm(AlarmName="error-rate", EvaluationPeriods=1, Threshold=10.0,
                        ComparisonOperator="GreaterThanOrEqualToThreshold", Metrics=[
                            stat("errors", "Errors"), stat("requests", "Requests"),
                            {"Id": "rate", "Expression": "100 * errors / requests", "Label": "Error %"}])
    now = server_now(clocked)
    cw.put_metric_data(Namespace="Web", MetricData=[{"MetricName": "Errors", "Value": 3.0, "Timestamp": now},
                                                    {"MetricName": "Requests", "Value": 20.0, "Timestamp": now}])
    clocked.advance_clock(60)
    wait_for(lambda: _states(cw, ["error-rate"])["error-rate"] == "ALARM", message="the math alarm in ALARM")
    assert re.fullmatch(r"Threshold Crossed: 1 datapoint \[15\.0 \(.+\)\] was greater than or equal to the threshold "
                        r"\(10\.0\)\.", _reason(cw, "error-rate"))
    data = json.loads(cw.describe_alarms(AlarmNames=["error-rate"])["MetricAlarms"][0]["StateReasonData"])
    assert "statistic" not in data and data["recentDatapoints"] == [15.0]
    now = server_now(clocked)
    cw.put_metric_data(Namespace="Web", MetricData=[{"MetricName": "Errors", "Value": 1.0, "Timestamp": now},
                                                    {"MetricName": "Requests", "Value": 50.0, "Timestamp": now}])
    clocked.advance_clock(60)
    wait_for(lambda: _states(cw, ["error-rate"])["error-rate"] == "OK", message="the math alarm back to OK")


def test_m_out_of_n_alarms_wait_for_m_breaching_periods(clocked: ServerProcess) -> None:
    cw = clocked.client("cloudwatch")
    cw.put_metric_alarm(AlarmName="flappy", Namespace="Jobs", MetricName="Queue", Statistic="Maximum", Period=60,
                        EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=100.0,
                        ComparisonOperator="GreaterThanThreshold")
    for value in (150.0, 50.0, 170.0):
        cw.put_metric_data(Namespace="Jobs", MetricData=[{"MetricName": "Queue", "Value": value,
                                                          "Timestamp": server_now(clocked)}])
        clocked.advance_clock(60)
    wait_for(lambda: _states(cw, ["flappy"])["flappy"] == "ALARM", message="2 of 3 breaching")
    assert re.fullmatch(r"Threshold Crossed: 2 out of the last 3 datapoints \[170\.0 \(.+\), 150\.0 \(.+\)\] were "
                        r"greater than the threshold \(100\.0\) \(minimum 2 datapoints for OK -> ALARM transition\)\.",
                        _reason(cw, "flappy"))


def test_an_evaluation_due_while_the_server_was_killed_runs_at_start(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        cw, sns, sqs = server.client("cloudwatch"), server.client("sns"), server.client("sqs")
        topic = sns.create_topic(Name="pager")["TopicArn"]
        inbox = sqs.create_queue(QueueName="pager-inbox")["QueueUrl"]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn, Attributes={"RawMessageDelivery": "true"})
        cw.put_metric_alarm(AlarmName="durable", Namespace="Jobs", MetricName="Failures", Statistic="Sum", Period=60,
                            EvaluationPeriods=1, Threshold=0.0, ComparisonOperator="GreaterThanThreshold",
                            TreatMissingData="ignore", AlarmActions=[topic])
        cw.set_alarm_state(AlarmName="durable", StateValue="OK", StateReason="before the crash")
        # A failure ten minutes ahead: no evaluation can see it before the kill.
        cw.put_metric_data(Namespace="Jobs", MetricData=[{"MetricName": "Failures", "Value": 1.0,
                                                          "Timestamp": server_now(server) + 600}])
        server.kill()
        server.start()
        cw, sqs = server.client("cloudwatch"), server.client("sqs")
        assert _states(cw, ["durable"]) == {"durable": "OK"}
        assert [h["HistorySummary"] for h in cw.describe_alarm_history(AlarmName="durable")["AlarmHistoryItems"]] == [
            "Alarm updated from INSUFFICIENT_DATA to OK", 'Alarm "durable" created']
        server.advance_clock(660)  # the evaluations missed meanwhile are due: one runs now
        wait_for(lambda: _states(cw, ["durable"])["durable"] == "ALARM", message="the overdue evaluation")
        note = wait_for(lambda: sqs.receive_message(QueueUrl=inbox, WaitTimeSeconds=1).get("Messages"),
                        message="the alarm's notification")
        message = json.loads(note[0]["Body"])
        assert (message["AlarmName"], message["NewStateValue"], message["OldStateValue"]) == ("durable", "ALARM", "OK")
    finally:
        server.stop()
