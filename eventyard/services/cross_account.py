"""Services whose resources have no resource policy (Step Functions, Logs, Scheduler, CloudWatch,
Pipes, Schemas' tags): a request that names another account's resource by its ARN is refused, as
AWS refuses it, before anything is looked up (runtime/access.py has the words)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.access import Decision, arn_account, crosses_accounts, refusal_message


def refuse_other_accounts(ctx: Any, action: str, params: dict[str, Any], parameters: Iterable[str],
                          error: Callable[[str], AwsError]) -> None:
    """Raise `error(message)` when one of `parameters` names a resource of another account."""
    for name in parameters:
        arn = params.get(name)
        account = arn_account(arn)
        if account is not None and crosses_accounts(ctx.caller, account):
            raise error(refusal_message(ctx.caller, action, str(arn), Decision.NOT_ALLOWED))
