"""Who may act on another account's event bus: the bus's resource policy decides (PutPermission
writes it), as on AWS; an event sent to a bus of another account (PutEvents with the bus's ARN, or a
rule's event-bus target) needs its `events:PutEvents` grant. Only asked when authentication is on
(runtime/access.py). Rules, archives and connections have no resource policy of their own."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.access import Caller, Decision, arn_account, crosses_accounts, evaluate, refusal_message
from eventyard.services.events import buses, store

# Parameters that may name a bus (or another resource) by its ARN.
_RESOURCE_PARAMETERS = ("EventBusName", "ResourceARN", "Name", "EventSourceArn")


def access_denied(caller: Caller, action: str, resource: str, decision: Decision) -> AwsError:
    return AwsError("AccessDeniedException", refusal_message(caller, action, resource, decision))


def named_arns(operation: str, params: dict[str, Any]) -> list[str]:
    if operation == "PutEvents":
        found: Iterable[Any] = (entry.get("EventBusName") for entry in params.get("Entries") or []
                                if isinstance(entry, dict))
    else:
        found = (params.get(name) for name in _RESOURCE_PARAMETERS)
    return list(dict.fromkeys(str(arn) for arn in found if arn_account(arn) is not None))


def bus_policy(conn: Any, arn: str) -> str | None:
    """The resource policy of the bus `arn` names (None for another kind of resource, or none set)."""
    _, _, _, region, account, resource = arn.split(":", 5)
    if not resource.startswith("event-bus/"):
        return None
    bus = store.get(conn, buses.KIND, account, region, resource.removeprefix("event-bus/"))
    return bus.get("Policy") if bus is not None else None


async def check(platform: Any, caller: Caller, action: str, arn: str) -> Decision:
    policy = await platform.db.read(lambda conn: bus_policy(conn, arn))
    return evaluate(policy, caller, action, arn)


async def authorize(platform: Any, ctx: Any, operation: str, params: dict[str, Any]) -> None:
    action = f"events:{operation}"
    for arn in named_arns(operation, params):
        if crosses_accounts(ctx.caller, arn_account(arn) or ""):
            decision = await check(platform, ctx.caller, action, arn)
            if decision is not Decision.ALLOWED:
                raise access_denied(ctx.caller, action, arn, decision)
