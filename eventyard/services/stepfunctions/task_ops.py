"""Activities, task tokens (SendTaskSuccess/Failure/Heartbeat) and TestState: methods of
StepFunctionsProvider."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.base import RequestContext
from eventyard.services.stepfunctions import machines, names, nodes
from eventyard.services.stepfunctions.core import ProviderCore, page
from eventyard.services.stepfunctions.integrations import settle
from eventyard.storage import Connection, Row


def _activity(conn: Connection, arn: str) -> Row:
    row = conn.execute("SELECT * FROM sfn_activities WHERE arn = ?", (arn,)).fetchone()
    if row is None:
        raise AwsError("ActivityDoesNotExist", f"Activity Does Not Exist: '{arn}'")
    return row


class ActivityOperations(ProviderCore):
    """Activities, task tokens (SendTask*) and TestState."""

    async def create_activity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        names.validate_name(params["name"])
        arn = names.activity_arn(ctx.region, ctx.account_id, params["name"])
        now = self.now()

        def run(conn: Connection) -> dict[str, Any]:
            row = conn.execute("SELECT * FROM sfn_activities WHERE arn = ?", (arn,)).fetchone()
            if row is not None:  # AWS: CreateActivity is idempotent
                return {"activityArn": arn, "creationDate": row["created_at"]}
            tags = {t["key"]: t.get("value", "") for t in params.get("tags", [])}
            given = params.get("encryptionConfiguration")
            conn.execute("INSERT INTO sfn_activities (arn, name, created_at, tags, encryption) VALUES (?,?,?,?,?)",
                         (arn, params["name"], now, json.dumps(tags), json.dumps(given) if given else None))
            return {"activityArn": arn, "creationDate": now}

        return await self._write(run)

    async def describe_activity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        names.check_arn(params["activityArn"], "activity")
        row = await self._read(lambda conn: _activity(conn, params["activityArn"]))
        return {"activityArn": row["arn"], "name": row["name"], "creationDate": row["created_at"],
                "encryptionConfiguration": machines.encryption(row)}

    async def delete_activity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        names.check_arn(params["activityArn"], "activity")
        await self._write(lambda conn: conn.execute("DELETE FROM sfn_activities WHERE arn = ?", (params["activityArn"],)))
        return {}

    async def list_activities(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rows = await self._read(lambda conn: conn.execute(
            "SELECT * FROM sfn_activities WHERE arn LIKE ? ORDER BY name",
            (f"arn:aws:states:{ctx.region}:{ctx.account_id}:activity:%",)).fetchall())
        chunk, token = page([{"activityArn": r["arn"], "name": r["name"], "creationDate": r["created_at"]}
                              for r in rows], params)
        return {"activities": chunk, **({"nextToken": token} if token else {})}

    async def get_activity_task(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        task = await self._take_activity_task(params["activityArn"])
        started = self.runner.activity_workers.get(task.get("taskToken", ""))
        if started is not None:  # the execution records ActivityStarted (with the workerName given)
            await started(params.get("workerName"))
        return task

    async def _take_activity_task(self, arn: str) -> dict[str, Any]:
        names.check_arn(arn, "activity")
        await self._read(lambda conn: _activity(conn, arn))
        queue = self.runner.activity_queues.setdefault(arn, asyncio.Queue())
        if self.runner.nodes.shared:  # a task may wait on any node
            return await nodes.next_activity_task(self.runner.nodes, arn, queue, 60)
        loop = asyncio.get_running_loop()
        until = loop.time() + 60  # AWS long-polls for up to 60 s
        while True:
            try:
                token, payload = await asyncio.wait_for(queue.get(), max(0.0, until - loop.time()))
            except TimeoutError:
                return {}
            if token not in self.runner.tokens:
                continue  # its execution stopped, timed out or moved on
            if token in self.runner.durable_tokens:
                # Handed to a worker: after a restart the execution waits for this token, not re-enqueues it.
                await self._write(lambda conn: conn.execute(
                    "UPDATE sfn_task_tokens SET dispatched = 1 WHERE token = ?", (token,)))
            return {"taskToken": token, "input": payload}

    async def _settle(self, token: str, outcome: dict[str, Any]) -> None:
        """SendTaskSuccess/Failure: a durable token's answer is committed before it is acknowledged
        (the execution finds it after a restart); then the waiting task, if in memory, is completed."""
        entry = self.runner.tokens.get(token)

        def store(conn: Connection) -> str | None:
            row = conn.execute("SELECT outcome FROM sfn_task_tokens WHERE token = ?", (token,)).fetchone()
            if row is None:
                return None
            if row["outcome"] is not None:
                return "answered"
            conn.execute("UPDATE sfn_task_tokens SET outcome = ? WHERE token = ?", (json.dumps(outcome), token))
            self.runner.nodes.told(conn, nodes.TOKEN_CHANNEL, token)  # the waiting driver may be on another node
            return "stored"

        stored = await self._write(store) if entry is None or token in self.runner.durable_tokens else None
        if stored == "answered" or (entry is not None and entry[0].done()):
            raise AwsError("TaskTimedOut", "Task Timed Out")
        if entry is None and stored is None:
            # AWS does not echo the token back in this message.
            raise AwsError("InvalidToken", "Invalid Token: 'Invalid token'")
        entry = self.runner.tokens.get(token)  # a restarted execution may have picked the token up meanwhile
        if entry is not None:
            settle(entry[0], outcome)

    async def send_task_success(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        try:
            value = json.loads(params["output"])
        except ValueError:
            token = params["taskToken"]
            known = token in self.runner.tokens or await self._read(lambda conn: conn.execute(
                "SELECT 1 FROM sfn_task_tokens WHERE token = ?", (token,)).fetchone()) is not None
            if not known:  # AWS checks the token before the output
                raise AwsError("InvalidToken", "Invalid Token: 'Invalid token'") from None
            raise AwsError("InvalidOutput", f"Invalid Output: '{params['output']}'") from None
        await self._settle(params["taskToken"], {"output": value})
        return {}

    async def send_task_failure(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        outcome = {k: params[k] for k in ("error", "cause") if params.get(k) is not None}
        await self._settle(params["taskToken"], outcome)
        return {}

    async def send_task_heartbeat(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        token = params["taskToken"]
        entry = self.runner.tokens.get(token)
        now = self.now()

        def beat(conn: Connection) -> str | None:
            row = conn.execute("SELECT outcome FROM sfn_task_tokens WHERE token = ?", (token,)).fetchone()
            if row is None:
                return None
            conn.execute("UPDATE sfn_task_tokens SET heartbeat_at = ? WHERE token = ?", (now, token))
            self.runner.nodes.told(conn, nodes.HEARTBEAT_CHANNEL, f"{now!r}|{token}")
            return "answered" if row["outcome"] is not None else "beat"

        found = await self._write(beat) if entry is None or token in self.runner.durable_tokens else None
        if entry is None and found is None:
            raise AwsError("InvalidToken", "Invalid Token: 'Invalid token'")
        if found == "answered" or (entry is not None and entry[0].done()):
            raise AwsError("TaskTimedOut", "Task Timed Out")
        if token in self.runner.heartbeats:
            self.runner.heartbeats[token] = now
        return {}
