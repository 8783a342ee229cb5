"""Map Run operations: DescribeMapRun, ListMapRuns, UpdateMapRun (the records are kept by map_runs.py)."""

from __future__ import annotations

import json
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.base import RequestContext
from eventyard.services.stepfunctions import names, nodes
from eventyard.services.stepfunctions.core import ProviderCore, page
from eventyard.services.stepfunctions.execution_ops import get_execution
from eventyard.services.stepfunctions.map_runs import counts
from eventyard.storage import Connection, Row


def _row(conn: Connection, arn: str) -> Row:
    row = conn.execute("SELECT * FROM sfn_map_runs WHERE arn = ?", (arn,)).fetchone()
    if row is None:
        raise AwsError("ResourceNotFound", f"Resource not found: '{arn}'")
    return row


def _check_arn(arn: str) -> None:
    parts = arn.split(":")
    if len(parts) < 8 or parts[:3] != ["arn", "aws", "states"] or parts[5] != "mapRun":
        raise AwsError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this context: {arn}'")


class MapRunOperations(ProviderCore):
    """DescribeMapRun, ListMapRuns, UpdateMapRun."""

    async def describe_map_run(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["mapRunArn"]
        _check_arn(arn)
        row = await self._read(lambda conn: _row(conn, arn))
        live = self.runner.map_runs.live.get(arn)
        items = counts(live.items, live.total_items) if live else json.loads(row["item_counts"]) or counts({}, 0)
        executions = counts(live.executions, live.total_executions) if live else \
            json.loads(row["execution_counts"]) or counts({}, 0)
        out = {"mapRunArn": arn, "executionArn": row["execution_arn"], "status": row["status"],
               "startDate": row["started_at"], "maxConcurrency": row["max_concurrency"],
               "toleratedFailurePercentage": row["tolerated_pct"], "toleratedFailureCount": row["tolerated_count"],
               "itemCounts": items, "executionCounts": executions, "redriveCount": 0}
        if row["stopped_at"] is not None:
            out["stopDate"] = row["stopped_at"]
        return out

    async def list_map_runs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["executionArn"]
        names.check_arn(arn, "execution")

        def read(conn: Connection) -> list[Row]:
            get_execution(conn, arn)
            return conn.execute("SELECT * FROM sfn_map_runs WHERE execution_arn = ? ORDER BY started_at",
                                (arn,)).fetchall()

        rows = await self._read(read)
        items = []
        for r in rows:
            item = {"executionArn": arn, "mapRunArn": r["arn"], "stateMachineArn": r["machine_arn"],
                    "startDate": r["started_at"]}
            if r["stopped_at"] is not None:
                item["stopDate"] = r["stopped_at"]
            items.append(item)
        chunk, token = page(items, params)
        return {"mapRuns": chunk, **({"nextToken": token} if token else {})}

    async def update_map_run(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["mapRunArn"]
        _check_arn(arn)
        changes = {k: params[k] for k in ("maxConcurrency", "toleratedFailurePercentage", "toleratedFailureCount")
                   if params.get(k) is not None}
        if not changes:
            raise AwsError("ValidationException", "Must specify at least one of maxConcurrency, "
                           "toleratedFailurePercentage or toleratedFailureCount")
        if not 0 <= changes.get("toleratedFailurePercentage", 0) <= 100:
            raise AwsError("ValidationException", "toleratedFailurePercentage must be between 0 and 100")
        if changes.get("toleratedFailureCount", 0) < 0 or changes.get("maxConcurrency", 0) < 0:
            raise AwsError("ValidationException", "maxConcurrency and toleratedFailureCount must not be negative")
        columns = {"maxConcurrency": "max_concurrency", "toleratedFailurePercentage": "tolerated_pct",
                   "toleratedFailureCount": "tolerated_count"}

        def run(conn: Connection) -> None:
            _row(conn, arn)
            for key, value in changes.items():
                conn.execute(f"UPDATE sfn_map_runs SET {columns[key]} = ? WHERE arn = ?", (value, arn))
            if "maxConcurrency" in changes:  # the Map may run on another node
                self.runner.nodes.told(conn, nodes.MAP_RUN_CHANNEL, f"{changes['maxConcurrency']}|{arn}")

        await self._write(run)
        if "maxConcurrency" in changes:
            self.runner.map_runs.resize(arn, changes["maxConcurrency"])
        return {}
