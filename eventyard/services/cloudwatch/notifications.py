"""What an alarm's state change says: the SNS notification JSON, the Lambda action's payload and the
"CloudWatch Alarm State Change" event, each in AWS's own shape and spelling."""

from __future__ import annotations

import uuid
from typing import Any

from eventyard.services.cloudwatch.alarms import Alarm
from eventyard.services.cloudwatch.wording import aws_timestamp, region_name

MAX_SUBJECT = 100  # SNS's limit on a subject
_STATISTIC_NAMES = {"SampleCount": "SAMPLE_COUNT", "Average": "AVERAGE", "Sum": "SUM", "Minimum": "MINIMUM",
                    "Maximum": "MAXIMUM"}


def subject(alarm: Alarm) -> str:
    return f'{alarm.state_value}: "{alarm.name}" in {region_name(alarm.region)}'[:MAX_SUBJECT]


def sns_message(alarm: Alarm, old_state: str, triggering: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The JSON document an alarm publishes to its SNS topics (alarm is already in its new state)."""
    message: dict[str, Any] = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.config.get("AlarmDescription"),
        "AWSAccountId": alarm.account_id,
        "AlarmConfigurationUpdatedTimestamp": aws_timestamp(alarm.config_updated_at),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": aws_timestamp(alarm.state_updated_at),
        "Region": region_name(alarm.region),
        "AlarmArn": alarm.arn,
        "OldStateValue": old_state,
        "OKActions": alarm.actions_for("OK"),
        "AlarmActions": alarm.actions_for("ALARM"),
        "InsufficientDataActions": alarm.actions_for("INSUFFICIENT_DATA"),
    }
    if alarm.is_composite:
        message["AlarmRule"] = alarm.config["AlarmRule"]
        message["TriggeringChildren"] = [{"Arn": t["arn"], "State": {"Value": t["state"]["value"],
                                                                    "Timestamp": t["state"]["timestamp"]}}
                                         for t in triggering or []]
    else:
        message["Trigger"] = trigger(alarm.config)
    return message


def trigger(config: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if config.get("Metrics"):
        head = {}
    else:
        extended = "ExtendedStatistic" in config
        head = {
            "MetricName": config["MetricName"],
            "Namespace": config["Namespace"],
            "StatisticType": "ExtendedStatistic" if extended else "Statistic",
            **({"ExtendedStatistic": config["ExtendedStatistic"]} if extended
               else {"Statistic": _STATISTIC_NAMES.get(config["Statistic"], config["Statistic"])}),
            "Unit": config.get("Unit"),
            "Dimensions": [{"value": d["Value"], "name": d["Name"]} for d in config.get("Dimensions", [])],
        }
    out.update(head)
    out["Period"] = config.get("Period") or _math_period(config)
    out["EvaluationPeriods"] = config["EvaluationPeriods"]
    if "DatapointsToAlarm" in config:
        out["DatapointsToAlarm"] = config["DatapointsToAlarm"]
    out["ComparisonOperator"] = config["ComparisonOperator"]
    out["Threshold"] = float(config["Threshold"])
    # AWS's notifications really spell it this way.
    out["TreatMissingData"] = f"- TreatMissingData:{' ' * 20}{config.get('TreatMissingData', 'missing')}"
    out["EvaluateLowSampleCountPercentile"] = config.get("EvaluateLowSampleCountPercentile", "")
    if config.get("Metrics"):
        out["Metrics"] = [_trigger_query(q) for q in config["Metrics"]]
    return out


def _math_period(config: dict[str, Any]) -> int:
    periods = [q["MetricStat"]["Period"] for q in config.get("Metrics", []) if "MetricStat" in q]
    return min(periods) if periods else 60


def _trigger_query(query: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "Expression" in query:
        out["Expression"] = query["Expression"]
    out["Id"] = query["Id"]
    if "Label" in query:
        out["Label"] = query["Label"]
    if "MetricStat" in query:
        stat = query["MetricStat"]
        metric = stat["Metric"]
        out["MetricStat"] = {
            "Metric": {"Dimensions": [{"value": d["Value"], "name": d["Name"]} for d in metric.get("Dimensions", [])],
                       "MetricName": metric["MetricName"], "Namespace": metric["Namespace"]},
            "Period": stat["Period"], "Stat": stat["Stat"], **({"Unit": stat["Unit"]} if "Unit" in stat else {})}
    out["ReturnData"] = query.get("ReturnData", True)
    return out


# -- EventBridge and Lambda -------------------------------------------------------------------
def configuration(alarm: Alarm) -> dict[str, Any]:
    """The alarm's configuration as state-change events and Lambda actions describe it."""
    out: dict[str, Any] = {}
    if alarm.config.get("AlarmDescription"):
        out["description"] = alarm.config["AlarmDescription"]
    if alarm.is_composite:
        out["alarmRule"] = alarm.config["AlarmRule"]
        return out
    if alarm.config.get("Metrics"):
        out["metrics"] = [_event_query(q) for q in alarm.config["Metrics"]]
        return out
    stat: dict[str, Any] = {
        "metric": {"dimensions": {d["Name"]: d["Value"] for d in alarm.config.get("Dimensions", [])},
                   "name": alarm.config["MetricName"], "namespace": alarm.config["Namespace"]},
        "period": alarm.config["Period"],
        "stat": alarm.config.get("Statistic") or alarm.config.get("ExtendedStatistic"),
    }
    if alarm.config.get("Unit"):
        stat["unit"] = alarm.config["Unit"]
    out["metrics"] = [{"id": str(uuid.uuid5(uuid.NAMESPACE_URL, alarm.arn)), "metricStat": stat, "returnData": True}]
    return out


def _event_query(query: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": query["Id"]}
    if "Expression" in query:
        out["expression"] = query["Expression"]
    if "Label" in query:
        out["label"] = query["Label"]
    if "MetricStat" in query:
        stat, metric = query["MetricStat"], query["MetricStat"]["Metric"]
        out["metricStat"] = {"metric": {"dimensions": {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])},
                                        "name": metric["MetricName"], "namespace": metric["Namespace"]},
                             "period": stat["Period"], "stat": stat["Stat"]}
    out["returnData"] = query.get("ReturnData", True)
    return out


def state_view(value: str, reason: str, reason_data: str | None, at: float) -> dict[str, Any]:
    out: dict[str, Any] = {"value": value, "reason": reason}
    if reason_data:
        out["reasonData"] = reason_data
    out["timestamp"] = aws_timestamp(at)
    return out


def event_detail(alarm: Alarm, previous: dict[str, Any]) -> dict[str, Any]:
    """The detail of a "CloudWatch Alarm State Change" event."""
    return {
        "alarmName": alarm.name,
        "state": state_view(alarm.state_value, alarm.state_reason, alarm.state_reason_data, alarm.state_updated_at),
        "previousState": previous,
        "configuration": configuration(alarm),
    }


def lambda_payload(alarm: Alarm, previous: dict[str, Any]) -> dict[str, Any]:
    """What a Lambda alarm action receives."""
    return {
        "source": "aws.cloudwatch",
        "alarmArn": alarm.arn,
        "accountId": alarm.account_id,
        "time": aws_timestamp(alarm.state_updated_at),
        "region": alarm.region,
        "alarmData": {
            "alarmName": alarm.name,
            "state": state_view(alarm.state_value, alarm.state_reason, alarm.state_reason_data,
                                alarm.state_updated_at),
            "previousState": previous,
            "configuration": configuration(alarm),
        },
    }
