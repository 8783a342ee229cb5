"""Execution operations (methods of StepFunctionsProvider): start, describe, list, stop, history,
redrive. A STANDARD StartExecution commits the execution and its first events before answering."""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

from eventyard.asl.templates import to_json
from eventyard.protocol.errors import AwsError
from eventyard.runtime import tracing
from eventyard.services.base import RequestContext
from eventyard.services.stepfunctions import machines, map_runs, names, trace
from eventyard.services.stepfunctions import metrics as sfn_metrics
from eventyard.services.stepfunctions.core import ProviderCore, check_input, page
from eventyard.services.stepfunctions.execution_logs import LogTarget
from eventyard.services.stepfunctions.schema import HISTORY_UPSERT
from eventyard.storage import Connection, Row

FINAL_EVENT = {"SUCCEEDED": "ExecutionSucceeded", "FAILED": "ExecutionFailed", "ABORTED": "ExecutionAborted",
               "TIMED_OUT": "ExecutionTimedOut"}


def billed_ms(start: float, stop: float) -> int:
    """AWS bills an Express execution's duration rounded up to the next 100 ms (100 at least)."""
    return max(1, math.ceil(round((stop - start) * 1000, 3) / 100)) * 100


def get_execution(conn: Connection, arn: str) -> Row:
    row = conn.execute("SELECT * FROM sfn_executions WHERE arn = ?", (arn,)).fetchone()
    if row is None:
        raise AwsError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")
    return row


def _input_text(params: dict[str, Any]) -> str:
    return check_input(params.get("input"))


def _new_row(ctx: RequestContext, params: dict[str, Any], conn: Connection, now: float,
             express: bool | None = None) -> dict[str, Any]:
    machine, definition, role, version_arn, alias_arn = machines.resolve(conn, params["stateMachineArn"])
    if express is None:
        express = machine["type"] == "EXPRESS"
    name = params.get("name") or str(uuid.uuid4())
    names.validate_name(name)
    arn = names.execution_arn(machine["arn"], name, express=express)
    if express:
        arn = f"{arn}:{uuid.uuid4()}"
    input_text = _input_text(params)
    return {"arn": arn, "machine_arn": machine["arn"], "version_arn": version_arn, "alias_arn": alias_arn,
            "name": name, "type": machine["type"], "status": "RUNNING", "definition": definition, "role_arn": role,
            "input": input_text, "trace_header": params.get("traceHeader") or ctx.trace_header, "started_at": now,
            "region": ctx.region, "account_id": ctx.account_id, "redrive_count": 0,
            "log_target": LogTarget.of(machine)}


def _insert(conn: Connection, row: dict[str, Any]) -> None:
    cols = ["arn", "machine_arn", "version_arn", "alias_arn", "name", "type", "status", "definition", "role_arn",
            "input", "output", "error", "cause", "trace_header", "started_at", "stopped_at", "checkpoint",
            "next_event_id", "last_event_id", "region", "account_id"]
    conn.execute(f"INSERT INTO sfn_executions ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                 [row.get(c) for c in cols])


def _describe(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {"executionArn": row["arn"], "stateMachineArn": row["machine_arn"], "name": row["name"],
                           "status": row["status"], "startDate": row["started_at"], "input": row["input"],
                           "inputDetails": {"included": True}, "redriveCount": row["redrive_count"]}
    if row["stopped_at"] is not None:
        out["stopDate"] = row["stopped_at"]
    if row["output"] is not None:
        out["output"] = row["output"]
        out["outputDetails"] = {"included": True}
    for key in ("error", "cause"):
        # AWS describes an execution its own TimeoutSeconds ended without an error (recorded)
        if row[key] is not None and row["status"] != "TIMED_OUT":
            out[key] = row[key]
    if row["version_arn"]:
        out["stateMachineVersionArn"] = row["version_arn"]
    if row["alias_arn"]:
        out["stateMachineAliasArn"] = row["alias_arn"]
    if row["trace_header"]:
        out["traceHeader"] = row["trace_header"]
    if row["redrive_at"] is not None:
        out["redriveDate"] = row["redrive_at"]
    if row["type"] == "STANDARD":
        redrivable = row["status"] in ("FAILED", "ABORTED", "TIMED_OUT")
        out["redriveStatus"] = "REDRIVABLE" if redrivable else "NOT_REDRIVABLE"
        if not redrivable:
            out["redriveStatusReason"] = "Execution is RUNNING and cannot be redriven" if row["status"] == "RUNNING" \
                else "Execution is SUCCEEDED and cannot be redriven"
    return out


class ExecutionOperations(ProviderCore):
    """StartExecution, StartSyncExecution, DescribeExecution, ListExecutions, StopExecution,
    GetExecutionHistory, RedriveExecution."""

    async def start_execution(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        names.check_arn(params["stateMachineArn"], "stateMachine")
        now = self.now()

        def run(conn: Connection) -> tuple[dict[str, Any], bool]:
            row = _new_row(ctx, params, conn, now)
            existing = conn.execute("SELECT * FROM sfn_executions WHERE arn = ?", (row["arn"],)).fetchone()
            if existing is not None:
                # AWS: a STANDARD start with the same name and input while RUNNING is idempotent.
                if existing["status"] == "RUNNING" and existing["input"] == row["input"]:
                    return {"executionArn": existing["arn"], "startDate": existing["started_at"]}, False
                raise AwsError("ExecutionAlreadyExists", f"Execution Already Exists: '{row['arn']}'")
            if row["type"] == "EXPRESS":
                return row, True
            started: dict[str, Any] = {"input": row["input"], "inputDetails": {"truncated": False},
                                       "roleArn": row["role_arn"]}
            if row["version_arn"] or row["alias_arn"]:
                started["stateMachineVersionArn"] = row["version_arn"]
                if row["alias_arn"]:
                    started["stateMachineAliasArn"] = row["alias_arn"]
            event = {"id": 1, "previousEventId": 0, "timestamp": now, "type": "ExecutionStarted",
                     "executionStartedEventDetails": started}
            definition = json.loads(row["definition"])
            row.update(checkpoint=json.dumps({"state": definition["StartAt"], "input": json.loads(row["input"]),
                                              "variables": {}}), next_event_id=2, last_event_id=0)
            _insert(conn, row)
            conn.execute("INSERT INTO sfn_history VALUES (?,?,?)", (row["arn"], 1, json.dumps(event)))
            tracing.record(conn, trace.started(row, now))
            row["started_event"] = event
            return row, True

        row, fresh = await self._write(run)
        if not fresh:
            return row
        if row["type"] == "EXPRESS":
            self.platform.spawn(self._express_async(row), "sfn-express")
            return {"executionArn": row["arn"], "startDate": now}
        await self.runner.emit_status_event(row["arn"], row)
        self.runner.logs.ship(row["log_target"], row["arn"], 0, [row["started_event"]])
        self.runner.launch(row["arn"])
        return {"executionArn": row["arn"], "startDate": now}

    async def _express_async(self, row: dict[str, Any]) -> None:
        outcome, events = await self.runner.run_express(row)
        await self._store_express(row, outcome, events)

    async def _store_express(self, row: dict[str, Any], outcome: Any, events: list[dict[str, Any]]) -> None:
        now = self.now()
        output = to_json(outcome.output) if outcome.status == "SUCCEEDED" else None
        row = dict(row, status=outcome.status, output=output, error=outcome.error, cause=outcome.cause,
                   stopped_at=now, next_event_id=len(events) + 1, last_event_id=len(events))

        def write(conn: Connection) -> None:
            _insert(conn, row)
            conn.executemany("INSERT INTO sfn_history VALUES (?,?,?)", [(row["arn"], e["id"], json.dumps(e))
                                                                        for e in events])
            tracing.record(conn, trace.started(row, row["started_at"], (now - row["started_at"]) * 1000,
                                               outcome.status))

        await self._write(write)
        sfn_metrics.express_ran(self.platform.metrics, row)
        self.runner.logs.ship(row["log_target"], row["arn"], 0, events)

    async def start_sync_execution(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        names.check_arn(params["stateMachineArn"], "stateMachine")
        now = self.now()
        row = await self._write(lambda conn: _new_row(ctx, params, conn, now, express=True))
        if row["type"] != "EXPRESS":
            raise AwsError("StateMachineTypeNotSupported",
                           "This operation is not supported by this type of state machine")
        row["synchronous"] = True
        outcome, events = await self.runner.run_express(row)
        await self._store_express(row, outcome, events)
        stop = self.now()
        out: dict[str, Any] = {"executionArn": row["arn"], "stateMachineArn": row["machine_arn"], "name": row["name"],
                               "startDate": now, "stopDate": stop, "status": outcome.status, "input": row["input"],
                               "inputDetails": {"included": True}, "billingDetails": {
                                   "billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": billed_ms(now, stop)}}
        out["outputDetails"] = {"included": True}  # AWS: on a failure too, with no output
        if outcome.status == "SUCCEEDED":
            out["output"] = to_json(outcome.output)
        else:
            if outcome.error is not None:
                out["error"] = outcome.error
            if outcome.cause is not None:
                out["cause"] = outcome.cause
        if row.get("trace_header"):
            out["traceHeader"] = row["trace_header"]
        return out

    async def describe_execution(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["executionArn"]
        names.check_arn(arn, "execution")  # AWS keeps no EXPRESS execution to describe
        return _describe(await self._read(lambda conn: get_execution(conn, arn)))

    async def describe_state_machine_for_execution(self, ctx: RequestContext, params: dict[str, Any]
                                                   ) -> dict[str, Any]:
        def read(conn: Connection) -> dict[str, Any]:
            row = get_execution(conn, params["executionArn"])
            machine = conn.execute("SELECT * FROM sfn_state_machines WHERE arn = ?", (row["machine_arn"],)).fetchone()
            out = {"stateMachineArn": row["machine_arn"], "name": row["machine_arn"].split(":")[6],
                   "definition": row["definition"], "roleArn": row["role_arn"],
                   "updateDate": machine["updated_at"] if machine else row["started_at"],
               **machines.definition_details(row["definition"])}
            if machine is not None:
                out["encryptionConfiguration"] = machines.encryption(machine)
                out["loggingConfiguration"] = json.loads(machine["logging"] or "{}")
                out["tracingConfiguration"] = json.loads(machine["tracing"] or "{}")
                if machine["revision_id"] != machines.NO_REVISION:
                    out["revisionId"] = machine["revision_id"]
            return out

        return await self._read(read)

    async def list_executions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn: str = params.get("stateMachineArn") or ""
        if not arn and "mapRunArn" not in params:
            raise AwsError("ValidationException", "Must provide a StateMachine ARN or MapRun ARN")
        if arn:
            names.check_arn(arn, "stateMachine")

        def read(conn: Connection) -> list[Any]:
            base, qualifier = names.split_qualified(arn)
            machine = machines.get(conn, base)
            if machine["type"] == "EXPRESS":
                raise AwsError("StateMachineTypeNotSupported", "This operation is not supported by this type of state "
                               "machine")
            sql, args = "SELECT * FROM sfn_executions WHERE machine_arn = ?", [base]
            if qualifier is not None:
                sql += " AND (version_arn = ? OR alias_arn = ?)"
                args += [arn, arn]
            if params.get("statusFilter"):
                sql += " AND status = ?"
                args.append(params["statusFilter"])
            return conn.execute(sql + " ORDER BY started_at DESC", args).fetchall()

        rows = await self._read(read)
        items = []
        for r in rows:
            item = {"executionArn": r["arn"], "stateMachineArn": r["machine_arn"], "name": r["name"],
                    "status": r["status"], "startDate": r["started_at"], "redriveCount": r["redrive_count"]}
            if r["stopped_at"] is not None:
                item["stopDate"] = r["stopped_at"]
            if r["version_arn"]:
                item["stateMachineVersionArn"] = r["version_arn"]
            if r["alias_arn"]:
                item["stateMachineAliasArn"] = r["alias_arn"]
            items.append(item)
        chunk, token = page(items, params)
        return {"executions": chunk, **({"nextToken": token} if token else {})}

    async def stop_execution(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["executionArn"]
        names.check_arn(arn, "execution")
        now = self.now()

        def run(conn: Connection) -> tuple[dict[str, Any], Row] | None:
            row = get_execution(conn, arn)
            if row["status"] != "RUNNING":
                return None
            details: dict[str, Any] = {}
            if params.get("error") is not None:
                details["error"] = params["error"]
            if params.get("cause") is not None:
                details["cause"] = params["cause"]
            event_id = row["next_event_id"]
            # AWS: ExecutionAborted names no previous event (recorded: previousEventId 0)
            event = {"id": event_id, "previousEventId": 0, "timestamp": now,
                     "type": "ExecutionAborted", "executionAbortedEventDetails": details}
            conn.execute(HISTORY_UPSERT, (arn, event_id, json.dumps(event)))
            conn.execute("UPDATE sfn_executions SET status = 'ABORTED', stopped_at = ?, error = ?, cause = ?, "
                         "checkpoint = NULL, next_event_id = ?, last_event_id = ? WHERE arn = ?",
                         (now, params.get("error"), params.get("cause"), event_id + 1, event_id, arn))
            conn.execute("DELETE FROM sfn_task_tokens WHERE execution_arn = ?", (arn,))
            conn.execute("DELETE FROM sfn_units WHERE execution_arn = ?", (arn,))
            map_runs.abort_running(conn, arn, now)
            return event, row

        stopped = await self._write(run)
        if stopped:
            event, row = stopped
            await self._log(row, [event])
            task = self.runner.running.pop(arn, None)
            if task is not None:
                task.cancel()
            await self.runner.emit_status_event(arn)
        return {"stopDate": now}

    async def _log(self, row: Any, events: list[dict[str, Any]], redrive_count: int | None = None) -> None:
        """Ship events an operation (not the driver) recorded to the state machine's log group."""
        machine = await self._read(lambda conn: conn.execute(
            "SELECT arn, logging, created_at FROM sfn_state_machines WHERE arn = ?", (row["machine_arn"],)).fetchone())
        if machine is not None:
            count = row["redrive_count"] if redrive_count is None else redrive_count
            self.runner.logs.ship(LogTarget.of(machine), row["arn"], count, events)

    async def get_execution_history(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["executionArn"]
        names.check_arn(arn, "execution")

        def read(conn: Connection) -> list[Any]:
            get_execution(conn, arn)
            return conn.execute("SELECT event FROM sfn_history WHERE execution_arn = ? ORDER BY event_id",
                                (arn,)).fetchall()

        events = [json.loads(r["event"]) for r in await self._read(read)]
        if params.get("reverseOrder"):
            events.reverse()
        if not params.get("includeExecutionData", True):
            for event in events:
                for key, value in event.items():
                    if key.endswith("EventDetails") and isinstance(value, dict):
                        for field in ("input", "output", "parameters"):
                            value.pop(field, None)
        chunk, token = page(events, params)
        return {"events": chunk, **({"nextToken": token} if token else {})}

    async def redrive_execution(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["executionArn"]
        names.check_arn(arn, "execution")
        now = self.now()

        def run(conn: Connection) -> tuple[dict[str, Any], Row]:
            row = get_execution(conn, arn)
            if row["status"] not in ("FAILED", "ABORTED", "TIMED_OUT"):
                raise AwsError("ExecutionNotRedrivable", f"Execution {arn} is not redrivable: status is {row['status']}")
            last = conn.execute("SELECT event FROM sfn_history WHERE execution_arn = ? AND event LIKE "
                                "'%StateEntered%' ORDER BY event_id DESC LIMIT 1", (arn,)).fetchone()
            definition = json.loads(row["definition"])
            state, state_input = definition["StartAt"], json.loads(row["input"])
            if last is not None:
                entered = json.loads(last["event"])
                details = entered["stateEnteredEventDetails"]
                if details["name"] in definition["States"]:  # redrive restarts the failed top-level state
                    state, state_input = details["name"], json.loads(details["input"])
            event_id = row["next_event_id"]
            event = {"id": event_id, "previousEventId": row["last_event_id"], "timestamp": now,
                     "type": "ExecutionRedriven", "executionRedrivenEventDetails": {"redriveCount":
                                                                                   row["redrive_count"] + 1}}
            conn.execute(HISTORY_UPSERT, (arn, event_id, json.dumps(event)))
            conn.execute("UPDATE sfn_executions SET status = 'RUNNING', stopped_at = NULL, error = NULL, cause = NULL,"
                         " output = NULL, redrive_count = redrive_count + 1, redrive_at = ?, checkpoint = ?,"
                         " next_event_id = ?, last_event_id = ? WHERE arn = ?",
                         (now, json.dumps({"state": state, "input": state_input, "variables": {}}), event_id + 1,
                          event_id, arn))
            return event, row

        event, row = await self._write(run)
        await self._log(row, [event], row["redrive_count"] + 1)
        self.runner.launch(arn)
        return {"redriveDate": now}
