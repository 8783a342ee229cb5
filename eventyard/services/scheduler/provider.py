"""EventBridge Scheduler operations and the firing of schedules from durable timers.

A firing becomes one delivery timer, delivered by EventBridge's target delivery (the TARGET_DELIVERY
port, with Scheduler's DLQ attributes), so retries and the DLQ behave as for EventBridge rules. A timer that fires late (the
server was down) delivers once and books the next future firing: missed intermediate firings are
not replayed. `at()` schedules with ActionAfterCompletion=DELETE are deleted after their firing.
"""

from __future__ import annotations

import random
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime import partitions, timers, tracing
from eventyard.runtime.ports import TARGET_DELIVERY, DeliveryFailure
from eventyard.runtime.timers import RetryPolicy, Timer
from eventyard.services import paging
from eventyard.services.base import Provider, RequestContext
from eventyard.services.cross_account import refuse_other_accounts
from eventyard.services.scheduler import schedules as sch
from eventyard.services.scheduler import store

DELIVERY_TIMER = "scheduler.delivery"


def _jitter(doc: dict[str, Any]) -> float:
    """FLEXIBLE windows: AWS invokes at some point within MaximumWindowInMinutes of the time."""
    window = doc.get("FlexibleTimeWindow") or {}
    if window.get("Mode") == "FLEXIBLE":
        return random.uniform(0, float(window.get("MaximumWindowInMinutes", 0)) * 60)
    return 0.0


class SchedulerProvider(Provider):
    unsupported_error_code = "ValidationException"

    def now(self) -> float:
        return float(self.platform.clock.now())

    async def authorize(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> None:
        """Schedule groups have no resource policy: another account's are never reachable by ARN."""
        refuse_other_accounts(ctx, f"scheduler:{operation}", params, ("ResourceArn",),
                              lambda message: AwsError("AccessDeniedException", message, 403))

    async def start(self) -> None:
        self.platform.ports.get(TARGET_DELIVERY).register(DELIVERY_TIMER, self._to_bus)
        self.platform.timers.register(sch.FIRE_TIMER, self._fire, RetryPolicy(max_attempts=10))

    async def _to_bus(self, account: str, region: str, bus: str, entry: dict[str, Any], trace: str | None) -> None:
        """An event-bus target: PutEvents with the target's EventBridgeParameters and Input as Detail."""
        answer = await self.platform.call("events", "PutEvents", {"Entries": [{
            **entry, "EventBusName": partitions.arn("events", region, account, f"event-bus/{bus}")}]},
            region=region, account_id=account, headers={"x-amzn-trace-id": trace} if trace else None)
        for result in answer.get("Entries", []):
            if "ErrorCode" in result:
                raise DeliveryFailure("SDK_CLIENT_ERROR", f"{result['ErrorCode']}: {result.get('ErrorMessage', '')}", False)

    async def _fire(self, timer: Timer) -> None:
        p = timer.payload
        now = self.now()
        account, region, key = p["account"], p["region"], p["key"]

        def run(conn: Any) -> None:
            doc = store.get(conn, sch.SCHEDULE, account, region, key)
            if doc is None or doc.get("_token") != p["token"]:
                return  # deleted or updated: this chain ends
            due = sch.first_due(doc, max(now, timer.due_at))
            if due is not None:
                timers.schedule(conn, sch.FIRE_TIMER, p, due + _jitter(doc), now)
            if doc["State"] == "ENABLED":
                target = dict(doc["Target"])
                params = target.get("EventBridgeParameters") or {}
                event = {"Source": params.get("Source"), "DetailType": params.get("DetailType"),
                         "Detail": target.get("Input") or "{}"} if ":event-bus/" in target["Arn"] else {}
                if "Input" not in target and ":event-bus/" not in target["Arn"]:
                    target["Input"] = "{}"
                # Each firing starts a trace, as a request from outside would: the target continues it.
                started = tracing.TraceHeader(tracing.new_root(now), None, "0")
                segment = tracing.new_segment()
                timers.schedule(conn, DELIVERY_TIMER, {
                    "schedule_arn": doc["Arn"], "target": target, "event": event, "ingested": now,
                    "trace": str(started.child(segment)), "attempt": 1}, now, now)
                tracing.record(conn, tracing.Hop(started, segment, now, "scheduler", "InvokeTarget", doc["Arn"],
                                                 account, region, detail={"target": target["Arn"]}))
            if due is None and doc.get("ActionAfterCompletion") == "DELETE":
                store.delete(conn, sch.SCHEDULE, account, region, key)

        await self.platform.db.write(run)
        self.platform.timers.wake()

    # -- groups ----------------------------------------------------------------------------
    async def create_schedule_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        group = await self.platform.db.write(lambda conn: sch.create_group(conn, ctx.account_id, ctx.region, params, now))
        return {"ScheduleGroupArn": group["Arn"]}

    async def get_schedule_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        result: dict[str, Any] = await self.platform.db.write(
            lambda conn: sch.get_group(conn, ctx.account_id, ctx.region, params["Name"], now))
        return result

    async def delete_schedule_group(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        now = self.now()
        await self.platform.db.write(lambda conn: sch.delete_group(conn, ctx.account_id, ctx.region, params["Name"], now))

    async def list_schedule_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()

        def run(conn: Any) -> paging.Page[dict[str, Any]]:
            sch.ensure_default_group(conn, ctx.account_id, ctx.region, now)
            return store.listing(conn, sch.GROUP, ctx.account_id, ctx.region, params.get("NextToken"),
                                 params.get("MaxResults"), params.get("NamePrefix", ""))

        return paging.answer(await self.platform.db.write(run), "ScheduleGroups")

    # -- schedules -------------------------------------------------------------------------
    async def _put(self, ctx: RequestContext, params: dict[str, Any], create: bool) -> dict[str, Any]:
        now = self.now()
        doc = await self.platform.db.write(
            lambda conn: sch.put_schedule(conn, ctx.account_id, ctx.region, params, now, create))
        self.platform.timers.wake()
        return {"ScheduleArn": doc["Arn"]}

    async def create_schedule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._put(ctx, params, create=True)

    async def update_schedule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._put(ctx, params, create=False)

    async def get_schedule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = params.get("GroupName") or sch.DEFAULT_GROUP
        doc = await self.platform.db.read(lambda conn: sch.get_schedule(conn, ctx.account_id, ctx.region, group,
                                                                        params["Name"]))
        return sch.describe(doc)

    async def delete_schedule(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        group = params.get("GroupName") or sch.DEFAULT_GROUP

        def run(conn: Any) -> None:
            sch.get_schedule(conn, ctx.account_id, ctx.region, group, params["Name"])
            store.delete(conn, sch.SCHEDULE, ctx.account_id, ctx.region, f"{group}/{params['Name']}")

        await self.platform.db.write(run)

    async def list_schedules(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group, state, prefix = params.get("GroupName"), params.get("State"), params.get("NamePrefix", "")
        # Schedules are stored as "<group>/<name>": a group narrows the keyset read itself.
        found = await self.platform.db.read(lambda conn: store.listing(
            conn, sch.SCHEDULE, ctx.account_id, ctx.region, params.get("NextToken"), params.get("MaxResults"),
            f"{group}/" if group else "", keep=lambda doc: (not state or doc["State"] == state)
            and doc["Name"].startswith(prefix)))
        return paging.answer(found, "Schedules", lambda doc: {
            "Arn": doc["Arn"], "Name": doc["Name"], "GroupName": doc["GroupName"], "State": doc["State"],
            "CreationDate": doc["CreationDate"], "LastModificationDate": doc["LastModificationDate"],
            "Target": {"Arn": doc["Target"]["Arn"]}})

    # -- tags ------------------------------------------------------------------------------
    async def _check(self, ctx: RequestContext, arn: str) -> None:
        name = arn.split(":schedule-group/", 1)[-1]
        now = self.now()
        await self.platform.db.write(lambda conn: sch.get_group(conn, ctx.account_id, ctx.region, name, now))

    async def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._check(ctx, params["ResourceArn"])
        await self.platform.db.write(lambda conn: store.set_tags(conn, params["ResourceArn"], params["Tags"]))

    async def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._check(ctx, params["ResourceArn"])
        await self.platform.db.write(lambda conn: store.remove_tags(conn, params["ResourceArn"], params["TagKeys"]))

    async def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        await self._check(ctx, params["ResourceArn"])
        return {"Tags": await self.platform.db.read(lambda conn: store.get_tags(conn, params["ResourceArn"]))}


