"""The EventBridge operations around routing: tags, archives, replays, connections and API
destinations. A mixin of EventsProvider, kept apart so each file stays small."""

from __future__ import annotations

from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services import paging
from eventyard.services.base import RequestContext
from eventyard.services.events import archives, connections, store
from eventyard.services.events.arns import DEFAULT_BUS, parse_arn, rule_key


def _archive_summary(conn: Any, doc: dict[str, Any]) -> dict[str, Any]:
    full = archives.describe(conn, doc)
    return {str(k): full[k] for k in ("ArchiveName", "EventSourceArn", "State", "StateReason", "RetentionDays",
                                      "SizeBytes", "EventCount", "CreationTime") if k in full}


def _check_taggable(conn: Any, arn: str) -> None:
    _, region, account, resource = parse_arn(arn)
    kind, _, name = resource.partition("/")
    # AWS names the missing bus or rule the way its own Describe* calls do (recorded).
    if kind == "event-bus":
        if name != DEFAULT_BUS and store.get(conn, "bus", account, region, name) is None:
            raise AwsError("ResourceNotFoundException", f"Event bus {name} does not exist.")
    elif kind == "rule":
        bus, _, rule = name.rpartition("/")
        if store.get(conn, "rule", account, region, rule_key(bus or DEFAULT_BUS, rule)) is None:
            raise AwsError("ResourceNotFoundException", f"Rule {rule} does not exist on EventBus {bus or DEFAULT_BUS}.")
    elif not any(d for d in store.list_docs(conn, kind, account, region)
                 if arn in (d.get("ConnectionArn"), d.get("ApiDestinationArn"), d.get("ArchiveArn"))):
        raise AwsError("ResourceNotFoundException", f"Resource {arn} does not exist.")


class MoreOperations:
    platform: Any
    index: Any
    _write_routing: Any  # a write that tells every node's routing index to refresh (provider.py)

    def now(self) -> float:
        raise NotImplementedError  # provided by EventsProvider

    # -- tags ------------------------------------------------------------------------------
    async def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        arn = params["ResourceARN"]

        def run(conn: Any) -> None:
            _check_taggable(conn, arn)
            store.set_tags(conn, arn, params["Tags"])

        await self.platform.db.write(run)

    async def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        arn = params["ResourceARN"]

        def run(conn: Any) -> None:
            _check_taggable(conn, arn)
            store.remove_tags(conn, arn, params["TagKeys"])

        await self.platform.db.write(run)

    async def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["ResourceARN"]

        def run(conn: Any) -> list[dict[str, str]]:
            _check_taggable(conn, arn)
            return store.get_tags(conn, arn)

        return {"Tags": await self.platform.db.write(run)}

    # -- archives --------------------------------------------------------------------------
    async def create_archive(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        doc = await self._write_routing(lambda conn: archives.create(conn, ctx.account_id, ctx.region, params, now))
        self.index.put_archive((ctx.account_id, ctx.region, doc["_bus"]), doc["ArchiveArn"], doc.get("EventPattern"))
        return {"ArchiveArn": doc["ArchiveArn"], "State": doc["State"], "CreationTime": doc["CreationTime"]}

    async def describe_archive(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def run(conn: Any) -> dict[str, Any]:
            return archives.describe(conn, archives.get(conn, ctx.account_id, ctx.region, params["ArchiveName"]))

        result: dict[str, Any] = await self.platform.db.read(run)
        return result

    async def update_archive(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = await self._write_routing(lambda conn: archives.update(conn, ctx.account_id, ctx.region, params))
        self.index.put_archive((ctx.account_id, ctx.region, doc["_bus"]), doc["ArchiveArn"], doc.get("EventPattern"))
        return {"ArchiveArn": doc["ArchiveArn"], "State": doc["State"], "CreationTime": doc["CreationTime"]}

    async def delete_archive(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        doc = await self._write_routing(
            lambda conn: archives.delete(conn, ctx.account_id, ctx.region, params["ArchiveName"]))
        self.index.remove_archive((ctx.account_id, ctx.region, doc["_bus"]), doc["ArchiveArn"])

    async def list_archives(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        source, state = params.get("EventSourceArn"), params.get("State")

        def run(conn: Any) -> dict[str, Any]:
            if source:  # an unknown source bus is an error, not an empty list (recorded)
                _, region, account, resource = parse_arn(source)
                bus = resource.split("/", 1)[-1]
                if bus != DEFAULT_BUS and store.get(conn, "bus", account, region, bus) is None:
                    raise AwsError("ResourceNotFoundException", f"Event bus {bus} does not exist.")
            found = store.listing(conn, archives.ARCHIVE, ctx.account_id, ctx.region, params.get("NextToken"),
                                  params.get("Limit"), params.get("NamePrefix", ""),
                                  keep=lambda d: (not source or d["EventSourceArn"] == source)
                                  and (not state or d["State"] == state))
            return paging.answer(found, "Archives", lambda doc: _archive_summary(conn, doc))

        result: dict[str, Any] = await self.platform.db.read(run)
        return result

    # -- replays ---------------------------------------------------------------------------
    async def start_replay(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        doc = await self.platform.db.write(lambda conn: archives.start_replay(conn, ctx.account_id, ctx.region, params, now))
        self.platform.timers.wake()
        return {"ReplayArn": doc["ReplayArn"], "State": doc["State"], "ReplayStartTime": doc["ReplayStartTime"]}

    async def describe_replay(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = await self.platform.db.read(lambda conn: archives.get_replay(conn, ctx.account_id, ctx.region,
                                                                           params["ReplayName"]))
        return archives.describe_replay(doc)

    async def cancel_replay(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = await self.platform.db.write(lambda conn: archives.cancel_replay(conn, ctx.account_id, ctx.region,
                                                                               params["ReplayName"]))
        self.platform.timers.wake()
        return {"ReplayArn": doc["ReplayArn"], "State": doc["State"]}

    async def list_replays(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        state, source = params.get("State"), params.get("EventSourceArn")
        found = await self.platform.db.read(lambda conn: store.listing(
            conn, archives.REPLAY, ctx.account_id, ctx.region, params.get("NextToken"), params.get("Limit"),
            params.get("NamePrefix", ""), keep=lambda d: (not state or d["State"] == state)
            and (not source or d["EventSourceArn"] == source)))
        return paging.answer(found, "Replays", lambda d: {k: d[k] for k in (
            "ReplayName", "EventSourceArn", "State", "StateReason", "EventStartTime", "EventEndTime",
            "EventLastReplayedTime", "ReplayStartTime", "ReplayEndTime") if k in d})

    # -- connections -----------------------------------------------------------------------
    async def create_connection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        doc = await self.platform.db.write(
            lambda conn: connections.create_connection(conn, ctx.account_id, ctx.region, params, now))
        return {k: doc[k] for k in ("ConnectionArn", "ConnectionState", "CreationTime", "LastModifiedTime")}

    async def describe_connection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = await self.platform.db.read(
            lambda conn: connections.get_connection(conn, ctx.account_id, ctx.region, params["Name"]))
        return connections.describe_connection(doc)

    async def update_connection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        doc = await self.platform.db.write(
            lambda conn: connections.update_connection(conn, ctx.account_id, ctx.region, params, now))
        return {k: doc[k] for k in ("ConnectionArn", "ConnectionState", "CreationTime", "LastModifiedTime",
                                    "LastAuthorizedTime")}

    async def deauthorize_connection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()

        def run(conn: Any) -> dict[str, Any]:
            doc = connections.get_connection(conn, ctx.account_id, ctx.region, params["Name"])
            doc.update(ConnectionState="DEAUTHORIZED", LastModifiedTime=now)
            store.put(conn, connections.CONNECTION, ctx.account_id, ctx.region, doc["Name"], doc)
            return doc

        doc = await self.platform.db.write(run)
        return {k: doc[k] for k in ("ConnectionArn", "ConnectionState", "CreationTime", "LastModifiedTime",
                                    "LastAuthorizedTime")}

    async def delete_connection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()

        def run(conn: Any) -> dict[str, Any]:
            doc = connections.get_connection(conn, ctx.account_id, ctx.region, params["Name"])
            store.delete(conn, connections.CONNECTION, ctx.account_id, ctx.region, doc["Name"])
            return doc

        doc = await self.platform.db.write(run)
        return {"ConnectionArn": doc["ConnectionArn"], "ConnectionState": "DELETING", "CreationTime": doc["CreationTime"],
                "LastModifiedTime": now, "LastAuthorizedTime": doc["LastAuthorizedTime"]}

    async def list_connections(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        state = params.get("ConnectionState")
        found = await self.platform.db.read(lambda conn: store.listing(
            conn, connections.CONNECTION, ctx.account_id, ctx.region, params.get("NextToken"), params.get("Limit"),
            params.get("NamePrefix", ""), keep=lambda d: not state or d["ConnectionState"] == state))
        return paging.answer(found, "Connections", lambda d: {k: d[k] for k in (
            "ConnectionArn", "Name", "ConnectionState", "AuthorizationType", "CreationTime", "LastModifiedTime",
            "LastAuthorizedTime") if k in d})

    # -- API destinations ------------------------------------------------------------------
    async def create_api_destination(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        doc = await self.platform.db.write(
            lambda conn: connections.create_destination(conn, ctx.account_id, ctx.region, params, now))
        return {k: doc[k] for k in ("ApiDestinationArn", "ApiDestinationState", "CreationTime", "LastModifiedTime")}

    async def describe_api_destination(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self.platform.db.read(lambda conn: connections.with_state(
            conn, ctx.account_id, ctx.region, connections.get_destination(conn, ctx.account_id, ctx.region,
                                                                          params["Name"])))
        return result

    async def update_api_destination(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        doc = await self.platform.db.write(
            lambda conn: connections.update_destination(conn, ctx.account_id, ctx.region, params, now))
        return {k: doc[k] for k in ("ApiDestinationArn", "ApiDestinationState", "CreationTime", "LastModifiedTime")}

    async def delete_api_destination(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        def run(conn: Any) -> None:
            connections.get_destination(conn, ctx.account_id, ctx.region, params["Name"])
            store.delete(conn, connections.DESTINATION, ctx.account_id, ctx.region, params["Name"])

        await self.platform.db.write(run)

    async def list_api_destinations(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        connection = params.get("ConnectionArn")
        def run(conn: Any) -> paging.Page[dict[str, Any]]:
            found = store.listing(
                conn, connections.DESTINATION, ctx.account_id, ctx.region, params.get("NextToken"),
                params.get("Limit"), params.get("NamePrefix", ""),
                keep=lambda d: not connection or d["ConnectionArn"] == connection)
            return paging.Page([connections.with_state(conn, ctx.account_id, ctx.region, d) for d in found.items],
                               found.next_token)

        return paging.answer(await self.platform.db.read(run), "ApiDestinations")
