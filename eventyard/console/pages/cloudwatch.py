"""CloudWatch pages: alarms with their state history, metrics with a line chart, and the trace of
one id: its path across services and where it appears in the logs. All through the CloudWatch and Logs APIs; while CloudWatch is
not served the pages say so and the trace still searches the logs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from eventyard.console.links import arn_region, resource_name
from eventyard.console.pages.metrics import chart, datapoints
from eventyard.console.paging import paginate
from eventyard.console.routing import Routes
from eventyard.console.web import ConsoleRequest
from eventyard.protocol.base import HttpResponse
from eventyard.protocol.errors import AwsError

if TYPE_CHECKING:
    from eventyard.console.console import Console

routes = Routes()
STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")
TRACE_WINDOW = 7 * 24 * 3600.0
TRACE_GROUPS = 200


@routes.get("cloudwatch")
async def overview(console: Console, request: ConsoleRequest) -> HttpResponse:
    if not console.has("cloudwatch"):
        return console.render(request, "cloudwatch.html", title="CloudWatch", available=False, alarms=None,
                              metrics=None, states=STATES)
    params: dict[str, Any] = {}
    if request.arg("state") in STATES:
        params["StateValue"] = request.arg("state")
    try:
        alarms = await console.collect(request, "cloudwatch", "DescribeAlarms", "MetricAlarms", params)
        metrics = await console.collect(request, "cloudwatch", "ListMetrics", "Metrics", limit=5000)
    except AwsError as error:
        return console.render(request, "error.html", 400, title=error.code, code=error.code, message=error.message)
    return console.render(request, "cloudwatch.html", title="CloudWatch", available=True, states=STATES,
                          alarms=paginate(alarms, request, lambda a: a["AlarmName"]),
                          metrics=paginate(metrics, request, lambda m: m["Namespace"] + " " + m["MetricName"] + " "
                                           + json.dumps(m.get("Dimensions", []))))


@routes.get("cloudwatch/alarm")
async def alarm(console: Console, request: ConsoleRequest) -> HttpResponse:
    arn = request.arg("arn")
    region, name = arn_region(arn, request.region), resource_name(arn)
    found = (await console.call(request, "cloudwatch", "DescribeAlarms", {"AlarmNames": [name]}, region))
    alarms = found.get("MetricAlarms", []) + found.get("CompositeAlarms", [])
    if not alarms:
        raise AwsError("ResourceNotFound", f"No alarm named {name}.", 404)
    described = alarms[0]
    history = await console.collect(request, "cloudwatch", "DescribeAlarmHistory", "AlarmHistoryItems",
                                    {"AlarmName": name}, region=region, limit=500)
    drawn = None
    if described.get("MetricName"):
        points = await datapoints(console, request, region, described["Namespace"], described["MetricName"],
                                  {d["Name"]: d["Value"] for d in described.get("Dimensions", [])},
                                  described.get("Statistic") or "Average", period=int(described.get("Period") or 60))
        drawn = chart(points or [])
    return console.render(request, "cloudwatch_alarm.html", title=name, alarm=described, history=history,
                          chart=drawn, now=console.now())


@routes.get("cloudwatch/metric")
async def metric(console: Console, request: ConsoleRequest) -> HttpResponse:
    namespace, name = request.arg("namespace"), request.arg("name")
    dimensions = {k.removeprefix("dim."): v for k, v in request.query.items() if k.startswith("dim.")}
    statistic = request.arg("stat", "Average")
    points = await datapoints(console, request, request.region, namespace, name, dimensions, statistic,
                              hours=float(request.int_arg("hours", 3, 1, 24 * 14)))
    return console.render(request, "cloudwatch_metric.html", title=f"{namespace} {name}", namespace=namespace,
                          name=name, dimensions=dimensions, statistic=statistic, chart=chart(points or []),
                          available=points is not None, points=points or [])


@routes.get("trace")
async def trace(console: Console, request: ConsoleRequest) -> HttpResponse:
    """The path of one traced flow across services (a trace id, message id, event id, execution ARN
    or request id: `Platform.trace`), and where the id appears in the logs."""
    needle = request.arg("id").strip()
    path = await console.platform.trace(needle) if needle else None
    hits: list[dict[str, Any]] = []
    if needle and console.has("logs"):
        groups = await console.collect(request, "logs", "DescribeLogGroups", "logGroups", limit=TRACE_GROUPS)
        start = int((console.now() - TRACE_WINDOW) * 1000)
        for group in groups:
            try:
                events = await console.collect(request, "logs", "FilterLogEvents", "events", {
                    "logGroupName": group["logGroupName"], "filterPattern": json.dumps(needle),
                    "startTime": start}, token="nextToken", limit=200)
            except AwsError:
                continue
            hits.extend({**event, "logGroupName": group["logGroupName"]} for event in events)
    hits.sort(key=lambda e: e.get("timestamp", 0))
    return console.render(request, "trace.html", title="Trace", needle=needle, hits=hits[:500], path=path,
                          function_arn_prefix=f"arn:aws:lambda:{request.region}:{request.account_id}:function:")
