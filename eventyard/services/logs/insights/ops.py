"""The Logs Insights operations (a mixin of LogsProvider): StartQuery, GetQueryResults, StopQuery,
DescribeQueries and GetLogRecord."""

from __future__ import annotations

from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.ids import new_uuid
from eventyard.runtime.timers import Timer
from eventyard.services import paging
from eventyard.services.base import Provider, RequestContext
from eventyard.services.logs import listings
from eventyard.services.logs.insights import records, runner
from eventyard.services.logs.insights.functions import as_text
from eventyard.services.logs.insights.parser import parse_query
from eventyard.storage import Connection, Row

MAX_GROUPS = 50
MAX_CONCURRENT = 30  # AWS's quota of concurrent queries per account


class InsightsOperations(Provider):
    def register_insights_work(self) -> None:
        self.platform.timers.register(runner.TIMER_KIND, self._run_query, runner.RETRY)

    async def _run_query(self, timer: Timer) -> None:
        await runner.execute(self.platform, timer)

    async def start_query(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("queryLanguage", "CWLI") != "CWLI":
            raise AwsError("InvalidParameterException",
                           f"Query language {params['queryLanguage']} is not supported by Eventyard; use CWLI.")
        groups = _group_names(params, ctx)
        if params["endTime"] < params["startTime"]:
            raise AwsError("InvalidParameterException", "endTime must be greater than or equal to startTime.")
        parse_query(params["queryString"])  # MalformedQueryException before anything is stored
        query_id = new_uuid()
        now = self.platform.clock.now()

        def run(conn: Connection) -> Timer:
            for name in groups:
                found = conn.execute("SELECT id FROM logs_groups WHERE account_id=? AND region=? AND name=?",
                                     (ctx.account_id, ctx.region, name)).fetchone()
                if found is None:
                    raise _missing_group(ctx, name)
            running = conn.execute("SELECT COUNT(*) FROM logs_queries WHERE account_id=? AND status IN"
                                   " ('Scheduled', 'Running')", (ctx.account_id,)).fetchone()[0]
            if running >= MAX_CONCURRENT:
                raise AwsError("LimitExceededException",
                               f"Account maximum query concurrency limit of [{MAX_CONCURRENT}] reached.")
            return runner.create(conn, query_id, ctx.account_id, ctx.region, params["queryString"], groups,
                                 int(params["startTime"]), int(params["endTime"]), params.get("limit"), now,
                                 self.platform.timers.node_id)
        timer = await self.platform.db.write(run)
        self.platform.timers.fire(timer)
        return {"queryId": query_id}

    async def get_query_results(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = await self._query(ctx, params["queryId"])
        return runner.results_of(row)

    async def stop_query(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        await self._query(ctx, params["queryId"])
        now = self.platform.clock.now()
        if not await self.platform.db.write(lambda conn: runner.stop(conn, params["queryId"], now)):
            raise AwsError("InvalidParameterException", "Query is not in a running state.")
        return {"success": True}

    async def describe_queries(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def run(conn: Connection) -> list[Row]:
            return conn.execute("SELECT * FROM logs_queries WHERE account_id=? AND region=? ORDER BY created_at DESC,"
                                " query_id", (ctx.account_id, ctx.region)).fetchall()
        described = [runner.describe(r) for r in await self.platform.db.read(run)]
        if params.get("logGroupName"):
            described = [d for d in described if d.get("logGroupName") == params["logGroupName"]]
        if params.get("status"):
            described = [d for d in described if d["status"] == params["status"]]
        found = paging.in_memory(described, params.get("nextToken"), params.get("maxResults") or 1000, "logs:queries",
                                 listings.token_error)
        return paging.answer(found, "queries", token_key="nextToken")

    async def get_log_record(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        event_id = records.event_id_of(params["logRecordPointer"])
        if event_id is None:
            raise AwsError("InvalidParameterException", "The specified logRecordPointer is invalid.")

        def run(conn: Connection) -> Row | None:
            return conn.execute(
                "SELECT e.id, e.timestamp, e.ingestion_time, e.message, s.name AS stream, g.name AS group_name,"
                " g.account_id, g.region FROM logs_events e JOIN logs_streams s ON s.id = e.stream_id JOIN logs_groups g"
                " ON g.id = s.group_id WHERE e.id = ?", (event_id,)).fetchone()
        row = await self.platform.db.read(run)
        if row is None or row["account_id"] != ctx.account_id or row["region"] != ctx.region:
            raise AwsError("ResourceNotFoundException", "The specified log record does not exist.")
        fields = records.record(row["id"], row["timestamp"], row["ingestion_time"], row["message"], row["stream"],
                                f"{row['account_id']}:{row['group_name']}")
        fields.pop("@ptr", None)
        return {"logRecord": {name: as_text(value) for name, value in fields.items() if value is not None}}

    async def _query(self, ctx: RequestContext, query_id: str) -> Row:
        row = await self.platform.db.read(lambda conn: runner.get(conn, ctx.account_id, ctx.region, query_id))
        if row is None:
            raise AwsError("ResourceNotFoundException", "Query does not exist.")
        return row


def _group_names(params: dict[str, Any], ctx: RequestContext) -> list[str]:
    given = [key for key in ("logGroupName", "logGroupNames", "logGroupIdentifiers") if params.get(key)]
    if len(given) != 1:
        raise AwsError("InvalidParameterException",
                       "Exactly one of logGroupName, logGroupNames or logGroupIdentifiers must be specified.")
    value = params[given[0]]
    names = [value] if isinstance(value, str) else list(value)
    if len(names) > MAX_GROUPS:
        raise AwsError("InvalidParameterException", f"A query can search at most {MAX_GROUPS} log groups.")
    return list(dict.fromkeys(_name_of(name) for name in names))


def _name_of(identifier: str) -> str:
    """A log group name from a name or an ARN (`arn:aws:logs:region:account:log-group:name[:*]`)."""
    if identifier.startswith("arn:"):
        return identifier.split(":log-group:", 1)[-1].removesuffix(":*")
    return identifier


def _missing_group(ctx: RequestContext, name: str) -> AwsError:
    """StartQuery's refusal as recorded: the service behind Insights wraps AWS's message in the Java
    SDK's exception text, our request id in place of AWS's."""
    code = "ResourceNotFoundException"
    return AwsError(code, f"Log group '{name}' does not exist for account ID '{ctx.account_id}' (Service: AWSLogs;"
                    f" Status Code: 400; Error Code: {code}; Request ID: {ctx.request_id}; Proxy: null)")
