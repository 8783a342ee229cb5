"""CloudWatch Logs operations over `store`: enough for `aws logs tail` and function log reading."""

from __future__ import annotations

from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services import paging
from eventyard.services.base import Provider, RequestContext
from eventyard.services.cross_account import refuse_other_accounts
from eventyard.services.logs import listings, store
from eventyard.services.logs import metrics as log_metrics
from eventyard.services.logs.admission import Admission, admit
from eventyard.services.logs.delivery_ops import DeliveryOperations
from eventyard.services.logs.filter_ops import FilterOperations
from eventyard.services.logs.filter_patterns import compile_filter_pattern
from eventyard.services.logs.group_ops import GroupOperations
from eventyard.services.logs.insights.ops import InsightsOperations
from eventyard.services.logs.policy_ops import PolicyOperations
from eventyard.storage import Connection, Row

MAX_EVENTS = 10_000


def _token(prefix: str, value: int) -> str:
    return f"{prefix}/{value:056d}"


# A FilterLogEvents token holds the last event's place in (timestamp, id) order: events are interleaved
# across streams by timestamp, so an id alone would skip later-timestamped events with smaller ids.
_POSITION = 10**30


def _parse_token(token: str | None) -> tuple[str, int] | None:
    if not token:
        return None
    prefix, _, value = token.partition("/")
    if prefix not in {"f", "b", "n"} or not value.isdigit():
        raise AwsError("InvalidParameterException", "The specified nextToken is invalid.")
    return prefix, int(value)


RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653)

class LogsProvider(FilterOperations, GroupOperations, InsightsOperations, PolicyOperations, DeliveryOperations,
                   Provider):
    unsupported_error_code = "InvalidOperationException"

    def now(self) -> float:
        return self.platform.clock.now()

    async def authorize(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> None:
        """Log groups have no resource policy: another account's are never reachable by ARN."""
        refuse_other_accounts(ctx, f"logs:{operation}", params, ("logGroupIdentifier", "resourceArn", "logGroupArn"),
                              lambda message: AwsError("AccessDeniedException", message))

    async def start(self) -> None:
        self.register_filter_work()
        self.register_insights_work()
        self.supervise_retention()

    async def create_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        now = self.now()
        await self.platform.db.write(lambda c: store.create_group(
            c, ctx.account_id, ctx.region, params["logGroupName"], now, params.get("tags"),
            deletion_protection=bool(params.get("deletionProtectionEnabled"))))

    async def delete_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self.platform.db.write(lambda c: store.delete_group(c, ctx.account_id, ctx.region,
                                                                  params["logGroupName"]))

    async def put_retention_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        days = params["retentionInDays"]
        if days not in RETENTION_DAYS:
            # The model documents the allowed values; CloudWatch Logs refuses others in Coral's words.
            raise AwsError("InvalidParameterException", f"1 validation error detected: Value '{days}' at "
                           "'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: "
                           f"[{', '.join(map(str, RETENTION_DAYS))}]")

        def run(c: Connection) -> None:
            group = store.get_group(c, ctx.account_id, ctx.region, params["logGroupName"])
            c.execute("UPDATE logs_groups SET retention_days=? WHERE id=?", (params["retentionInDays"], group["id"]))
        await self.platform.db.write(run)

    async def delete_retention_policy(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        def run(c: Connection) -> None:
            group = store.get_group(c, ctx.account_id, ctx.region, params["logGroupName"])
            c.execute("UPDATE logs_groups SET retention_days=NULL WHERE id=?", (group["id"],))
        await self.platform.db.write(run)

    async def describe_log_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix = params.get("logGroupNamePrefix") or ""
        pattern = params.get("logGroupNamePattern")
        if prefix and pattern:
            raise AwsError("InvalidParameterException",
                           "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
        listing = f"logs:groups:{ctx.account_id}:{ctx.region}:{prefix}:{pattern or ''}"
        found = await self.platform.db.read(lambda c: listings.groups(
            c, ctx.account_id, ctx.region, prefix, (lambda row: pattern in row["name"]) if pattern else None,
            params.get("nextToken"), params.get("limit", 50), listing))
        if not pattern:
            return paging.answer(found, "logGroups", lambda row: store.describe_group(row, ctx.region, ctx.account_id),
                                 token_key="nextToken")
        # A pattern search (recorded against AWS) leaves out storedBytes and deletionProtectionEnabled, and
        # hands out a token after every page that found groups: the next page says whether more follow.
        out = paging.answer(found, "logGroups", lambda row: store.describe_group(
            row, ctx.region, ctx.account_id, searched=True), token_key="nextToken")
        if found.items and "nextToken" not in out:
            out["nextToken"] = paging.seal(listing, (found.items[-1]["name"],))
        return out

    async def create_log_stream(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        now = self.now()

        def run(c: Connection) -> None:
            group = store.get_group(c, ctx.account_id, ctx.region, params["logGroupName"])
            store.create_stream(c, group["id"], params["logStreamName"], now)
        await self.platform.db.write(run)

    async def delete_log_stream(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        def run(c: Connection) -> None:
            group = store.get_group(c, ctx.account_id, ctx.region, params["logGroupName"])
            stream = store.get_stream(c, group["id"], params["logStreamName"])
            c.execute("DELETE FROM logs_events WHERE stream_id=?", (stream["id"],))
            c.execute("DELETE FROM logs_streams WHERE id=?", (stream["id"],))
        await self.platform.db.write(run)

    async def describe_log_streams(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        order = params.get("orderBy", "LogStreamName")
        prefix = params.get("logStreamNamePrefix") or ""
        if prefix and order == "LastEventTime":
            raise AwsError("InvalidParameterException",
                           "Cannot order by LastEventTime with a logStreamNamePrefix.")
        name = listings.group_name(params)

        def run(c: Connection) -> tuple[Row, paging.Page[Row]]:
            group = store.get_group(c, ctx.account_id, ctx.region, name)
            return group, listings.streams(c, int(group["id"]), prefix, order == "LastEventTime",
                                           bool(params.get("descending")), params.get("nextToken"),
                                           params.get("limit", 50))

        group, found = await self.platform.db.read(run)
        arn = store.group_arn(ctx.region, ctx.account_id, group["name"])
        return paging.answer(found, "logStreams", lambda row: store.describe_stream(row, arn), token_key="nextToken")

    async def put_log_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        events = params["logEvents"]
        stamps = [e["timestamp"] for e in events]
        if stamps != sorted(stamps):
            raise AwsError("InvalidParameterException",
                           "Log events in a single PutLogEvents request must be in chronological order.")

        def run(c: Connection) -> tuple[Admission, int]:
            group = store.get_group(c, ctx.account_id, ctx.region, params["logGroupName"])
            stream = store.get_stream(c, group["id"], params["logStreamName"])
            admission = admit(stamps, int(now * 1000), group["retention_days"])
            store.put_events(c, stream["id"], [(e["timestamp"], e["message"])
                                               for e in events[admission.start:admission.end]], now)
            return admission, int(stream["id"])
        admission, stream_id = await self.platform.db.write(run)
        self.platform.timers.wake()  # subscription deliveries written with the events
        log_metrics.ingested(self.platform.metrics, ctx.account_id, ctx.region, params["logGroupName"],
                             [(e["timestamp"], e["message"]) for e in events[admission.start:admission.end]],
                             ctx.headers.get(log_metrics.EMF_HEADER) == "json/emf")
        # The sequence token no longer orders anything (AWS ignores it since 2023) but is still answered.
        result: dict[str, Any] = {"nextSequenceToken": f"49{stream_id:024d}{int(now * 1e6):030d}"}
        if admission.rejected:
            result["rejectedLogEventsInfo"] = admission.rejected
        return result

    async def get_log_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = min(params.get("limit", MAX_EVENTS), MAX_EVENTS)
        token = _parse_token(params.get("nextToken"))
        start = params.get("startTime")
        end = params.get("endTime")
        forward = params.get("startFromHead", False) if token is None else token[0] == "f"

        def run(c: Connection) -> list[Row]:
            name = params.get("logGroupName") or (params.get("logGroupIdentifier") or "").rsplit(
                ":log-group:", 1)[-1].removesuffix(":*")
            group = store.get_group(c, ctx.account_id, ctx.region, name)
            stream = store.get_stream(c, group["id"], params["logStreamName"])
            sql = "SELECT * FROM logs_events WHERE stream_id=?"
            args: list[Any] = [stream["id"]]
            if start is not None:
                sql += " AND timestamp >= ?"
                args.append(int(start))
            if end is not None:
                sql += " AND timestamp < ?"
                args.append(int(end))
            if token is not None:
                sql += " AND id > ?" if forward else " AND id < ?"
                args.append(token[1])
            sql += " ORDER BY id " + ("ASC" if forward else "DESC") + " LIMIT ?"
            args.append(limit)
            rows = c.execute(sql, args).fetchall()
            return rows if forward else list(reversed(rows))

        rows = await self.platform.db.read(run)
        events = [{"timestamp": r["timestamp"], "message": r["message"], "ingestionTime": r["ingestion_time"]}
                  for r in rows]
        if rows:
            first, last = rows[0]["id"], rows[-1]["id"]
        else:  # AWS hands back the same token when there is nothing new
            first = last = token[1] if token else 0
        return {"events": events, "nextForwardToken": _token("f", last), "nextBackwardToken": _token("b", first)}

    async def filter_log_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = min(params.get("limit", MAX_EVENTS), MAX_EVENTS)
        token = _parse_token(params.get("nextToken"))
        names = params.get("logStreamNames")
        prefix = params.get("logStreamNamePrefix")
        if names and prefix:
            raise AwsError("InvalidParameterException",
                           "logStreamNames and logStreamNamePrefix are mutually exclusive")
        pattern = compile_filter_pattern(params.get("filterPattern", ""))  # every syntax metric filters take

        def run(c: Connection) -> tuple[list[Row], list[Row]]:
            name = params.get("logGroupName") or (params.get("logGroupIdentifier") or "").rsplit(
                ":log-group:", 1)[-1].removesuffix(":*")
            group = store.get_group(c, ctx.account_id, ctx.region, name)
            streams = c.execute("SELECT * FROM logs_streams WHERE group_id=?", (group["id"],)).fetchall()
            streams = [s for s in streams if (not names or s["name"] in names)
                       and (not prefix or s["name"].startswith(prefix))]
            if not streams:
                return streams, []
            marks = ",".join("?" * len(streams))
            sql = f"SELECT * FROM logs_events WHERE stream_id IN ({marks})"
            args: list[Any] = [s["id"] for s in streams]
            if params.get("startTime") is not None:
                sql += " AND timestamp >= ?"
                args.append(int(params["startTime"]))
            if params.get("endTime") is not None:
                sql += " AND timestamp <= ?"
                args.append(int(params["endTime"]))
            if token is not None:  # resume after the last event returned, in (timestamp, id) order
                after_time, after_id = divmod(token[1], _POSITION)
                sql += " AND (timestamp > ? OR (timestamp = ? AND id > ?))"
                args += [after_time, after_time, after_id]
            sql += " ORDER BY timestamp, id"
            return streams, c.execute(sql, args).fetchall()

        streams, rows = await self.platform.db.read(run)
        by_id = {s["id"]: s["name"] for s in streams}
        matched = [r for r in rows if pattern.matches(r["message"])]
        page = matched[:limit]
        out: dict[str, Any] = {
            "events": [{"logStreamName": by_id[r["stream_id"]], "timestamp": r["timestamp"], "message": r["message"],
                        "ingestionTime": r["ingestion_time"], "eventId": f"{r['id']:056d}"} for r in page],
            "searchedLogStreams": [{"logStreamName": s["name"], "searchedCompletely": True} for s in streams],
        }
        if len(matched) > limit:
            out["nextToken"] = _token("n", page[-1]["timestamp"] * _POSITION + page[-1]["id"])
        return out
