"""EventBridge operations: each maps its request onto the domain modules inside one storage call,
then brings the in-memory routing index up to date with what was committed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, TypeVar

from eventyard.patterns import InvalidEvent, InvalidPattern, compile_event_pattern, validate_test_event
from eventyard.protocol.errors import AwsError
from eventyard.runtime import timers
from eventyard.runtime.ids import new_uuid
from eventyard.runtime.ports import PUT_EVENTS_HOOK
from eventyard.runtime.timers import RetryPolicy, Timer
from eventyard.services import paging, schedule_expressions
from eventyard.services.base import Provider, RequestContext
from eventyard.services.events import access, archives, buses, ingest, rules, store
from eventyard.services.events import metrics as events_metrics
from eventyard.services.events.arns import DEFAULT_BUS, bus_name, parse_arn, rule_key
from eventyard.services.events.delivery import Deliverer, Failure
from eventyard.services.events.index import RoutingIndex
from eventyard.services.events.ingest import Accepted
from eventyard.services.events.operations_more import MoreOperations
from eventyard.services.transform import iso_time
from eventyard.storage import Connection

T = TypeVar("T")
SWEEP_INTERVAL = 60.0
ROUTING_CHANNEL = "events:routing"
ROUTING_RECHECK = 30.0  # with shared storage: rebuild this often even without a signal


class EventsProvider(MoreOperations, Provider):
    def __init__(self, platform: Any) -> None:
        super().__init__(platform)
        self.index = RoutingIndex()
        self._routing_changed = asyncio.Event()
        self.deliverer = Deliverer(platform, self._cross_bus)

    def now(self) -> float:
        return float(self.platform.clock.now())

    async def authorize(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> None:
        await access.authorize(self.platform, ctx, operation, params)

    async def start(self) -> None:
        await self.platform.db.read(self.index.load)
        if self.platform.db.shared:  # other nodes change rules too: rebuild when one says so
            self.platform.db.subscribe(ROUTING_CHANNEL, lambda _key: self._routing_changed.set())
            self.platform.supervisor.loop("events:routing-refresh", self._refresh_routing, ROUTING_RECHECK,
                                          wake=self._routing_changed)
        self.deliverer.register()
        self.platform.timers.register(rules.SCHEDULE_TIMER, self._fire_schedule, RetryPolicy(max_attempts=10))
        self.platform.timers.register(archives.REPLAY_TIMER, self._replay_step, RetryPolicy(max_attempts=10))
        self.platform.supervisor.every("events:archive-retention", SWEEP_INTERVAL,
                                        self.platform.leases.once("events:archive-retention", self._sweep))

    async def _sweep(self) -> None:
        now = self.now()
        await self.platform.db.write(lambda conn: archives.sweep(conn, now))

    async def _write(self, fn: Any) -> Any:
        return await self.platform.db.write(fn)

    async def _write_routing(self, fn: Callable[[Connection], T]) -> T:
        """A write that changes rules or archives: when it commits, every node rebuilds its index."""

        def run(conn: Connection) -> T:
            result = fn(conn)
            self.platform.db.notify(conn, ROUTING_CHANNEL, "")
            return result

        return await self.platform.db.write(run)

    async def _refresh_routing(self) -> None:
        """Rebuild the routing index from what is committed: when a node's change commits (signalled),
        and every ROUTING_RECHECK seconds in case a signal was lost. Refreshes run one at a time, each
        reading after the signal that asked for it, so the newest state wins."""
        fresh = RoutingIndex()
        await self.platform.db.read(fresh.load)
        self.index = fresh

    # -- event buses -----------------------------------------------------------------------
    async def create_event_bus(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        bus = await self._write(lambda conn: buses.create(conn, ctx.account_id, ctx.region, params, now))
        out = {"EventBusArn": bus["Arn"]}
        out.update({k: bus[k] for k in ("Description", "KmsKeyIdentifier", "DeadLetterConfig", "LogConfig") if k in bus})
        return out

    async def describe_event_bus(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now, name = self.now(), bus_name(params.get("Name"))
        bus = await self._write(lambda conn: buses.get(conn, ctx.account_id, ctx.region, name, now))
        return buses.describe(bus)

    async def update_event_bus(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        bus = await self._write(lambda conn: buses.update(conn, ctx.account_id, ctx.region, params, now))
        out = {"Arn": bus["Arn"], "Name": bus["Name"]}
        out.update({k: bus[k] for k in ("Description", "KmsKeyIdentifier", "DeadLetterConfig", "LogConfig") if k in bus})
        return out

    async def list_event_buses(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now, prefix = self.now(), params.get("NamePrefix", "")

        def run(conn: Any) -> paging.Page[dict[str, Any]]:
            buses.ensure_default(conn, ctx.account_id, ctx.region, now)
            return store.listing(conn, buses.KIND, ctx.account_id, ctx.region, params.get("NextToken"),
                                 params.get("Limit"), prefix)

        return paging.answer(await self._write(run), "EventBuses", buses.describe)

    async def delete_event_bus(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        name = params["Name"]
        await self._write_routing(lambda conn: buses.delete(conn, ctx.account_id, ctx.region, name))
        self.index.drop_bus((ctx.account_id, ctx.region, name))

    async def put_permission(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        now = self.now()
        await self._write(lambda conn: buses.put_permission(conn, ctx.account_id, ctx.region, params, now))

    async def remove_permission(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        now = self.now()
        await self._write(lambda conn: buses.remove_permission(conn, ctx.account_id, ctx.region, params, now))

    # -- rules and targets -----------------------------------------------------------------
    async def put_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        rule = await self._write_routing(lambda conn: rules.put(conn, ctx.account_id, ctx.region, params, now))
        self.index.put_rule((ctx.account_id, ctx.region, rule["EventBusName"]), rule)
        if rule.get("ScheduleExpression"):
            self.platform.timers.wake()
        return {"RuleArn": rule["Arn"]}

    async def describe_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = bus_name(params.get("EventBusName"))
        rule = await self.platform.db.read(lambda conn: rules.get(conn, ctx.account_id, ctx.region, bus, params["Name"]))
        return rules.describe(rule)

    async def _set_state(self, ctx: RequestContext, params: dict[str, Any], state: str) -> None:
        rule = await self._write_routing(lambda conn: rules.set_state(conn, ctx.account_id, ctx.region, params, state))
        self.index.put_rule((ctx.account_id, ctx.region, rule["EventBusName"]), rule)

    async def enable_rule(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._set_state(ctx, params, "ENABLED")

    async def disable_rule(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._set_state(ctx, params, "DISABLED")

    async def delete_rule(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        rule = await self._write_routing(lambda conn: rules.delete(conn, ctx.account_id, ctx.region, params))
        if rule is not None:
            bus = rule["EventBusName"]
            self.index.remove_rule((ctx.account_id, ctx.region, bus), f"{bus}|{rule['Name']}")

    async def list_rules(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now, bus = self.now(), bus_name(params.get("EventBusName"))

        def run(conn: Any) -> paging.Page[dict[str, Any]]:
            buses.get(conn, ctx.account_id, ctx.region, bus, now)
            return store.listing(conn, rules.KIND, ctx.account_id, ctx.region, params.get("NextToken"),
                                 params.get("Limit"), rule_key(bus, params.get("NamePrefix", "")))

        return paging.answer(await self._write(run), "Rules", rules.describe)

    async def list_rule_names_by_target(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now, bus = self.now(), bus_name(params.get("EventBusName"))

        def run(conn: Any) -> paging.Page[dict[str, Any]]:
            buses.get(conn, ctx.account_id, ctx.region, bus, now)
            return store.listing(conn, rules.KIND, ctx.account_id, ctx.region, params.get("NextToken"),
                                 params.get("Limit"), rule_key(bus, ""),
                                 keep=lambda rule: rules.targets_arn(rule, params["TargetArn"]))

        return paging.answer(await self._write(run), "RuleNames", lambda rule: rule["Name"])

    async def put_targets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._write(lambda conn: rules.put_targets(conn, ctx.account_id, ctx.region, params))
        return result

    async def remove_targets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._write(
            lambda conn: rules.remove_targets(conn, ctx.account_id, ctx.region, params))
        return result

    async def list_targets_by_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = bus_name(params.get("EventBusName"))
        rule = await self.platform.db.read(lambda conn: rules.get(conn, ctx.account_id, ctx.region, bus, params["Rule"]))
        found = store.in_memory(rule.get("Targets", []), params.get("NextToken"), params.get("Limit"),
                                f"events:targets:{rule['Arn']}")
        return paging.answer(found, "Targets")

    async def test_event_pattern(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        try:
            pattern = compile_event_pattern(params["EventPattern"])
        except InvalidPattern as error:
            raise AwsError("InvalidEventPatternException", error.full_message) from None
        try:
            event = json.loads(params["Event"])
            validate_test_event(event)
        except (ValueError, InvalidEvent):
            raise AwsError("ValidationException", "Parameter Event is not valid.") from None
        return {"Result": pattern.matches(event)}

    # -- events ----------------------------------------------------------------------------
    async def put_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entries = params["Entries"]
        if sum(ingest.entry_size(e) for e in entries) > ingest.MAX_REQUEST_BYTES:
            raise AwsError("ValidationException", "Total size of the entries in the request is over the limit.")
        now = self.now()
        results: list[dict[str, Any]] = []
        accepted: list[Accepted] = []
        # The schema registry's hook (services/schemas/intake.py): screens entries (opt-in validation),
        # observes accepted events (discovery).
        hook = self.platform.ports.find(PUT_EVENTS_HOOK)
        for entry in entries:
            problem = ingest.check_entry(entry)
            if problem is None and hook is not None:
                problem = await hook.screen(ctx.account_id, ctx.region, entry)
            if problem is not None:
                results.append({"ErrorCode": problem[0], "ErrorMessage": problem[1]})
                continue
            event = ingest.envelope(entry, ctx.account_id, ctx.region, now)
            given = entry.get("EventBusName")
            account = ctx.account_id
            if given and given.startswith("arn:"):
                account = parse_arn(given)[2]
            bus = (account, ctx.region, bus_name(given))
            # AWS accepts events for a bus that does not exist (they match no rule and are dropped).
            accepted.append(Accepted(bus, event, entry.get("TraceHeader") or ctx.trace_header))
            results.append({"EventId": event["id"]})
        await self._accept(accepted, now)
        if hook is not None:
            hook.observe(accepted)
        failed = sum(1 for r in results if "ErrorCode" in r)
        return {"FailedEntryCount": failed, "Entries": results}

    async def put_service_event(self, account: str, region: str, source: str, detail_type: str,
                                detail: dict[str, Any], resources: list[str]) -> str:
        """An event an AWS service emits (`aws.states`, ...) onto the default bus. PutEvents refuses
        `aws.*` sources from clients, as AWS does, so services come in here. Returns the event id."""
        now = self.now()
        entry = {"Source": source, "DetailType": detail_type, "Detail": "{}", "Resources": resources}
        event = ingest.envelope(entry, account, region, now)
        event["resources"] = list(resources)
        event["detail"] = detail
        await self._accept([Accepted((account, region, "default"), event, None)], now)
        return str(event["id"])

    async def scheduled_rule_firings(self, account: str, region: str) -> dict[str, float]:
        """For the console: when each scheduled rule fires next (epoch seconds), by rule name."""
        return await self.platform.db.read(lambda conn: rules.next_firings(conn, account, region))

    async def _accept(self, items: list[Accepted], now: float, archive: bool = True) -> None:
        for item in items:
            ingest.route(self.index, item, archive)
        if not any(i.rule_keys or i.archive_arns or i.only_rule_name for i in items):
            return
        queued = await self._write(lambda conn: ingest.commit(conn, items, now))
        events_metrics.matched(self.platform.metrics, items)
        if queued:
            self.platform.timers.wake()

    async def _cross_bus(self, account: str, region: str, bus: str, event: dict[str, Any], trace: str | None) -> None:
        """An event-bus target: the event enters the other bus (same or another account) as it is; in
        another region it gets a new id (recorded against AWS; the region field stays the source's)."""
        exists = await self.platform.db.read(lambda conn: buses.exists(conn, account, region, bus))
        if not exists:
            raise Failure("RESOURCE_NOT_FOUND", f"Event bus {bus} does not exist.", False)
        forwarded = dict(event)
        if region != event.get("region"):
            forwarded["id"] = new_uuid()
        await self._accept([Accepted((account, region, bus), forwarded, trace)], self.now())

    async def _fire_schedule(self, timer: Timer) -> None:
        """A scheduled rule's tick: deliver a Scheduled Event to its targets and book the next tick.
        Ticks missed while the server was down are not caught up (the next one is in the future)."""
        p = timer.payload
        now = self.now()
        event = {"version": "0", "id": new_uuid(), "detail-type": "Scheduled Event", "source": "aws.events",
                 "account": p["account"], "time": iso_time(timer.due_at), "region": p["region"], "resources": [],
                 "detail": {}}

        def run(conn: Any) -> int:
            rule = store.get(conn, rules.KIND, p["account"], p["region"], f"{DEFAULT_BUS}|{p['rule']}")
            if rule is None or rule.get("_token") != p["token"] or not rule.get("ScheduleExpression"):
                return 0  # deleted or rescheduled: this chain ends
            expression = schedule_expressions.parse(rule["ScheduleExpression"])
            due = schedule_expressions.next_firing(expression, max(now, timer.due_at), p["anchor"])
            if due is not None:
                timers.schedule(conn, rules.SCHEDULE_TIMER, p, due, now)
            event["resources"] = [rule["Arn"]]
            item = Accepted((p["account"], p["region"], DEFAULT_BUS), event, None, only_rule_name=p["rule"])
            return ingest.commit(conn, [item], now)

        await self._write(run)
        self.platform.timers.wake()

    async def _replay_step(self, timer: Timer) -> None:
        p = timer.payload
        account, region, name = p["account"], p["region"], p["name"]
        doc = await self.platform.db.read(lambda conn: archives.get_replay(conn, account, region, name))
        if doc["State"] in archives.FINISHED:
            return
        batch = await self.platform.db.read(lambda conn: archives.next_batch(conn, doc))
        filters = set(doc["Destination"].get("FilterArns") or []) or None
        items = []
        for _, event in batch:
            item = Accepted((account, region, doc["_bus"]), {**event, "replay-name": name}, None, only_rules=filters)
            ingest.route(self.index, item, archive=False)
            items.append(item)
        now = self.now()

        def run(conn: Any) -> None:
            current = archives.get_replay(conn, account, region, name)
            if current["State"] == "CANCELLING":
                current.update(State="CANCELLED", ReplayEndTime=now)
            else:
                ingest.commit(conn, items, now)
                if batch:
                    current.update(State="RUNNING", _cursor=batch[-1][0], EventLastReplayedTime=now)
                if len(batch) < archives.REPLAY_BATCH:
                    current.update(State="COMPLETED", ReplayEndTime=now)
                else:
                        timers.schedule(conn, archives.REPLAY_TIMER, p, now, now)
            store.put(conn, archives.REPLAY, account, region, name, current)

        await self._write(run)
        self.platform.timers.wake()
