"""Who may act on another account's topic: the topic's access policy decides (its `Policy`
attribute, AWS's default policy until one is set, AddPermission's statements), as on AWS. Only asked
when authentication is on and the ARN a request names belongs to another account than the caller's
(runtime/access.py). A subscription's owner may manage it whatever the topic's policy says; platform
applications and endpoints have no resource policy, so other accounts never reach them."""

from __future__ import annotations

import re
from typing import Any

from eventyard.runtime.access import Decision, crosses_accounts, evaluate, refusal_message
from eventyard.services.sns import policies
from eventyard.services.sns import subscriptions as subscription_store
from eventyard.services.sns import topics as topic_store
from eventyard.services.sns.errors import authorization_error
from eventyard.storage import Connection

# The parameters that name the resource of a request, in the order AWS's operations use them.
_RESOURCE_PARAMETERS = ("TopicArn", "ResourceArn", "TargetArn", "SubscriptionArn", "PlatformApplicationArn",
                        "EndpointArn")
_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:(\d{12}):(.+)$")
_UNCHECKED = {"ConfirmSubscription"}  # anyone holding the token confirms (the endpoint's owner)


def action_of(operation: str) -> str:
    return "SNS:Publish" if operation == "PublishBatch" else f"SNS:{operation}"


async def authorize(platform: Any, ctx: Any, operation: str, params: dict[str, Any]) -> None:
    named = next((str(params[p]) for p in _RESOURCE_PARAMETERS if isinstance(params.get(p), str)), "")
    match = _ARN.match(named) if operation not in _UNCHECKED else None
    if match is None or not crosses_accounts(ctx.caller, match.group(1)):
        return
    action = action_of(operation)
    resource, policy, owns = await platform.db.read(lambda conn: _policy_of(conn, named, ctx.caller.account_id))
    if owns:
        return
    decision = evaluate(policy, ctx.caller, action, resource) if policy is not None else Decision.NOT_ALLOWED
    if decision is not Decision.ALLOWED:
        raise authorization_error(refusal_message(ctx.caller, action, resource, decision))


def _policy_of(conn: Connection, arn: str, caller_account: str) -> tuple[str, str | None, bool]:
    """(the topic the ARN acts on, its access policy, whether the caller owns the subscription named).
    A subscription is authorized through its topic unless the caller subscribed it."""
    parts = arn.split(":")
    topic_arn = ":".join(parts[:6])
    if len(parts) == 7:
        subscription = subscription_store.find(conn, arn)
        if subscription is not None and subscription.account_id == caller_account:
            return topic_arn, None, True
    elif len(parts) != 6 or "/" in parts[5]:  # a platform application or endpoint: no policy
        return arn, None, False
    topic = topic_store.find(conn, topic_arn)
    if topic is None:
        return topic_arn, None, False
    policy = topic.attributes.get("Policy") or policies.default_topic_policy(topic.arn, topic.key.account_id)
    return topic_arn, policy, False
