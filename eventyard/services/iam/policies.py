"""Managed policies: customer managed ones (stored, with up to five versions) and the AWS managed
ones tools attach by ARN (`arn:aws:iam::aws:policy/...`, read from aws_managed_policies.json)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.protocol.values import parse_timestamp
from eventyard.services.iam import errors, names
from eventyard.services.iam.documents import wire
from eventyard.storage import Connection, Row

MAX_VERSIONS = 5


@dataclass
class Policy:
    account_id: str  # "aws" for AWS managed policies
    arn: str
    name: str
    policy_id: str
    path: str
    description: str | None
    default_version: str
    created_at: float
    updated_at: float
    tags: list[dict[str, str]] = field(default_factory=list)
    next_version: int = 2

    @property
    def aws_managed(self) -> bool:
        return self.account_id == "aws"

    @classmethod
    def from_row(cls, row: Row) -> Policy:
        return cls(row["account_id"], row["arn"], row["name"], row["policy_id"], row["path"], row["description"],
                   row["default_version"], row["created_at"], row["updated_at"], json.loads(row["tags"]),
                   row["next_version"])


@cache
def _aws_managed() -> dict[str, tuple[Policy, str]]:
    """arn -> (policy, default version's document), loaded once: the file never changes at run time."""
    data = json.loads((Path(__file__).parent / "aws_managed_policies.json").read_text())
    found = {}
    for item in data["policies"]:
        arn = f"arn:aws:iam::aws:policy{item['Path']}{item['PolicyName']}"
        digest = int(hashlib.sha256(arn.encode()).hexdigest(), 16)
        policy_id = "ANPA" + "".join("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[(digest >> (5 * i)) & 31] for i in range(17))
        policy = Policy("aws", arn, item["PolicyName"], policy_id, item["Path"], item["Description"],
                        item["DefaultVersionId"], parse_timestamp(item["CreateDate"]),
                        parse_timestamp(item["UpdateDate"]))
        found[arn] = (policy, json.dumps(item["Document"], indent=2))
    return found


def aws_managed_policies() -> list[Policy]:
    return [policy for policy, _ in _aws_managed().values()]


def create(conn: Connection, account_id: str, name: str, path: str, document: str, now: float,
           description: str | None, tags: list[dict[str, str]]) -> Policy:
    arn = names.policy_arn(account_id, path, name)
    taken = conn.execute("SELECT 1 FROM iam_policies WHERE account_id = ? AND name_key = ?",
                         (account_id, names.name_key(name))).fetchone()
    if taken is not None:
        raise AwsError("EntityAlreadyExists", f"A policy called {name} already exists. Duplicate names are not allowed.",
                       409)
    policy = Policy(account_id, arn, name, names.new_entity_id("policy"), path, description, "v1", now, now, tags)
    conn.execute("INSERT INTO iam_policies (account_id, arn, name_key, name, policy_id, path, description, "
                 "default_version, next_version, created_at, updated_at, tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (account_id, arn, names.name_key(name), name, policy.policy_id, path, description, "v1", 2, now, now,
                  json.dumps(tags)))
    conn.execute("INSERT INTO iam_policy_versions (account_id, arn, version_id, document, created_at) "
                 "VALUES (?, ?, ?, ?, ?)", (account_id, arn, "v1", document, now))
    return policy


def find(conn: Connection, account_id: str, arn: str) -> Policy | None:
    if arn in _aws_managed():
        return _aws_managed()[arn][0]
    row = conn.execute("SELECT * FROM iam_policies WHERE account_id = ? AND arn = ?", (account_id, arn)).fetchone()
    return None if row is None else Policy.from_row(row)


def get(conn: Connection, account_id: str, arn: str) -> Policy:
    policy = find(conn, account_id, arn)
    if policy is None:
        raise errors.no_such_policy(arn)
    return policy


def attachable(conn: Connection, account_id: str, arn: str) -> Policy:
    policy = find(conn, account_id, arn)
    if policy is None:
        raise errors.not_attachable(arn)
    return policy


def listing(conn: Connection, account_id: str, scope: str, path_prefix: str) -> list[Policy]:
    found: list[Policy] = []
    if scope in ("All", "AWS"):
        found += aws_managed_policies()
    if scope in ("All", "Local"):
        rows = conn.execute("SELECT * FROM iam_policies WHERE account_id = ? ORDER BY name_key", (account_id,))
        found += [Policy.from_row(row) for row in rows]
    return sorted((p for p in found if p.path.startswith(path_prefix)), key=lambda p: (p.name.lower(), p.arn))


def attachment_count(conn: Connection, account_id: str, arn: str) -> int:
    row = conn.execute("SELECT COUNT(*) AS n FROM iam_attachments WHERE account_id = ? AND policy_arn = ?",
                       (account_id, arn)).fetchone()
    return int(row["n"])


def delete(conn: Connection, policy: Policy) -> None:
    if policy.aws_managed:
        raise AwsError("AccessDenied", f"Cannot delete the AWS managed policy {policy.arn}.", 403)
    if attachment_count(conn, policy.account_id, policy.arn):
        raise errors.delete_conflict("Cannot delete a policy attached to entities.")
    versions = conn.execute("SELECT COUNT(*) AS n FROM iam_policy_versions WHERE account_id = ? AND arn = ?",
                            (policy.account_id, policy.arn)).fetchone()
    if int(versions["n"]) > 1:
        raise errors.delete_conflict("This policy has more than one version. Before you delete a policy, you must "
                                     "delete the policy's versions. The default version is deleted with the policy.")
    conn.execute("DELETE FROM iam_policy_versions WHERE account_id = ? AND arn = ?", (policy.account_id, policy.arn))
    conn.execute("DELETE FROM iam_policies WHERE account_id = ? AND arn = ?", (policy.account_id, policy.arn))


# --- versions --------------------------------------------------------------------------------
@dataclass
class Version:
    version_id: str
    document: str
    created_at: float
    is_default: bool

    def shape(self, with_document: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"VersionId": self.version_id, "IsDefaultVersion": self.is_default,
                               "CreateDate": self.created_at}
        if with_document:
            out["Document"] = wire(self.document)
        return out


def versions(conn: Connection, policy: Policy) -> list[Version]:
    if policy.aws_managed:
        _, document = _aws_managed()[policy.arn]
        return [Version(policy.default_version, document, policy.updated_at, True)]
    rows = conn.execute("SELECT version_id, document, created_at FROM iam_policy_versions WHERE account_id = ? "
                        "AND arn = ?", (policy.account_id, policy.arn)).fetchall()
    found = [Version(r["version_id"], r["document"], r["created_at"], r["version_id"] == policy.default_version)
             for r in rows]
    return sorted(found, key=lambda v: -int(v.version_id[1:]))


def version(conn: Connection, policy: Policy, version_id: str) -> Version:
    for candidate in versions(conn, policy):
        if candidate.version_id == version_id:
            return candidate
    raise errors.no_such_version(policy.arn, version_id)


def add_version(conn: Connection, policy: Policy, document: str, set_default: bool, now: float) -> Version:
    if policy.aws_managed:
        raise AwsError("AccessDenied", f"Cannot create a version of the AWS managed policy {policy.arn}.", 403)
    if len(versions(conn, policy)) >= MAX_VERSIONS:
        raise errors.limit_exceeded("A managed policy can have up to 5 versions. Before you create a new version, "
                                    "you must delete an existing version.")
    version_id = f"v{policy.next_version}"
    conn.execute("INSERT INTO iam_policy_versions (account_id, arn, version_id, document, created_at) "
                 "VALUES (?, ?, ?, ?, ?)", (policy.account_id, policy.arn, version_id, document, now))
    default = version_id if set_default else policy.default_version
    conn.execute("UPDATE iam_policies SET next_version = next_version + 1, default_version = ?, updated_at = ? "
                 "WHERE account_id = ? AND arn = ?", (default, now, policy.account_id, policy.arn))
    return Version(version_id, document, now, set_default)


def delete_version(conn: Connection, policy: Policy, version_id: str) -> None:
    target = version(conn, policy, version_id)
    if target.is_default:
        raise errors.delete_conflict("Cannot delete the default version of a policy.")
    conn.execute("DELETE FROM iam_policy_versions WHERE account_id = ? AND arn = ? AND version_id = ?",
                 (policy.account_id, policy.arn, version_id))


def set_default_version(conn: Connection, policy: Policy, version_id: str, now: float) -> None:
    version(conn, policy, version_id)
    conn.execute("UPDATE iam_policies SET default_version = ?, updated_at = ? WHERE account_id = ? AND arn = ?",
                 (version_id, now, policy.account_id, policy.arn))


def tag(conn: Connection, policy: Policy, tags: list[dict[str, str]], remove: list[str] | None = None) -> None:
    merged = {t["Key"]: t["Value"] for t in policy.tags if t["Key"] not in set(remove or [])}
    merged.update({t["Key"]: t.get("Value", "") for t in tags})
    conn.execute("UPDATE iam_policies SET tags = ? WHERE account_id = ? AND arn = ?",
                 (json.dumps([{"Key": k, "Value": v} for k, v in merged.items()]), policy.account_id, policy.arn))
