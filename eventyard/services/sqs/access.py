"""Who may act on another account's queue: the queue's `Policy` attribute decides (AddPermission
writes it too), as on AWS. Only asked when authentication is on and the queue URL or ARN a request
names belongs to another account than the caller's (runtime/access.py)."""

from __future__ import annotations

from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.access import Caller, Decision, crosses_accounts, evaluate, refusal_message
from eventyard.services.sqs import move_tasks
from eventyard.services.sqs import queues as queue_store
from eventyard.services.sqs.names import QueueKey, key_from_arn, key_from_url

# A batch is authorized as its single form: IAM has no sqs:SendMessageBatch action.
_ACTIONS = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
            "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}


def action_of(operation: str) -> str:
    return f"sqs:{_ACTIONS.get(operation, operation)}"


def access_denied(caller: Caller, action: str, queue_arn: str, decision: Decision) -> AwsError:
    """SQS names the action in lower case (recorded: `sqs:sendmessage`)."""
    return AwsError("AccessDenied", refusal_message(caller, action.lower(), queue_arn, decision), 403)


def queue_named(ctx: Any, operation: str, params: dict[str, Any]) -> QueueKey | None:
    """The queue a request acts on, when it names one (a malformed name is left to the operation)."""
    try:
        if "QueueUrl" in params:
            return key_from_url(params["QueueUrl"], ctx.region, ctx.account_id)
        if operation == "GetQueueUrl":
            return QueueKey(params.get("QueueOwnerAWSAccountId") or ctx.account_id, ctx.region, params["QueueName"])
        if "SourceArn" in params:
            return key_from_arn(params["SourceArn"])
        if "TaskHandle" in params:
            return key_from_arn(move_tasks.handle_source(params["TaskHandle"]))
    except AwsError:
        return None
    return None


async def authorize(platform: Any, ctx: Any, operation: str, params: dict[str, Any]) -> None:
    key = queue_named(ctx, operation, params)
    if key is None or not crosses_accounts(ctx.caller, key.account_id):
        return
    queue = await platform.db.read(lambda conn: queue_store.find(conn, key))
    # A queue that does not exist grants nothing: AWS answers AccessDenied, not QueueDoesNotExist.
    policy = queue.attributes.get("Policy") if queue is not None else None
    action = action_of(operation)
    decision = evaluate(policy, ctx.caller, action, key.arn)
    if decision is not Decision.ALLOWED:
        raise access_denied(ctx.caller, action, key.arn, decision)
