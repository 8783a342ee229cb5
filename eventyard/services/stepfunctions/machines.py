"""State machines, their versions and aliases: functions of a connection (one transaction each)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from eventyard.asl.references import variable_references
from eventyard.protocol.errors import AwsError
from eventyard.services.stepfunctions.names import split_qualified
from eventyard.storage import Connection, Row

# AWS: a state machine has no revisionId until an update changes its definition, role or logging.
NO_REVISION = ""
DEFAULT_ENCRYPTION = {"type": "AWS_OWNED_KEY"}


def encryption(row: Row) -> dict[str, Any]:
    """A state machine's or activity's EncryptionConfiguration (AWS's default when none was given)."""
    return json.loads(row["encryption"]) if row["encryption"] else dict(DEFAULT_ENCRYPTION)


def definition_details(definition: str) -> dict[str, Any]:
    """What DescribeStateMachine derives from a definition: the variables each state reads."""
    references = variable_references(json.loads(definition))
    return {"variableReferences": references} if references else {}


def get(conn: Connection, arn: str) -> Row:
    row = conn.execute("SELECT * FROM sfn_state_machines WHERE arn = ?", (arn,)).fetchone()
    if row is None:
        raise AwsError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")
    return row


def create(conn: Connection, arn: str, account: str, region: str, params: dict[str, Any], now: float,
           definition_text: str) -> dict[str, Any]:
    existing = conn.execute("SELECT * FROM sfn_state_machines WHERE arn = ?", (arn,)).fetchone()
    if existing is not None:
        # AWS: CreateStateMachine is idempotent for an identical definition and role.
        if existing["definition"] == definition_text and existing["role_arn"] == params["roleArn"] and \
                existing["type"] == params.get("type", "STANDARD"):
            return {"stateMachineArn": arn, "creationDate": existing["created_at"]}
        raise AwsError("StateMachineAlreadyExists", f"State Machine Already Exists: '{arn}'")
    tags = {t["key"]: t.get("value", "") for t in params.get("tags", [])}
    conn.execute(
        "INSERT INTO sfn_state_machines (arn, account_id, region, name, type, definition, role_arn, description,"
        " logging, tracing, revision_id, created_at, updated_at, tags, encryption)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (arn, account, region, params["name"], params.get("type", "STANDARD"), definition_text, params["roleArn"],
         params.get("description"), json.dumps(params.get("loggingConfiguration") or {"level": "OFF",
                                                                                       "includeExecutionData": False}),
         json.dumps(params.get("tracingConfiguration") or {"enabled": False}), NO_REVISION, now, now,
         json.dumps(tags), _encryption_param(params)),
    )
    out: dict[str, Any] = {"stateMachineArn": arn, "creationDate": now}
    if params.get("publish"):
        out["stateMachineVersionArn"] = publish(conn, arn, params.get("versionDescription"), now)
    return out


def _encryption_param(params: dict[str, Any]) -> str | None:
    given = params.get("encryptionConfiguration")
    return json.dumps(given) if given else None


def publish(conn: Connection, arn: str, description: str | None, now: float) -> str:
    machine = get(conn, arn)
    latest = conn.execute("SELECT * FROM sfn_versions WHERE machine_arn = ? ORDER BY version DESC LIMIT 1",
                          (arn,)).fetchone()
    if latest is not None and latest["revision_id"] == machine["revision_id"]:
        return str(latest["arn"])  # AWS: publishing an unchanged revision returns the existing version
    number = machine["next_version"]
    version_arn = f"{arn}:{number}"
    conn.execute("INSERT INTO sfn_versions VALUES (?,?,?,?,?,?,?,?)",
                 (version_arn, arn, number, machine["definition"], machine["role_arn"], description,
                  machine["revision_id"], now))
    conn.execute("UPDATE sfn_state_machines SET next_version = next_version + 1 WHERE arn = ?", (arn,))
    return version_arn


def update(conn: Connection, arn: str, params: dict[str, Any], definition_text: str | None,
           now: float) -> dict[str, Any]:
    machine = get(conn, arn)
    revision = machine["revision_id"]
    changed = (definition_text is not None and definition_text != machine["definition"]) or \
        ("roleArn" in params and params["roleArn"] != machine["role_arn"]) or \
        ("loggingConfiguration" in params and params["loggingConfiguration"] != json.loads(machine["logging"] or "{}"))
    if changed:  # AWS: an update that changes none of these keeps the revision (and publishing it, the version)
        revision = str(uuid.uuid4())
    conn.execute(
        "UPDATE sfn_state_machines SET definition = ?, role_arn = ?, logging = ?, tracing = ?, revision_id = ?,"
        " updated_at = ?, encryption = ? WHERE arn = ?",
        (definition_text or machine["definition"], params.get("roleArn", machine["role_arn"]),
         json.dumps(params["loggingConfiguration"]) if "loggingConfiguration" in params else machine["logging"],
         json.dumps(params["tracingConfiguration"]) if "tracingConfiguration" in params else machine["tracing"],
         revision, now, _encryption_param(params) or machine["encryption"], arn))
    out: dict[str, Any] = {"updateDate": now}
    if revision != NO_REVISION:
        out["revisionId"] = revision
    if params.get("publish"):
        out["stateMachineVersionArn"] = publish(conn, arn, params.get("versionDescription"), now)
    return out


def delete(conn: Connection, arn: str) -> None:
    conn.execute("DELETE FROM sfn_state_machines WHERE arn = ?", (arn,))
    conn.execute("DELETE FROM sfn_versions WHERE machine_arn = ?", (arn,))
    conn.execute("DELETE FROM sfn_aliases WHERE machine_arn = ?", (arn,))


def describe(row: Row) -> dict[str, Any]:
    out = {"stateMachineArn": row["arn"], "name": row["name"], "status": "ACTIVE", "definition": row["definition"],
           "roleArn": row["role_arn"], "type": row["type"], "creationDate": row["created_at"],
           "loggingConfiguration": json.loads(row["logging"] or "{}"),
           "tracingConfiguration": json.loads(row["tracing"] or "{}"), "encryptionConfiguration": encryption(row),
           **definition_details(row["definition"])}
    if row["revision_id"] != NO_REVISION:
        out["revisionId"] = row["revision_id"]
    if row["description"]:
        out["description"] = row["description"]
    return out


def resolve(conn: Connection, arn: str) -> tuple[Row, str, str, str | None, str | None]:
    """A state machine, version or alias ARN -> (machine, definition, role, version_arn, alias_arn)."""
    base, qualifier = split_qualified(arn)
    machine = get(conn, base)
    if qualifier is None:
        return machine, machine["definition"], machine["role_arn"], None, None
    if qualifier.isdigit():
        version = conn.execute("SELECT * FROM sfn_versions WHERE arn = ?", (arn,)).fetchone()
        if version is None:
            raise AwsError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")
        return machine, version["definition"], version["role_arn"], arn, None
    alias = conn.execute("SELECT * FROM sfn_aliases WHERE arn = ?", (arn,)).fetchone()
    if alias is None:
        raise AwsError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")
    routes = json.loads(alias["routing"])
    import random

    pick = random.uniform(0, 100)
    chosen = routes[0]["stateMachineVersionArn"]
    for route in routes:
        pick -= route["weight"]
        if pick <= 0:
            chosen = route["stateMachineVersionArn"]
            break
    version = conn.execute("SELECT * FROM sfn_versions WHERE arn = ?", (chosen,)).fetchone()
    return machine, version["definition"], version["role_arn"], chosen, arn


def version_row(conn: Connection, arn: str) -> Row:
    row = conn.execute("SELECT * FROM sfn_versions WHERE arn = ?", (arn,)).fetchone()
    if row is None:
        raise AwsError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")
    return row


def alias_row(conn: Connection, arn: str) -> Row:
    row = conn.execute("SELECT * FROM sfn_aliases WHERE arn = ?", (arn,)).fetchone()
    if row is None:
        raise AwsError("ResourceNotFound", f"Resource not found: '{arn}'")
    return row
