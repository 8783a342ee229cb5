"""CloudWatch operations: metrics, alarms, dashboards and tags, each one storage call."""

from __future__ import annotations

import json
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime import metric_store
from eventyard.runtime.timers import Timer
from eventyard.services.base import Provider, RequestContext
from eventyard.services.cloudwatch import alarm_config, alarm_queries, alarms, dashboards, errors, history, transitions
from eventyard.services.cloudwatch.actions import AlarmActions
from eventyard.services.cloudwatch.evaluator import AlarmEvaluator, first_evaluation
from eventyard.services.cloudwatch.metric_api import get_metric_statistics, list_metrics, put_metric_data_points
from eventyard.services.cloudwatch.metric_data import get_metric_data
from eventyard.services.cross_account import refuse_other_accounts
from eventyard.storage import Connection

MAX_TAGS = 50
RETENTION_SWEEP = 3600.0
METRIC_RETENTION = 455 * 86_400  # AWS keeps hourly data 15 months


class CloudWatchProvider(Provider):
    # CloudWatch answers an action it does not know with the query protocol's code, in every protocol.
    unsupported_error_code = "InvalidAction"

    def __init__(self, platform: Any) -> None:
        super().__init__(platform)
        self.evaluator = AlarmEvaluator(platform)
        self.actions = AlarmActions(platform)

    def now(self) -> float:
        return float(self.platform.clock.now())

    async def authorize(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> None:
        """Alarms and rules have no resource policy: another account's are never reachable by ARN."""
        refuse_other_accounts(ctx, f"cloudwatch:{operation}", params, ("ResourceARN",),
                              lambda message: AwsError("AccessDenied", message, 403))

    async def start(self) -> None:
        self.actions.register()
        self.evaluator.supervise()
        self.platform.supervisor.every("cloudwatch:retention", RETENTION_SWEEP,
                                        self.platform.leases.once("cloudwatch:retention", self._expire))

    async def _expire(self) -> None:
        now = self.now()

        def run(conn: Connection) -> None:
            history.expire(conn, now)
            metric_store.expire(conn, now, METRIC_RETENTION)
        await self.platform.db.write(run)

    async def _write_with_effects(self, fn: Any) -> Any:
        """Run a write that may change alarm states; fire the actions it scheduled after the commit."""
        result, timers = await self.platform.db.write(fn)
        for timer in timers:
            self.platform.timers.fire(timer)
        return result

    # -- metrics ---------------------------------------------------------------------------
    async def put_metric_data(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        now = self.now()
        points = put_metric_data_points(ctx.account_id, ctx.region, params, now)
        await self.platform.db.write(lambda conn: metric_store.write_points(conn, points, now))

    async def get_metric_statistics(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        return await self.platform.db.read(lambda conn: get_metric_statistics(conn, ctx.account_id, ctx.region,
                                                                              params, now))

    async def get_metric_data(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        return await self.platform.db.read(lambda conn: get_metric_data(conn, ctx.account_id, ctx.region, params,
                                                                        now))

    async def list_metrics(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        return await self.platform.db.read(lambda conn: list_metrics(conn, ctx.account_id, ctx.region, params, now))

    # -- alarms ----------------------------------------------------------------------------
    async def put_metric_alarm(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        config = alarm_config.metric_alarm_config(params)
        now = self.now()
        tags = _tags(params.get("Tags"))

        def run(conn: Connection) -> None:
            alarms.put(conn, ctx.account_id, ctx.region, params["AlarmName"], alarms.METRIC_ALARM, config,
                       params.get("ActionsEnabled", True), tags, now, first_evaluation(config, now))
        await self.platform.db.write(run)

    async def put_composite_alarm(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        config, children = alarm_config.composite_config(params)
        now = self.now()
        tags = _tags(params.get("Tags"))

        def run(conn: Connection) -> tuple[None, list[Timer]]:
            alarm_queries.check_composite_rule(conn, ctx.account_id, ctx.region, params["AlarmName"], children)
            alarm, _ = alarms.put(conn, ctx.account_id, ctx.region, params["AlarmName"], alarms.COMPOSITE_ALARM,
                                  config, params.get("ActionsEnabled", True), tags, now, None)
            changed = transitions.evaluate_composite(conn, alarm, now)
            return None, transitions.schedule_effects(conn, changed, now)
        await self._write_with_effects(run)

    async def describe_alarms(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self.platform.db.read(lambda conn: alarm_queries.describe_alarms(conn, ctx.account_id,
                                                                                      ctx.region, params))

    async def describe_alarms_for_metric(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self.platform.db.read(lambda conn: alarm_queries.alarms_for_metric(conn, ctx.account_id,
                                                                                        ctx.region, params))

    async def describe_alarm_history(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        return await self.platform.db.read(lambda conn: history.describe(conn, ctx.account_id, ctx.region, params,
                                                                         now))

    async def delete_alarms(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        names = params["AlarmNames"]
        if len(names) > 100:
            raise errors.validation("The collection AlarmNames must not have a size greater than 100.")
        await self.platform.db.write(lambda conn: alarms.delete(conn, ctx.account_id, ctx.region, names))

    async def set_alarm_state(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        reason_data = params.get("StateReasonData")
        if reason_data is not None:
            try:
                json.loads(reason_data)
            except ValueError:
                raise errors.invalid_format("Data was not syntactically valid JSON") from None
        now = self.now()

        def run(conn: Connection) -> tuple[None, list[Timer]]:
            alarm = alarms.get(conn, ctx.account_id, ctx.region, params["AlarmName"])
            changed = transitions.change_state(conn, alarm, params["StateValue"], params["StateReason"], reason_data,
                                               now)
            return None, transitions.schedule_effects(conn, changed, now)
        await self._write_with_effects(run)

    async def enable_alarm_actions(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.platform.db.write(lambda conn: alarms.set_actions_enabled(
            conn, ctx.account_id, ctx.region, params["AlarmNames"], True))

    async def disable_alarm_actions(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.platform.db.write(lambda conn: alarms.set_actions_enabled(
            conn, ctx.account_id, ctx.region, params["AlarmNames"], False))

    # -- dashboards ------------------------------------------------------------------------
    async def put_dashboard(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        tags = _tags(params.get("Tags"))
        await self.platform.db.write(lambda conn: dashboards.put(conn, ctx.account_id, params["DashboardName"],
                                                                 params["DashboardBody"], tags, now))
        return {"DashboardValidationMessages": []}

    async def get_dashboard(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = await self.platform.db.read(lambda conn: dashboards.get(conn, ctx.account_id, params["DashboardName"]))
        return dashboards.describe(row)

    async def list_dashboards(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self.platform.db.read(lambda conn: dashboards.listing(
            conn, ctx.account_id, params.get("DashboardNamePrefix", ""), params.get("NextToken")))

    async def delete_dashboards(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.platform.db.write(lambda conn: dashboards.delete(conn, ctx.account_id, params["DashboardNames"]))

    # -- tags ------------------------------------------------------------------------------
    async def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        added = _tags(params["Tags"])
        await self.platform.db.write(lambda conn: self._retag(conn, ctx, params["ResourceARN"],
                                                              lambda tags: {**tags, **added}))

    async def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        keys = set(params["TagKeys"])
        await self.platform.db.write(lambda conn: self._retag(conn, ctx, params["ResourceARN"],
                                                              lambda tags: {k: v for k, v in tags.items()
                                                                            if k not in keys}))

    async def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tags = await self.platform.db.read(lambda conn: self._tags_of(conn, ctx, params["ResourceARN"]))
        return {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}

    def _tags_of(self, conn: Connection, ctx: RequestContext, arn: str) -> dict[str, str]:
        kind, owner, name = _resource(arn, ctx)
        if owner != ctx.account_id:
            raise errors.resource_not_found(arn)
        if kind == "alarm":
            alarm = alarms.find(conn, ctx.account_id, ctx.region, name)
            if alarm is None:
                raise errors.resource_not_found(arn)
            return alarm.tags
        try:
            return dashboards.tags(dashboards.get(conn, ctx.account_id, name))
        except AwsError:
            raise errors.resource_not_found(arn) from None

    def _retag(self, conn: Connection, ctx: RequestContext, arn: str, change: Any) -> None:
        tags = change(self._tags_of(conn, ctx, arn))
        if len(tags) > MAX_TAGS:
            raise errors.too_many_tags(MAX_TAGS)
        kind, _, name = _resource(arn, ctx)
        if kind == "alarm":
            alarm = alarms.get(conn, ctx.account_id, ctx.region, name)
            alarms.set_tags(conn, alarm, tags)
        else:
            dashboards.set_tags(conn, ctx.account_id, name, tags)


def _tags(given: list[dict[str, str]] | None) -> dict[str, str]:
    tags = {t["Key"]: t["Value"] for t in given or []}
    if len(tags) > MAX_TAGS:
        raise errors.too_many_tags(MAX_TAGS)
    return tags


def _resource(arn: str, ctx: RequestContext) -> tuple[str, str, str]:
    """(alarm | dashboard, account, name) of a CloudWatch resource ARN of this region."""
    parts = arn.split(":", 6)
    if len(parts) >= 7 and parts[2] == "cloudwatch" and parts[5] == "alarm" and parts[3] == ctx.region:
        return "alarm", parts[4], parts[6]
    if len(parts) == 6 and parts[2] == "cloudwatch" and parts[5].startswith("dashboard/"):
        return "dashboard", parts[4], parts[5].split("/", 1)[1]
    raise errors.invalid_parameter(arn, "ResourceARN")
