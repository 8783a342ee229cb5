"""Lambda pages: functions, one function's configuration, its recent invocations (duration and
errors, read from the REPORT lines of its log group, as CloudWatch Logs Insights would) and a live
tail of its log."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eventyard.console.links import arn_region, resource_name
from eventyard.console.paging import paginate
from eventyard.console.routing import Routes
from eventyard.console.web import ConsoleRequest
from eventyard.protocol.base import HttpResponse
from eventyard.protocol.errors import AwsError

if TYPE_CHECKING:
    from eventyard.console.console import Console

routes = Routes()
TAIL_LINES = 200
RECENT_WINDOW = 24 * 3600.0
MAX_EVENTS = 5000
_REQUEST_LINE = re.compile(r"^(START|END|REPORT) RequestId: (\S+)")
_DURATION = re.compile(r"\tDuration: ([\d.]+) ms")
_ERROR_MARKERS = ("[ERROR]", "Task timed out", "Status: timeout", "Runtime.ExitError", '"errorType"', "Error: Runtime")


@dataclass
class Invocation:
    request_id: str
    started: float
    duration_ms: float | None = None
    error: str | None = None
    lines: list[str] = field(default_factory=list)


@routes.get("lambda")
async def functions(console: Console, request: ConsoleRequest) -> HttpResponse:
    found = await console.collect(request, "lambda", "ListFunctions", "Functions", token="NextMarker")
    page = paginate(sorted(found, key=lambda f: f["FunctionName"]), request, lambda f: f["FunctionName"])
    return console.render(request, "lambda_functions.html", title="Lambda functions", page=page)


@routes.get("lambda/function")
async def function(console: Console, request: ConsoleRequest) -> HttpResponse:
    arn = request.arg("arn")
    region = arn_region(arn, request.region)
    described = await console.call(request, "lambda", "GetFunction", {"FunctionName": arn}, region)
    mappings = await console.collect(request, "lambda", "ListEventSourceMappings", "EventSourceMappings",
                                     {"FunctionName": arn}, token="NextMarker", region=region)
    aliases = await console.collect(request, "lambda", "ListAliases", "Aliases", {"FunctionName": arn},
                                    token="NextMarker", region=region)
    return console.render(request, "lambda_function.html", title=resource_name(arn), arn=arn,
                          config=described["Configuration"], code=described.get("Code", {}),
                          tags=described.get("Tags", {}), mappings=mappings, aliases=aliases,
                          **await _activity(console, request, described["Configuration"], region))


@routes.get("lambda/function/activity")
async def activity(console: Console, request: ConsoleRequest) -> HttpResponse:
    arn = request.arg("arn")
    region = arn_region(arn, request.region)
    config = await console.call(request, "lambda", "GetFunctionConfiguration", {"FunctionName": arn}, region)
    return console.render(request, "fragments/lambda_activity.html", **await _activity(console, request, config, region))


async def _activity(console: Console, request: ConsoleRequest, config: dict[str, Any], region: str) -> dict[str, Any]:
    group = (config.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{config['FunctionName']}"
    events: list[dict[str, Any]] = []
    if console.has("logs"):
        now = console.now()
        try:
            events = await console.collect(request, "logs", "FilterLogEvents", "events", {
                "logGroupName": group, "startTime": int((now - RECENT_WINDOW) * 1000)}, token="nextToken",
                region=region, limit=MAX_EVENTS)
        except AwsError:
            events = []  # no log group yet: the function never ran
    events.sort(key=lambda e: (e.get("timestamp", 0), e.get("eventId", "")))
    return {"log_group": group, "invocations": invocations(events)[::-1][:50], "tail": events[-TAIL_LINES:],
            "now": console.now()}


def invocations(events: list[dict[str, Any]]) -> list[Invocation]:
    """Invocations read from a function's log: START..REPORT per request id, per log stream."""
    open_by_stream: dict[str, Invocation] = {}
    done: list[Invocation] = []
    for event in events:
        message, stream = str(event.get("message", "")), str(event.get("logStreamName", ""))
        marker = _REQUEST_LINE.match(message)
        if marker and marker.group(1) == "START":
            open_by_stream[stream] = Invocation(marker.group(2), event.get("timestamp", 0) / 1000)
            continue
        current = open_by_stream.get(stream)
        if current is None:
            continue
        if not marker:
            current.lines.append(message)
        if current.error is None and any(m in message for m in _ERROR_MARKERS):
            current.error = message.split("Traceback")[0].strip().splitlines()[0][:200]  # the error, not its stack
        if marker and marker.group(1) == "REPORT":
            duration = _DURATION.search(message)
            current.duration_ms = float(duration.group(1)) if duration else None
            done.append(open_by_stream.pop(stream))
    return done + list(open_by_stream.values())
