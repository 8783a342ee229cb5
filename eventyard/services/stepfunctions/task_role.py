"""A task with `Credentials`: the execution role assumes the named role, and the task's calls act as that
role in the role's own account (AWS's cross-account tasks).

The role must exist and its trust policy must let the execution role (its ARN, its account, or "*")
assume it, as STS's AssumeRole requires. AWS documents no wording of its own for a task that cannot
assume its role, so the task fails with STS's AccessDenied message for AssumeRole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventyard.asl.errors import StatesError
from eventyard.runtime.access import Caller
from eventyard.runtime.ports import IDENTITIES
from eventyard.storage import Connection

if TYPE_CHECKING:
    from eventyard.services.stepfunctions.host import ServiceHost

SESSION = "states"  # the session name the execution role's calls carry (as integrations.call names it)


async def assume(host: ServiceHost, role_arn: str) -> ServiceHost:
    """The host a task with Credentials `role_arn` runs its calls through; refused as AssumeRole refuses."""
    target = Caller.role_session(role_arn, SESSION)
    if target is None:
        raise _denied(host, role_arn)
    identities = host.runner.platform.ports.find(IDENTITIES)
    if identities is not None:  # a platform assembled without IAM (engine tests) has no roles to check
        session = _execution_session(host)

        def allowed(conn: Connection) -> bool:
            role = identities.role(conn, role_arn)
            return role is not None and identities.trusts(role, session, host.account)

        if not await host.runner.platform.db.read(allowed):
            raise _denied(host, role_arn)
    return host.acting_as(role_arn, target.account_id)


def _execution_session(host: ServiceHost) -> str:
    caller = Caller.role_session(host.role_arn or "", SESSION)
    return caller.principal if caller is not None else f"arn:aws:iam::{host.account}:root"


def _denied(host: ServiceHost, role_arn: str) -> StatesError:
    return StatesError("States.TaskFailed", f"User: {_execution_session(host)} is not authorized to perform: "
                                            f"sts:AssumeRole on resource: {role_arn}")
