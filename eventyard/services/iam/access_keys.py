"""IAM users' long-term access keys: at most two per user, Active or Inactive, the secret shown
once (CreateAccessKey) and never listed again, as AWS does."""

from __future__ import annotations

from dataclasses import dataclass

from eventyard.services.iam import errors, names
from eventyard.services.iam.entities import Entity
from eventyard.storage import Connection, Row

MAX_KEYS_PER_USER = 2


@dataclass
class AccessKey:
    access_key_id: str
    account_id: str
    user_key: str
    secret_access_key: str
    status: str
    created_at: float

    @classmethod
    def from_row(cls, row: Row) -> AccessKey:
        return cls(row["access_key_id"], row["account_id"], row["user_key"], row["secret_access_key"], row["status"],
                   row["created_at"])


def create(conn: Connection, user: Entity, now: float) -> AccessKey:
    count = conn.execute("SELECT COUNT(*) AS n FROM iam_access_keys WHERE account_id = ? AND user_key = ?",
                         (user.account_id, user.key)).fetchone()
    if int(count["n"]) >= MAX_KEYS_PER_USER:
        raise errors.limit_exceeded(f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}")
    key = AccessKey(names.new_access_key_id(), user.account_id, user.key, names.new_secret_access_key(), "Active", now)
    conn.execute("INSERT INTO iam_access_keys (access_key_id, account_id, user_key, secret_access_key, status, "
                 "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                 (key.access_key_id, key.account_id, key.user_key, key.secret_access_key, key.status, now))
    return key


def of_user(conn: Connection, user: Entity) -> list[AccessKey]:
    rows = conn.execute("SELECT * FROM iam_access_keys WHERE account_id = ? AND user_key = ? ORDER BY created_at",
                        (user.account_id, user.key))
    return [AccessKey.from_row(row) for row in rows]


def find(conn: Connection, access_key_id: str) -> AccessKey | None:
    row = conn.execute("SELECT * FROM iam_access_keys WHERE access_key_id = ?", (access_key_id,)).fetchone()
    return None if row is None else AccessKey.from_row(row)


def _owned(conn: Connection, user: Entity, access_key_id: str) -> AccessKey:
    key = find(conn, access_key_id)
    if key is None or key.account_id != user.account_id or key.user_key != user.key:
        raise errors.no_such_access_key(access_key_id)
    return key


def set_status(conn: Connection, user: Entity, access_key_id: str, status: str) -> None:
    _owned(conn, user, access_key_id)
    conn.execute("UPDATE iam_access_keys SET status = ? WHERE access_key_id = ?", (status, access_key_id))


def delete(conn: Connection, user: Entity, access_key_id: str) -> None:
    _owned(conn, user, access_key_id)
    conn.execute("DELETE FROM iam_access_keys WHERE access_key_id = ?", (access_key_id,))
