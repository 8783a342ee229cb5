"""Tags by resource ARN (TagResource, UntagResource, ListTags): functions, event source mappings and
code signing configs, each found in its own table and refused in its own words when missing.

A function keeps its tags with its other settings (lambda_function_meta) and tagging it gives its
$LATEST a new RevisionId, as AWS does; the other kinds keep theirs in lambda_resource_tags."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.lambda_ import functions
from eventyard.services.lambda_.names import RESOURCE_PATTERN, FunctionRef, parse_ref
from eventyard.storage import Connection

_RESOURCE = re.compile(RESOURCE_PATTERN)
MAX_TAGS = 50
_NOT_FOUND = {"event-source-mapping": "Event source mapping", "capacity-provider": "Capacity provider",
              "code-signing-config": "Code signing config", "layer": "Layer"}


def invalid_resource(arn: str) -> AwsError:
    return AwsError("ValidationException", f"1 validation error detected: Value '{arn}' at 'resource' failed to "
                                           f"satisfy constraint: Member must satisfy regular expression pattern: "
                                           f"{RESOURCE_PATTERN}")


@dataclass(frozen=True)
class Target:
    kind: str  # function, event-source-mapping, code-signing-config, capacity-provider, layer
    arn: str
    function: FunctionRef | None = None


def target(arn: str, region: str, account_id: str) -> Target:
    if _RESOURCE.fullmatch(arn) is None:
        raise invalid_resource(arn)
    kind = arn.split(":")[5]
    if kind != "function":
        return Target(kind, arn)
    ref = parse_ref(arn, region, account_id)
    if ref.qualifier is not None:
        raise AwsError("InvalidParameterValueException",
                       "Tags on function aliases and versions are not supported. Please specify a function ARN.")
    return Target(kind, arn, ref)


def _exists(conn: Connection, item: Target) -> bool:
    parts = item.arn.split(":")
    if item.kind == "event-source-mapping":
        return conn.execute("SELECT 1 FROM lambda_event_source_mappings WHERE uuid=? AND account_id=? AND "
                            "region=?", (parts[6], parts[4], parts[3])).fetchone() is not None
    if item.kind == "code-signing-config":
        return conn.execute("SELECT 1 FROM lambda_code_signing_configs WHERE csc_id=? AND account_id=? AND "
                            "region=?", (parts[6], parts[4], parts[3])).fetchone() is not None
    return False  # capacity providers and layers carry no tags here


def read(conn: Connection, item: Target) -> dict[str, str]:
    if item.function is not None:
        return dict(json.loads(functions.meta(conn, item.function)["tags"]))
    if not _exists(conn, item):
        raise AwsError("ResourceNotFoundException", f"{_NOT_FOUND[item.kind]} not found: {item.arn}", 404)
    row = conn.execute("SELECT tags FROM lambda_resource_tags WHERE arn=?", (item.arn,)).fetchone()
    return dict(json.loads(row["tags"])) if row else {}


def write(conn: Connection, item: Target, tags: dict[str, str]) -> None:
    if item.function is not None:
        functions.set_meta(conn, item.function, "tags", json.dumps(tags))
        _new_revision(conn, item.function)
        return
    conn.execute("INSERT INTO lambda_resource_tags (arn, tags) VALUES (?,?) ON CONFLICT (arn) DO UPDATE SET"
                 " tags = excluded.tags", (item.arn, json.dumps(tags)))


def forget(conn: Connection, arn: str) -> None:
    """A deleted resource's tags go with it."""
    conn.execute("DELETE FROM lambda_resource_tags WHERE arn=?", (arn,))


def check_count(tags: dict[str, Any]) -> None:
    if len(tags) > MAX_TAGS:
        raise AwsError("InvalidParameterValueException", "Number of tags exceeds resource tag limit.")


def add(conn: Connection, item: Target, given: dict[str, str]) -> None:
    if not given:
        raise AwsError("InvalidParameterValueException", "An error occurred and the request cannot be processed.")
    tags = read(conn, item)
    tags.update(given)
    check_count(tags)
    write(conn, item, tags)


def remove(conn: Connection, item: Target, keys: list[str]) -> None:
    tags = read(conn, item)
    for key in keys:
        tags.pop(key, None)
    write(conn, item, tags)


def _new_revision(conn: Connection, ref: FunctionRef) -> None:
    """AWS gives the function a new RevisionId when its tags change."""
    current = functions.get_version(conn, ref, functions.LATEST)
    config = dict(current.config, RevisionId=str(uuid.uuid4()))
    conn.execute("UPDATE lambda_functions SET config=? WHERE account_id=? AND region=? AND name=? AND version=?",
                 (json.dumps(config), ref.account_id, ref.region, ref.name, functions.LATEST))
