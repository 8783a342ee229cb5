"""Step Functions pages: state machines drawn from their definitions, executions drawn on them
(each state's status from GetExecutionHistory), the event history, Start, Stop and Redrive."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from eventyard.console.graph.asl_graph import build_graph
from eventyard.console.graph.layout import lay_out
from eventyard.console.graph.overlay import overlay
from eventyard.console.links import arn_region
from eventyard.console.paging import paginate
from eventyard.console.routing import Routes
from eventyard.console.web import ConsoleRequest, console_url, redirect
from eventyard.protocol.base import HttpResponse
from eventyard.protocol.errors import AwsError

if TYPE_CHECKING:
    from eventyard.console.console import Console

routes = Routes()
MAX_EXECUTIONS = 1000
HISTORY_PAGE = 100
STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"]


@routes.get("sfn")
async def machines(console: Console, request: ConsoleRequest) -> HttpResponse:
    found = await console.collect(request, "stepfunctions", "ListStateMachines", "stateMachines", token="nextToken")
    page = paginate(sorted(found, key=lambda m: m["name"]), request, lambda m: m["name"])
    return console.render(request, "sfn_machines.html", title="State machines", page=page)


@routes.get("sfn/machine")
async def machine(console: Console, request: ConsoleRequest) -> HttpResponse:
    arn = request.arg("arn")
    region = arn_region(arn, request.region)
    described = await console.call(request, "stepfunctions", "DescribeStateMachine", {"stateMachineArn": arn}, region)
    params: dict[str, Any] = {"stateMachineArn": arn}
    if request.arg("status") in STATUSES:
        params["statusFilter"] = request.arg("status")
    executions = await console.collect(request, "stepfunctions", "ListExecutions", "executions", params,
                                       token="nextToken", region=region, limit=MAX_EXECUTIONS)
    page = paginate(executions, request, lambda e: e["name"])
    return console.render(request, "sfn_machine.html", title=described["name"], machine=described,
                          layout=_layout(described["definition"]), overlay=None, page=page, statuses=STATUSES,
                          definition=json.loads(described["definition"]))


@routes.get("sfn/execution")
async def execution(console: Console, request: ConsoleRequest) -> HttpResponse:
    context = await _execution_context(console, request)
    return console.render(request, "sfn_execution.html", title=context["execution"]["name"], **context)


@routes.get("sfn/execution/live")
async def execution_live(console: Console, request: ConsoleRequest) -> HttpResponse:
    context = await _execution_context(console, request)
    return console.render(request, "fragments/sfn_execution_live.html", **context)


async def _execution_context(console: Console, request: ConsoleRequest) -> dict[str, Any]:
    arn = request.arg("arn")
    region = arn_region(arn, request.region)
    described = await console.call(request, "stepfunctions", "DescribeExecution", {"executionArn": arn}, region)
    machine = await console.call(request, "stepfunctions", "DescribeStateMachineForExecution",
                                 {"executionArn": arn}, region)
    history = await console.collect(request, "stepfunctions", "GetExecutionHistory", "events",
                                    {"executionArn": arn, "maxResults": 1000}, token="nextToken", region=region)
    drawn = overlay(history, described["status"])
    newest_first = list(reversed(history))
    page = paginate(newest_first, request, lambda e: json.dumps(e, default=str), per_page=HISTORY_PAGE)
    return {"arn": arn, "execution": described, "machine": machine, "layout": _layout(machine["definition"]),
            "overlay": drawn, "history": page, "now": console.now()}


def _layout(definition: str) -> Any:
    return lay_out(build_graph(json.loads(definition)))


@routes.post("sfn/start")
async def start(console: Console, request: ConsoleRequest) -> HttpResponse:
    arn = request.arg("arn")
    params = {"stateMachineArn": arn, "input": request.form.get("input") or "{}"}
    if request.form.get("name"):
        params["name"] = request.form["name"]
    try:
        started = await console.call(request, "stepfunctions", "StartExecution", params, arn_region(arn, request.region))
    except AwsError as error:
        return redirect(console_url("sfn/machine", arn=arn, error=f"{error.code}: {error.message}"))
    return redirect(console_url("sfn/execution", arn=started["executionArn"], notice="Execution started."))


@routes.post("sfn/stop")
async def stop(console: Console, request: ConsoleRequest) -> HttpResponse:
    return await _act(console, request, "StopExecution", "Execution stopped.",
                      {"cause": request.form.get("cause") or "Stopped from the Eventyard console"})


@routes.post("sfn/redrive")
async def redrive(console: Console, request: ConsoleRequest) -> HttpResponse:
    return await _act(console, request, "RedriveExecution", "Execution redriven.", {})


async def _act(console: Console, request: ConsoleRequest, operation: str, success: str,
               extra: dict[str, Any]) -> HttpResponse:
    arn = request.arg("arn")
    try:
        await console.call(request, "stepfunctions", operation, {"executionArn": arn, **extra},
                           arn_region(arn, request.region))
    except AwsError as error:
        return redirect(console_url("sfn/execution", arn=arn, error=f"{error.code}: {error.message}"))
    return redirect(console_url("sfn/execution", arn=arn, notice=success))
