"""Reserved concurrency (Put/Get/DeleteFunctionConcurrency) against the account's limit.

AWS keeps part of an account's concurrency unreserved for functions without a reservation (100 of the
default 1,000); Eventyard's account limit is its worker pool, and keeps the same tenth (at least one)
unreserved, refusing a reservation that would eat into it in AWS's words."""

from __future__ import annotations

from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.base import RequestContext
from eventyard.services.lambda_ import functions
from eventyard.services.lambda_.errors import untyped
from eventyard.services.lambda_.functions import LATEST
from eventyard.services.lambda_.names import FunctionRef, not_found, parse_ref
from eventyard.storage import Connection


def minimum_unreserved(limit: int) -> int:
    return max(1, limit // 10)


def reserved_elsewhere(conn: Connection, ref: FunctionRef) -> int:
    row = conn.execute("SELECT COALESCE(SUM(reserved_concurrency), 0) AS total FROM lambda_function_meta WHERE "
                       "account_id=? AND region=? AND name != ?", (ref.account_id, ref.region, ref.name)).fetchone()
    return int(row["total"])


def reserved_total(conn: Connection, region: str, account_id: str) -> int:
    """What the account's functions have reserved (GetAccountSettings subtracts it from the unreserved share)."""
    row = conn.execute("SELECT COALESCE(SUM(reserved_concurrency), 0) AS total FROM lambda_function_meta WHERE "
                       "account_id=? AND region=?", (account_id, region)).fetchone()
    return int(row["total"])


def _function(ctx: RequestContext, params: dict[str, Any]) -> FunctionRef:
    ref = parse_ref(params["FunctionName"], ctx.region, ctx.account_id, params.get("Qualifier"))
    if ref.qualifier is not None:
        raise AwsError("InvalidParameterValueException", "This operation is permitted on Lambda functions only. "
                       "Aliases and versions do not support this operation. Please specify either a function name "
                       "or an unqualified function ARN.")
    return ref


async def put_function_concurrency(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    ref = _function(ctx, params)
    value = params["ReservedConcurrentExecutions"]
    limit = self.pool.max_workers

    def run(conn: Connection) -> None:
        if not functions.exists(conn, ref):  # AWS names $LATEST here
            raise not_found(FunctionRef(ref.name, LATEST, ref.region, ref.account_id))
        floor = minimum_unreserved(limit)
        if limit - reserved_elsewhere(conn, ref) - value < floor:
            raise untyped("InvalidParameterValueException", "Specified ReservedConcurrentExecutions for function "
                          "decreases account's UnreservedConcurrentExecution below its minimum value of "
                          f"[{floor}].")
        functions.set_meta(conn, ref, "reserved_concurrency", value)
    await self.platform.db.write(run)
    return {"ReservedConcurrentExecutions": value}


async def get_function_concurrency(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    ref = _function(ctx, params)
    value = (await self.platform.db.read(lambda c: functions.meta(c, ref)))["reserved_concurrency"]
    return {} if value is None else {"ReservedConcurrentExecutions": value}


async def delete_function_concurrency(self: Any, ctx: RequestContext, params: dict[str, Any]) -> None:
    ref = _function(ctx, params)
    await self.platform.db.write(lambda c: functions.set_meta(c, ref, "reserved_concurrency", None))


class ConcurrencyOperations:
    put_function_concurrency = put_function_concurrency
    get_function_concurrency = get_function_concurrency
    delete_function_concurrency = delete_function_concurrency
