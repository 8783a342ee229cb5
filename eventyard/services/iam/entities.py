"""Named IAM entities (roles, users, groups, instance profiles): create, read, list, delete, tag,
and what hangs off them (inline policies, attached managed policies, memberships).

Functions take a storage `Connection`; the provider runs them inside one transaction each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eventyard.services.iam import errors, names
from eventyard.storage import Connection, Row


@dataclass
class Entity:
    account_id: str
    kind: str
    name: str
    entity_id: str
    path: str
    created_at: float
    trust_policy: str | None
    description: str | None
    max_session_duration: int | None
    permissions_boundary: str | None
    tags: list[dict[str, str]]

    @property
    def key(self) -> str:
        return names.name_key(self.name)

    @property
    def arn(self) -> str:
        return names.entity_arn(self.account_id, self.kind, self.path, self.name)

    @classmethod
    def from_row(cls, row: Row) -> Entity:
        return cls(row["account_id"], row["kind"], row["name"], row["entity_id"], row["path"], row["created_at"],
                   row["trust_policy"], row["description"], row["max_session_duration"], row["permissions_boundary"],
                   json.loads(row["tags"]))


def create(conn: Connection, account_id: str, kind: str, name: str, path: str, now: float, *,
           trust_policy: str | None = None, description: str | None = None, max_session_duration: int | None = None,
           permissions_boundary: str | None = None, tags: list[dict[str, str]] | None = None) -> Entity:
    entity = Entity(account_id, kind, name, names.new_entity_id(kind), path, now, trust_policy, description,
                    max_session_duration, permissions_boundary, list(tags or []))
    inserted = conn.execute(
        "INSERT INTO iam_entities (account_id, kind, name_key, name, entity_id, path, created_at, trust_policy, "
        "description, max_session_duration, permissions_boundary, tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (account_id, kind, name_key) DO NOTHING",
        (account_id, kind, entity.key, name, entity.entity_id, path, now, trust_policy, description,
         max_session_duration, permissions_boundary, json.dumps(entity.tags)))
    if inserted.rowcount == 0:
        raise errors.already_exists(kind, name)
    return entity


def find(conn: Connection, account_id: str, kind: str, name: str) -> Entity | None:
    row = conn.execute("SELECT * FROM iam_entities WHERE account_id = ? AND kind = ? AND name_key = ?",
                       (account_id, kind, names.name_key(name))).fetchone()
    return None if row is None else Entity.from_row(row)


def get(conn: Connection, account_id: str, kind: str, name: str) -> Entity:
    entity = find(conn, account_id, kind, name)
    if entity is None:
        raise errors.no_such_entity(kind, name)
    return entity


def listing(conn: Connection, account_id: str, kind: str, path_prefix: str = "/") -> list[Entity]:
    rows = conn.execute("SELECT * FROM iam_entities WHERE account_id = ? AND kind = ? ORDER BY name_key",
                        (account_id, kind)).fetchall()
    return [e for e in map(Entity.from_row, rows) if e.path.startswith(path_prefix)]


def update(conn: Connection, entity: Entity, **columns: Any) -> None:
    assignments = ", ".join(f"{column} = ?" for column in columns)
    conn.execute(f"UPDATE iam_entities SET {assignments} WHERE account_id = ? AND kind = ? AND name_key = ?",
                 (*columns.values(), entity.account_id, entity.kind, entity.key))


def delete(conn: Connection, entity: Entity) -> None:
    conn.execute("DELETE FROM iam_entities WHERE account_id = ? AND kind = ? AND name_key = ?",
                 (entity.account_id, entity.kind, entity.key))


# --- tags ------------------------------------------------------------------------------------
def tag(conn: Connection, entity: Entity, tags: list[dict[str, str]]) -> None:
    merged = {t["Key"]: t["Value"] for t in entity.tags}
    merged.update({t["Key"]: t.get("Value", "") for t in tags})
    if len(merged) > 50:
        raise errors.limit_exceeded(f"Cannot exceed quota for TagsPer{entity.kind.capitalize()}: 50")
    update(conn, entity, tags=json.dumps([{"Key": k, "Value": v} for k, v in merged.items()]))


def untag(conn: Connection, entity: Entity, keys: list[str]) -> None:
    update(conn, entity, tags=json.dumps([t for t in entity.tags if t["Key"] not in set(keys)]))


# --- inline policies -------------------------------------------------------------------------
def put_inline_policy(conn: Connection, entity: Entity, policy_name: str, document: str) -> None:
    conn.execute(
        "INSERT INTO iam_inline_policies (account_id, kind, name_key, policy_name, document) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (account_id, kind, name_key, policy_name) DO UPDATE SET document = excluded.document",
        (entity.account_id, entity.kind, entity.key, policy_name, document))


def get_inline_policy(conn: Connection, entity: Entity, policy_name: str) -> str:
    row = conn.execute("SELECT document FROM iam_inline_policies WHERE account_id = ? AND kind = ? AND name_key = ? "
                       "AND policy_name = ?", (entity.account_id, entity.kind, entity.key, policy_name)).fetchone()
    if row is None:
        raise errors.no_such_inline_policy(entity.kind, policy_name)
    return str(row["document"])


def delete_inline_policy(conn: Connection, entity: Entity, policy_name: str) -> None:
    deleted = conn.execute("DELETE FROM iam_inline_policies WHERE account_id = ? AND kind = ? AND name_key = ? "
                           "AND policy_name = ?", (entity.account_id, entity.kind, entity.key, policy_name))
    if deleted.rowcount == 0:
        raise errors.no_such_inline_policy(entity.kind, policy_name)


def inline_policy_names(conn: Connection, entity: Entity) -> list[str]:
    rows = conn.execute("SELECT policy_name FROM iam_inline_policies WHERE account_id = ? AND kind = ? "
                        "AND name_key = ? ORDER BY policy_name", (entity.account_id, entity.kind, entity.key))
    return [row["policy_name"] for row in rows]


# --- attached managed policies ---------------------------------------------------------------
def attach(conn: Connection, entity: Entity, policy_arn: str) -> None:
    conn.execute("INSERT INTO iam_attachments (account_id, kind, name_key, policy_arn) VALUES (?, ?, ?, ?) "
                 "ON CONFLICT (account_id, kind, name_key, policy_arn) DO NOTHING",
                 (entity.account_id, entity.kind, entity.key, policy_arn))


def detach(conn: Connection, entity: Entity, policy_arn: str) -> None:
    deleted = conn.execute("DELETE FROM iam_attachments WHERE account_id = ? AND kind = ? AND name_key = ? "
                           "AND policy_arn = ?", (entity.account_id, entity.kind, entity.key, policy_arn))
    if deleted.rowcount == 0:
        raise errors.AwsError("NoSuchEntity", f"Policy {policy_arn} was not found.", 404)


def attached_policy_arns(conn: Connection, entity: Entity) -> list[str]:
    rows = conn.execute("SELECT policy_arn FROM iam_attachments WHERE account_id = ? AND kind = ? AND name_key = ? "
                        "ORDER BY policy_arn", (entity.account_id, entity.kind, entity.key))
    return [row["policy_arn"] for row in rows]


def attached_to(conn: Connection, account_id: str, policy_arn: str) -> list[tuple[str, str]]:
    """(kind, name key) of every entity of the account the policy is attached to."""
    rows = conn.execute("SELECT kind, name_key FROM iam_attachments WHERE account_id = ? AND policy_arn = ?",
                        (account_id, policy_arn))
    return [(row["kind"], row["name_key"]) for row in rows]


# --- memberships (users in groups, roles in instance profiles) -------------------------------
def add_member(conn: Connection, container: Entity, member: Entity) -> bool:
    added = conn.execute("INSERT INTO iam_memberships (account_id, container_kind, container_key, member_key) "
                         "VALUES (?, ?, ?, ?) ON CONFLICT (account_id, container_kind, container_key, member_key) "
                         "DO NOTHING", (container.account_id, container.kind, container.key, member.key))
    return added.rowcount > 0


def remove_member(conn: Connection, container: Entity, member: Entity) -> bool:
    removed = conn.execute("DELETE FROM iam_memberships WHERE account_id = ? AND container_kind = ? "
                           "AND container_key = ? AND member_key = ?",
                           (container.account_id, container.kind, container.key, member.key))
    return removed.rowcount > 0


def members(conn: Connection, container: Entity, member_kind: str) -> list[Entity]:
    rows = conn.execute(
        "SELECT e.* FROM iam_memberships m JOIN iam_entities e ON e.account_id = m.account_id AND e.kind = ? "
        "AND e.name_key = m.member_key WHERE m.account_id = ? AND m.container_kind = ? AND m.container_key = ? "
        "ORDER BY e.name_key", (member_kind, container.account_id, container.kind, container.key))
    return [Entity.from_row(row) for row in rows]


def containers_of(conn: Connection, member: Entity, container_kind: str) -> list[Entity]:
    rows = conn.execute(
        "SELECT e.* FROM iam_memberships m JOIN iam_entities e ON e.account_id = m.account_id AND e.kind = ? "
        "AND e.name_key = m.container_key WHERE m.account_id = ? AND m.container_kind = ? AND m.member_key = ? "
        "ORDER BY e.name_key", (container_kind, member.account_id, container_kind, member.key))
    return [Entity.from_row(row) for row in rows]


def forget_member(conn: Connection, member: Entity, container_kind: str) -> None:
    conn.execute("DELETE FROM iam_memberships WHERE account_id = ? AND container_kind = ? AND member_key = ?",
                 (member.account_id, container_kind, member.key))
