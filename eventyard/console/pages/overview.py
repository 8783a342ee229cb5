"""The overview: every region's resources, alarm states and a badge on each DLQ holding messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventyard.console.pages import inventory
from eventyard.console.routing import Routes
from eventyard.console.web import ConsoleRequest
from eventyard.protocol.base import HttpResponse
from eventyard.protocol.errors import AwsError

if TYPE_CHECKING:
    from eventyard.console.console import Console

routes = Routes()


@routes.get("")
async def overview(console: Console, request: ConsoleRequest) -> HttpResponse:
    counts = await inventory.region_counts(console, request)
    regions = sorted(counts)
    return console.render(request, "overview.html", title="Overview", counts=counts,
                          service_pages={"SQS queues": "sqs"} | {label: page for label, _, page, _ in inventory.COUNTERS},
                          dlqs=await _dead_letter_queues(console, request, regions), dlq_regions=",".join(regions),
                          alarms=await _alarm_states(console, request), now=console.now())


@routes.get("overview/dlqs")
async def dlq_badges(console: Console, request: ConsoleRequest) -> HttpResponse:
    """The badges alone (re-rendered live): for the regions the page found resources in, so a live
    update costs a few reads, not a scan of every region."""
    regions = [r for r in request.arg("regions").split(",") if r] or [request.region]
    return console.render(request, "fragments/dlq_badges.html",
                          dlqs=await _dead_letter_queues(console, request, regions), now=console.now())


async def _dead_letter_queues(console: Console, request: ConsoleRequest,
                              regions: list[str]) -> list[inventory.DeadLetterQueue]:
    found = []
    for region in regions:
        found.extend(await inventory.dead_letter_queues(console, request, region))
    return found


async def _alarm_states(console: Console, request: ConsoleRequest) -> dict[str, int] | None:
    """Alarms by state in the current region; None while the CloudWatch service is absent."""
    if not console.has("cloudwatch"):
        return None
    try:
        alarms = await console.collect(request, "cloudwatch", "DescribeAlarms", "MetricAlarms")
    except AwsError:
        return None
    states: dict[str, int] = {"ALARM": 0, "OK": 0, "INSUFFICIENT_DATA": 0}
    for alarm in alarms:
        states[alarm.get("StateValue", "INSUFFICIENT_DATA")] = states.get(alarm.get("StateValue", ""), 0) + 1
    return states
