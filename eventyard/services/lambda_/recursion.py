"""A function's recursive-loop setting (Put/GetFunctionRecursionConfig): Terminate unless set to Allow.
Kept as AWS reports it; Eventyard does not detect loops."""

from __future__ import annotations

from typing import Any

from eventyard.services.base import RequestContext
from eventyard.services.lambda_ import functions
from eventyard.services.lambda_.names import FunctionRef, parse_ref

DEFAULT = "Terminate"


def _function(ctx: RequestContext, params: dict[str, Any]) -> FunctionRef:
    ref = parse_ref(params["FunctionName"], ctx.region, ctx.account_id)
    return FunctionRef(ref.name, None, ref.region, ref.account_id)


async def put_function_recursion_config(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    ref = _function(ctx, params)
    value = params["RecursiveLoop"]
    await self.platform.db.write(lambda c: functions.set_meta(c, ref, "recursive_loop", value))
    return {"RecursiveLoop": value}


async def get_function_recursion_config(self: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    ref = _function(ctx, params)
    row = await self.platform.db.read(lambda c: functions.meta(c, ref))
    return {"RecursiveLoop": row["recursive_loop"] or DEFAULT}


class RecursionOperations:
    put_function_recursion_config = put_function_recursion_config
    get_function_recursion_config = get_function_recursion_config
