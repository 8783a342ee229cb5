"""Who may act on another account's stream or consumer: the stream's resource policy decides
(PutResourcePolicy), as on AWS. Only asked when authentication is on and the stream a request names
belongs to another account than the caller's (runtime/access.py)."""

from __future__ import annotations

from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.access import Decision, crosses_accounts, evaluate, refusal_message
from eventyard.services.kinesis import names
from eventyard.services.kinesis import streams as stream_store
from eventyard.services.kinesis.streams import StreamKey


def resource_named(ctx: Any, params: dict[str, Any]) -> tuple[StreamKey, str] | None:
    """The stream a request acts on and the ARN it is authorized as (a consumer's own ARN for consumer
    operations), when it names one; a malformed name is left to the operation."""
    try:
        consumer = params.get("ConsumerARN") or params.get("ResourceARN")
        if isinstance(consumer, str) and "/consumer/" in consumer:
            region, account, stream, _ = names.parse_consumer_arn(consumer)
            return StreamKey(account, region, stream), consumer
        if isinstance(params.get("ResourceARN"), str):
            params = {"StreamARN": params["ResourceARN"]}
        if params.get("StreamARN") is None and params.get("StreamName") is None:
            return None
        key = stream_store.key_from_params(params, ctx.region, ctx.account_id)
    except AwsError:
        return None
    return key, names.stream_arn(key.region, key.account_id, key.name)


async def authorize(platform: Any, ctx: Any, operation: str, params: dict[str, Any]) -> None:
    named = resource_named(ctx, params)
    if named is None or not crosses_accounts(ctx.caller, named[0].account_id):
        return
    key, resource = named
    row = await platform.db.read(lambda conn: conn.execute(
        "SELECT resource_policy FROM kinesis_streams WHERE account_id = ? AND region = ? AND name = ?",
        (key.account_id, key.region, key.name)).fetchone())
    action = f"kinesis:{operation}"
    decision = evaluate(row[0] if row is not None else None, ctx.caller, action, resource)
    if decision is not Decision.ALLOWED:
        raise AwsError("AccessDeniedException", refusal_message(ctx.caller, action, resource, decision))
