"""EventBridge pages: buses, rules with their patterns and targets, the "test an event" box (which
rules match, and for each that does not, which field failed), archives and replays with progress,
and Scheduler schedules with their next firing times."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from eventyard.console.links import arn_parts, arn_region
from eventyard.console.paging import paginate
from eventyard.console.routing import Routes
from eventyard.console.web import ConsoleRequest
from eventyard.patterns import InvalidPattern, compile_event_pattern
from eventyard.patterns.explain import FieldMismatch, explain
from eventyard.protocol.base import HttpResponse
from eventyard.protocol.errors import AwsError
from eventyard.services.scheduler.schedules import upcoming_firings

if TYPE_CHECKING:
    from eventyard.console.console import Console

routes = Routes()
SAMPLE_EVENT = {"source": "com.example.orders", "detail-type": "Order Placed",
                "detail": {"orderId": "o-1", "total": 120, "status": "paid"}}


def _bus_name(arn: str) -> str:
    parts = arn_parts(arn)
    return parts[3].split("/", 1)[1] if parts and "/" in parts[3] else "default"


@routes.get("events")
async def buses(console: Console, request: ConsoleRequest) -> HttpResponse:
    found = await console.collect(request, "events", "ListEventBuses", "EventBuses")
    rows = []
    for bus in found:
        rules = await console.collect(request, "events", "ListRules", "Rules", {"EventBusName": bus["Name"]})
        rows.append({"bus": bus, "rules": len(rules)})
    page = paginate(rows, request, lambda r: r["bus"]["Name"])
    return console.render(request, "events_buses.html", title="EventBridge", page=page)


@routes.get("events/bus")
async def bus(console: Console, request: ConsoleRequest) -> HttpResponse:
    arn = request.arg("arn")
    region, name = arn_region(arn, request.region), _bus_name(arn)
    described = await console.call(request, "events", "DescribeEventBus", {"Name": name}, region)
    rules = await console.collect(request, "events", "ListRules", "Rules", {"EventBusName": name}, region=region)
    page = paginate(rules, request, lambda r: r["Name"] + " " + r.get("EventPattern", ""))
    firings = await _rule_firings(console, request, region) if name == "default" else {}
    rows = []
    for rule in page.rows:
        targets = await console.collect(request, "events", "ListTargetsByRule", "Targets",
                                        {"Rule": rule["Name"], "EventBusName": name}, region=region)
        rows.append({"rule": rule, "targets": targets, "next": firings.get(rule["Name"])})
    sample = dict(SAMPLE_EVENT)
    return console.render(request, "events_bus.html", title=f"Event bus {name}", bus=described, bus_name=name,
                          page=page, rows=rows, sample=json.dumps(sample, indent=2), now=console.now())


async def _rule_firings(console: Console, request: ConsoleRequest, region: str) -> dict[str, float]:
    provider = console.provider("events")
    return await provider.scheduled_rule_firings(request.account_id, region) if provider else {}


@routes.get("events/rule")
async def rule(console: Console, request: ConsoleRequest) -> HttpResponse:
    arn = request.arg("arn")
    region = arn_region(arn, request.region)
    resource = (arn_parts(arn) or ("", "", "", "rule/"))[3].removeprefix("rule/")
    bus_name, _, name = resource.rpartition("/")
    bus_name = bus_name or "default"
    described = await console.call(request, "events", "DescribeRule", {"Name": name, "EventBusName": bus_name}, region)
    targets = await console.collect(request, "events", "ListTargetsByRule", "Targets",
                                    {"Rule": name, "EventBusName": bus_name}, region=region)
    firings = await _rule_firings(console, request, region) if described.get("ScheduleExpression") else {}
    return console.render(request, "events_rule.html", title=f"Rule {name}", rule=described, targets=targets,
                          bus_arn=_bus_arn(request, region, bus_name), next_firing=firings.get(name),
                          now=console.now())


def _bus_arn(request: ConsoleRequest, region: str, name: str) -> str:
    return f"arn:aws:events:{region}:{request.account_id}:event-bus/{name}"


@routes.post("events/test")
async def test_event(console: Console, request: ConsoleRequest) -> HttpResponse:
    """Which of the bus's rules match an event, and why each other one does not. Changes nothing."""
    region, name = request.region, request.arg("bus", "default")
    text = request.form.get("event", "")
    try:
        event = _with_envelope(json.loads(text), request, region)
    except (ValueError, TypeError) as error:
        return console.render(request, "fragments/events_test.html", problem_text=f"The event is not JSON: {error}",
                              results=[], event=None)
    rules = await console.collect(request, "events", "ListRules", "Rules", {"EventBusName": name}, region=region)
    results = []
    for found in rules:
        if not found.get("EventPattern"):
            continue  # a scheduled rule: events do not reach it
        results.append(await _test_rule(console, request, region, found, event))
    results.sort(key=lambda r: (not r["matches"], r["rule"]["Name"]))
    return console.render(request, "fragments/events_test.html", problem_text="", results=results, event=event)


async def _test_rule(console: Console, request: ConsoleRequest, region: str, rule: dict[str, Any],
                     event: dict[str, Any]) -> dict[str, Any]:
    outcome = await console.call(request, "events", "TestEventPattern",
                                 {"EventPattern": rule["EventPattern"], "Event": json.dumps(event)}, region)
    reasons: list[FieldMismatch] = []
    if not outcome["Result"]:
        try:
            reasons = explain(compile_event_pattern(rule["EventPattern"]), event)
        except InvalidPattern:
            reasons = []
    return {"rule": rule, "matches": bool(outcome["Result"]), "reasons": reasons}


def _with_envelope(event: Any, request: ConsoleRequest, region: str) -> dict[str, Any]:
    """The envelope fields EventBridge adds on PutEvents, where the typed event lacks them."""
    if not isinstance(event, dict):
        raise ValueError("an event is a JSON object")
    defaults = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "", "source": "", "account": request.account_id,
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region, "resources": [],
                "detail": {}}
    return {**defaults, **event}


@routes.get("events/archives")
async def archives(console: Console, request: ConsoleRequest) -> HttpResponse:
    found = await console.collect(request, "events", "ListArchives", "Archives")
    replays = await console.collect(request, "events", "ListReplays", "Replays")
    return console.render(request, "events_archives.html", title="Archives and replays",
                          archives=paginate(found, request, lambda a: a["ArchiveName"]),
                          replays=[_with_progress(r) for r in replays], now=console.now())


@routes.get("events/replays")
async def replays_live(console: Console, request: ConsoleRequest) -> HttpResponse:
    """The replays table alone, re-rendered while replays run (their progress)."""
    replays = await console.collect(request, "events", "ListReplays", "Replays")
    source = request.arg("source")
    shown = [_with_progress(r) for r in replays if not source or r.get("EventSourceArn") == source]
    return console.render(request, "fragments/events_replays.html", replays=shown, now=console.now())


@routes.get("events/archive")
async def archive(console: Console, request: ConsoleRequest) -> HttpResponse:
    arn = request.arg("arn")
    name = (arn_parts(arn) or ("", "", "", "archive/"))[3].removeprefix("archive/")
    region = arn_region(arn, request.region)
    described = await console.call(request, "events", "DescribeArchive", {"ArchiveName": name}, region)
    replays = await console.collect(request, "events", "ListReplays", "Replays", region=region)
    mine = [_with_progress(r) for r in replays if r.get("EventSourceArn") == described.get("ArchiveArn")]
    return console.render(request, "events_archive.html", title=f"Archive {name}", archive=described, replays=mine,
                          now=console.now())


def _with_progress(replay: dict[str, Any]) -> dict[str, Any]:
    """A replay's share done: how far its last replayed event is through the replayed window."""
    def epoch(value: Any) -> float | None:
        return value.timestamp() if isinstance(value, datetime) else (float(value) if value is not None else None)

    start, end, last = (epoch(replay.get(k)) for k in ("EventStartTime", "EventEndTime", "EventLastReplayedTime"))
    progress = 1.0 if replay.get("State") == "COMPLETED" else 0.0
    if start is not None and end is not None and last is not None and end > start:
        progress = max(progress, min(1.0, (last - start) / (end - start)))
    return {**replay, "progress": progress}


@routes.get("events/schedules")
async def schedules(console: Console, request: ConsoleRequest) -> HttpResponse:
    if not console.has("scheduler"):
        return console.render(request, "events_schedules.html", title="Schedules", page=None, rows=[], now=0.0)
    found = await console.collect(request, "scheduler", "ListSchedules", "Schedules")
    page = paginate(sorted(found, key=lambda s: (s.get("GroupName", ""), s["Name"])), request,
                    lambda s: s["Name"] + " " + s.get("GroupName", ""))
    rows, now = [], console.now()
    for summary in page.rows:  # GetSchedule for the rows shown only: the page stays bounded
        try:
            schedule = await console.call(request, "scheduler", "GetSchedule",
                                          {"Name": summary["Name"], "GroupName": summary.get("GroupName") or "default"})
        except AwsError:
            continue
        upcoming = upcoming_firings(schedule, now, 3) if schedule.get("State") == "ENABLED" else []
        rows.append({"schedule": schedule, "upcoming": upcoming})
    return console.render(request, "events_schedules.html", title="Schedules", page=page, rows=rows, now=now)
