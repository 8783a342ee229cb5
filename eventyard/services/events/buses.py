"""Event buses: the per-account/region `default` bus, custom buses, and their resource policies."""

from __future__ import annotations

import json
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.partitions import root_principal
from eventyard.services.events import store
from eventyard.services.events.arns import DEFAULT_BUS, bus_arn
from eventyard.storage import Connection

KIND = "bus"


def ensure_default(conn: Connection, account: str, region: str, now: float) -> None:
    """AWS gives every account a `default` bus in every region; ours appears on first use."""
    if store.get(conn, KIND, account, region, DEFAULT_BUS) is None:
        store.put(conn, KIND, account, region, DEFAULT_BUS, {
            "Name": DEFAULT_BUS, "Arn": bus_arn(account, region, DEFAULT_BUS),
            "CreationTime": now, "LastModifiedTime": now,
        })


def get(conn: Connection, account: str, region: str, name: str, now: float) -> dict[str, Any]:
    if name == DEFAULT_BUS:
        ensure_default(conn, account, region, now)
    bus = store.get(conn, KIND, account, region, name)
    if bus is None:
        raise AwsError("ResourceNotFoundException", f"Event bus {name} does not exist.")
    return bus


def exists(conn: Connection, account: str, region: str, name: str) -> bool:
    return name == DEFAULT_BUS or store.get(conn, KIND, account, region, name) is not None


def create(conn: Connection, account: str, region: str, params: dict[str, Any], now: float) -> dict[str, Any]:
    name = params["Name"]
    if name == DEFAULT_BUS or store.get(conn, KIND, account, region, name) is not None:
        raise AwsError("ResourceAlreadyExistsException", f"Event bus {name} already exists.")
    if "/" in name and not name.startswith("aws.partner/"):
        raise AwsError("ValidationException", "Event bus name must not contain '/'.")
    if name.startswith("aws.partner/") and not params.get("EventSourceName"):
        raise AwsError("ValidationException", "Event source name must be specified for a partner event bus.")
    bus = {"Name": name, "Arn": bus_arn(account, region, name), "CreationTime": now, "LastModifiedTime": now}
    for key in ("Description", "KmsKeyIdentifier", "DeadLetterConfig", "LogConfig"):
        if key in params:
            bus[key] = params[key]
    store.put(conn, KIND, account, region, name, bus)
    if params.get("Tags"):
        store.set_tags(conn, bus["Arn"], params["Tags"])
    return bus


def update(conn: Connection, account: str, region: str, params: dict[str, Any], now: float) -> dict[str, Any]:
    name = params.get("Name") or DEFAULT_BUS
    bus = get(conn, account, region, name, now)
    for key in ("Description", "KmsKeyIdentifier", "DeadLetterConfig", "LogConfig"):
        if key in params:
            bus[key] = params[key]
    bus["LastModifiedTime"] = now
    store.put(conn, KIND, account, region, name, bus)
    return bus


def delete(conn: Connection, account: str, region: str, name: str) -> None:
    if name == DEFAULT_BUS:
        raise AwsError("ValidationException", "Cannot delete event bus default.")
    bus = store.get(conn, KIND, account, region, name)
    if bus is None:
        return  # AWS: deleting a bus that does not exist succeeds
    store.delete(conn, KIND, account, region, name)
    store.remove_tags(conn, bus["Arn"])
    conn.execute("DELETE FROM events_resources WHERE kind = 'rule' AND account_id = ? AND region = ?"
                 " AND substr(name, 1, ?) = ?", (account, region, len(name) + 1, f"{name}|"))


def put_permission(conn: Connection, account: str, region: str, params: dict[str, Any], now: float) -> None:
    name = params.get("EventBusName") or DEFAULT_BUS
    bus = get(conn, account, region, name, now)
    if params.get("Policy"):
        try:
            policy = json.loads(params["Policy"])
        except ValueError:
            raise AwsError("ValidationException", "Policy is not valid JSON.") from None
        bus["Policy"] = json.dumps(policy)
    else:
        action, principal, sid = params.get("Action"), params.get("Principal"), params.get("StatementId")
        if not action or not principal or not sid:
            raise AwsError("ValidationException",
                           "Parameter(s) Action, Principal and StatementId must be specified.")
        if action != "events:PutEvents":
            raise AwsError("ValidationException", "Provided value in parameter 'action' is not supported.")
        policy = json.loads(bus["Policy"]) if bus.get("Policy") else {"Version": "2012-10-17", "Statement": []}
        statement: dict[str, Any] = {
            "Sid": sid, "Effect": "Allow",
            "Principal": "*" if principal == "*" else {"AWS": root_principal(region, principal)},
            "Action": action, "Resource": bus["Arn"],
        }
        condition = params.get("Condition")
        if condition:
            statement["Condition"] = {condition["Type"]: {condition["Key"]: condition["Value"]}}
        # A statement id given again replaces that statement (recorded against AWS).
        policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != sid] + [statement]
        bus["Policy"] = json.dumps(policy)
    bus["LastModifiedTime"] = now
    store.put(conn, KIND, account, region, name, bus)


def remove_permission(conn: Connection, account: str, region: str, params: dict[str, Any],
                      now: float) -> None:
    name = params.get("EventBusName") or DEFAULT_BUS
    bus = get(conn, account, region, name, now)
    if not bus.get("Policy") and params.get("RemoveAllPermissions"):
        raise AwsError("ResourceNotFoundException", "EventBus does not have a policy.")
    if params.get("RemoveAllPermissions"):
        bus.pop("Policy")
    else:
        sid = params.get("StatementId")
        if not sid:
            raise AwsError("ValidationException", "Parameter StatementId must be specified.")
        policy = json.loads(bus.get("Policy") or '{"Statement": []}')
        kept = [s for s in policy.get("Statement", []) if s.get("Sid") != sid]
        if len(kept) == len(policy.get("Statement", [])):
            raise AwsError("ResourceNotFoundException", "Statement with the provided id does not exist.")
        if kept:
            policy["Statement"] = kept
            bus["Policy"] = json.dumps(policy)
        else:
            bus.pop("Policy")
    bus["LastModifiedTime"] = now
    store.put(conn, KIND, account, region, name, bus)


def describe(bus: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in bus.items() if not k.startswith("_")}
