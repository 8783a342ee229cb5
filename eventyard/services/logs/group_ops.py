"""Log group operations beyond the basics (a mixin of LogsProvider): ListLogGroups, tags in both of
AWS's API generations (TagResource/UntagResource/ListTagsForResource by ARN, and the older
TagLogGroup/UntagLogGroup/ListTagsLogGroup by name), and the retention sweep that deletes events
older than their group's retention, by the server's clock."""

from __future__ import annotations

import json
import re
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services import paging
from eventyard.services.base import Provider, RequestContext
from eventyard.services.logs import listings, store
from eventyard.services.logs.insights import runner
from eventyard.storage import Connection

RETENTION_SWEEP = 10.0  # seconds between sweeps; the events' age is judged by the server's clock
MAX_TAGS = 50
DAY_MS = 86_400_000


class GroupOperations(Provider):
    def supervise_retention(self) -> None:
        self.platform.supervisor.every("logs:retention", RETENTION_SWEEP,
                                       self.platform.leases.once("logs:retention", self.expire_events))

    async def expire_events(self) -> int:
        """Delete every event older than its group's retention (and Insights queries older than a week);
        answers how many events went."""
        now = self.platform.clock.now()

        def run(conn: Connection) -> int:
            runner.expire(conn, now)
            return expire(conn, int(now * 1000))
        return int(await self.platform.db.write(run))

    async def list_log_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pattern = params.get("logGroupNamePattern")
        matches = _name_matcher(pattern)
        if params.get("logGroupClass") not in (None, "STANDARD"):  # every group here is of the STANDARD class
            return {"logGroups": []}
        found = await self.platform.db.read(lambda conn: listings.groups(
            conn, ctx.account_id, ctx.region, "", lambda row: bool(matches(row["name"])), params.get("nextToken"),
            params.get("limit") or 50, f"logs:list-groups:{ctx.account_id}:{ctx.region}:{pattern or ''}"))
        return paging.answer(found, "logGroups", lambda row: {
            "logGroupName": row["name"], "logGroupArn": store.group_arn(ctx.region, ctx.account_id, row["name"]),
            "logGroupClass": "STANDARD"}, token_key="nextToken")

    async def put_log_group_deletion_protection(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        name = listings.group_name({"logGroupIdentifier": params["logGroupIdentifier"]})

        def run(conn: Connection) -> None:
            group = store.get_group(conn, ctx.account_id, ctx.region, name)
            conn.execute("UPDATE logs_groups SET deletion_protection = ? WHERE id = ?",
                         (int(params["deletionProtectionEnabled"]), group["id"]))
        await self.platform.db.write(run)

    # -- tags by ARN -------------------------------------------------------------------------
    async def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        name = _group_name(params["resourceArn"], ctx)
        await self._change_tags(ctx, name, params["tags"], [])

    async def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        name = _group_name(params["resourceArn"], ctx)
        await self._change_tags(ctx, name, {}, params["tagKeys"])

    async def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = _group_name(params["resourceArn"], ctx)
        return {"tags": await self._tags(ctx, name)}

    # -- tags by name (the older operations) -------------------------------------------------
    async def tag_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._change_tags(ctx, params["logGroupName"], params["tags"], [])

    async def untag_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._change_tags(ctx, params["logGroupName"], {}, params["tags"])

    async def list_tags_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"tags": await self._tags(ctx, params["logGroupName"])}

    async def _tags(self, ctx: RequestContext, name: str) -> dict[str, str]:
        row = await self.platform.db.read(lambda conn: store.get_group(conn, ctx.account_id, ctx.region, name))
        return dict(json.loads(row["tags"] or "{}"))

    async def _change_tags(self, ctx: RequestContext, name: str, added: dict[str, str], removed: list[str]) -> None:
        def run(conn: Connection) -> None:
            group = store.get_group(conn, ctx.account_id, ctx.region, name)
            tags = dict(json.loads(group["tags"] or "{}"))
            tags.update(added)
            for key in removed:
                tags.pop(key, None)
            if len(tags) > MAX_TAGS:
                raise AwsError("TooManyTagsException", f"A resource can have no more than {MAX_TAGS} tags.")
            conn.execute("UPDATE logs_groups SET tags=? WHERE id=?", (json.dumps(tags), group["id"]))
        await self.platform.db.write(run)


def expire(conn: Connection, now_ms: int) -> int:
    deleted = 0
    for group in conn.execute("SELECT id, retention_days FROM logs_groups WHERE retention_days IS NOT NULL").fetchall():
        cutoff = now_ms - int(group["retention_days"]) * DAY_MS
        deleted += conn.execute("DELETE FROM logs_events WHERE stream_id IN (SELECT id FROM logs_streams WHERE"
                                " group_id = ?) AND timestamp < ?", (group["id"], cutoff)).rowcount
    return deleted


def _group_name(arn: str, ctx: RequestContext) -> str:
    """The log group an ARN names (with or without the trailing `:*`); other resources are not tagged here."""
    parts = arn.split(":", 6)
    if len(parts) < 7 or parts[0] != "arn" or not parts[1].startswith("aws") or parts[2] != "logs" \
            or parts[5] != "log-group":
        raise AwsError("InvalidParameterException", f"Invalid resource ARN: {arn}")
    if parts[3] != ctx.region or parts[4] != ctx.account_id:
        raise AwsError("ResourceNotFoundException", "The specified log group does not exist.")
    return parts[6].removesuffix(":*")


def _name_matcher(pattern: str | None) -> Any:
    """logGroupNamePattern: alternatives separated by `|`, `^` for a prefix, otherwise a substring
    (case-sensitive, as AWS documents)."""
    if not pattern:
        return lambda name: True
    alternatives = [re.escape(p[1:]) if p.startswith("^") else ".*" + re.escape(p) for p in pattern.split("|")]
    regex = re.compile("|".join(f"(?:{a})" for a in alternatives))
    return lambda name: regex.match(name) is not None
