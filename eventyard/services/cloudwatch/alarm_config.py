"""PutMetricAlarm's and PutCompositeAlarm's checks, and the configuration an alarm keeps.

The configuration is kept as the operation's own members (AlarmDescription, Metrics, Threshold, ...),
so DescribeAlarms answers exactly what was put.
"""

from __future__ import annotations

import re
from typing import Any

from eventyard.services.cloudwatch import alarm_rule, errors
from eventyard.services.cloudwatch.evaluation import OPERATORS, Definition
from eventyard.services.cloudwatch.math_parser import ExpressionError, parse
from eventyard.services.cloudwatch.metric_data import check_queries
from eventyard.services.cloudwatch.statistics import parse_extended

MAX_EVALUATION_SECONDS = 7 * 86_400
MAX_ALARM_METRICS = 20
METRIC_FIELDS = ("MetricName", "Namespace", "Dimensions", "Period", "Unit", "Statistic", "ExtendedStatistic")
METRIC_ALARM_FIELDS = ("AlarmDescription", "OKActions", "AlarmActions", "InsufficientDataActions", *METRIC_FIELDS,
                       "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
                       "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId")
COMPOSITE_FIELDS = ("AlarmDescription", "OKActions", "AlarmActions", "InsufficientDataActions", "AlarmRule",
                    "ActionsSuppressor", "ActionsSuppressorWaitPeriod", "ActionsSuppressorExtensionPeriod")
_ACTION = re.compile(r"^arn:aws[a-z-]*:(sns|lambda|automate|autoscaling|ssm|ssm-incidents|swf|aiops):[^:]*:[^:]*:.+$")


def _check_actions(params: dict[str, Any]) -> None:
    for member in ("OKActions", "AlarmActions", "InsufficientDataActions"):
        for arn in params.get(member) or []:
            if not _ACTION.match(arn):
                raise errors.validation(f"Invalid arn syntax: {arn}")


def metric_alarm_config(params: dict[str, Any]) -> dict[str, Any]:
    """A PutMetricAlarm request, checked, as the configuration to keep."""
    _check_actions(params)
    for member in ("ComparisonOperator", "EvaluationPeriods"):  # optional in the model, needed by a metric alarm
        if params.get(member) is None:
            raise errors.validation(f"{member} must not be null")
    operator = params["ComparisonOperator"]
    if operator not in OPERATORS:
        raise errors.validation(f"ComparisonOperator {operator} needs an anomaly detection band "
                                "(ThresholdMetricId), which Eventyard does not implement.")
    if "ThresholdMetricId" in params:
        raise errors.validation("ThresholdMetricId is only valid with the anomaly detection comparison operators.")
    if "Threshold" not in params:
        raise errors.validation("Threshold must not be null")
    if params.get("Metrics"):
        _check_math_alarm(params)
        period = min(q["MetricStat"]["Period"] for q in params["Metrics"] if "MetricStat" in q) \
            if any("MetricStat" in q for q in params["Metrics"]) else \
            next((q["Period"] for q in params["Metrics"] if q.get("Period")), 60)
    else:
        _check_single_metric(params)
        period = params["Period"]
    evaluations = params["EvaluationPeriods"]
    if period * evaluations > MAX_EVALUATION_SECONDS:
        raise errors.validation("The evaluation period (Period multiplied by EvaluationPeriods) must not be longer "
                                "than 7 days.")
    to_alarm = params.get("DatapointsToAlarm")
    if to_alarm is not None and to_alarm > evaluations:
        raise errors.validation("DatapointsToAlarm must be less than or equal to EvaluationPeriods")
    low = params.get("EvaluateLowSampleCountPercentile")
    if low is not None and low not in ("evaluate", "ignore"):
        raise errors.validation(f"Option unknown: {low}, EvaluateLowSampleCountPercentile must be one of "
                                "evaluate or ignore")
    treat = params.get("TreatMissingData")
    if treat is not None and treat not in ("breaching", "notBreaching", "ignore", "missing"):
        raise errors.validation(f"Option unknown: {treat}, TreatMissingData must be one of breaching, "
                                "notBreaching, ignore or missing")
    return {k: params[k] for k in METRIC_ALARM_FIELDS if k in params}


def _check_single_metric(params: dict[str, Any]) -> None:
    for member in ("MetricName", "Namespace", "Period"):
        if member not in params:
            raise errors.validation(f"{member} must not be null")
    period = params["Period"]
    if period not in (10, 20, 30) and (period <= 0 or period % 60):
        raise errors.validation("Period must be 10, 20, 30 or a multiple of 60.")
    if ("Statistic" in params) == ("ExtendedStatistic" in params):
        raise errors.validation("Exactly one of Statistic or ExtendedStatistic must be set.")
    if "ExtendedStatistic" in params and parse_extended(params["ExtendedStatistic"]) is None:
        raise errors.validation(f"The value {params['ExtendedStatistic']} for parameter ExtendedStatistic is invalid.")


def _check_math_alarm(params: dict[str, Any]) -> None:
    for member in METRIC_FIELDS:
        if member in params:
            raise errors.validation(f"{member} should not be set if list of Metrics is set.")
    queries = params["Metrics"]
    if len(queries) > MAX_ALARM_METRICS:
        raise errors.validation(f"The collection Metrics must not have a size greater than {MAX_ALARM_METRICS}.")
    check_queries(queries)
    returning = [q for q in queries if q.get("ReturnData", True)]
    if len(returning) != 1:
        raise errors.validation("Exactly one element of the metrics list should return data.")
    for query in queries:
        if "Expression" in query:
            try:
                parse(query["Expression"])
            except ExpressionError as error:
                raise errors.validation(f"Error in expression {query['Id']}: {error}") from None


def definition(config: dict[str, Any]) -> Definition:
    """What evaluation needs from a metric alarm's configuration."""
    if config.get("Metrics"):
        stats = [q["MetricStat"]["Period"] for q in config["Metrics"] if "MetricStat" in q]
        returning = next(q for q in config["Metrics"] if q.get("ReturnData", True))
        period = returning.get("Period") or (min(stats) if stats else 60)
        statistic, extended, unit = None, False, None
    else:
        period = config["Period"]
        extended = "ExtendedStatistic" in config
        statistic = config.get("ExtendedStatistic") if extended else config.get("Statistic")
        unit = config.get("Unit")
    parsed = parse_extended(statistic) if extended and statistic else None
    return Definition(
        period=period,
        evaluation_periods=config["EvaluationPeriods"],
        datapoints_to_alarm=config.get("DatapointsToAlarm"),
        threshold=float(config["Threshold"]),
        comparison=config["ComparisonOperator"],
        treat_missing=config.get("TreatMissingData", "missing"),
        statistic=statistic,
        extended=extended,
        unit=unit,
        low_sample_ignore=config.get("EvaluateLowSampleCountPercentile") == "ignore",
        minimum_samples=parsed.minimum_samples() if parsed else 0.0,
    )


def composite_config(params: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A PutCompositeAlarm request, checked, and the alarms its rule names."""
    _check_actions(params)
    rule = alarm_rule.parse(params["AlarmRule"])
    return {k: params[k] for k in COMPOSITE_FIELDS if k in params}, alarm_rule.children(rule)


def evaluation_interval(config: dict[str, Any]) -> int:
    """How often a metric alarm is evaluated: every period below a minute, else every minute."""
    return min(definition(config).period, 60)
