"""IAM's identifiers: entity ids with their kind's prefix, ARNs, and the case-insensitive name keys
that make names unique (IAM refuses "Admin" next to "admin")."""

from __future__ import annotations

import secrets
import string

from eventyard.runtime.ids import new_token

# What an id starts with, by kind (AWS's unique-id prefixes).
ID_PREFIX = {"role": "AROA", "user": "AIDA", "group": "AGPA", "instance-profile": "AIPA", "policy": "ANPA"}
_ID_ALPHABET = string.ascii_uppercase + "234567"  # AWS ids and access key ids are base32-like


def name_key(name: str) -> str:
    return name.lower()


def new_entity_id(kind: str) -> str:
    bits = int(new_token(96), 16)
    return ID_PREFIX[kind] + "".join(_ID_ALPHABET[(bits >> (5 * i)) & 31] for i in range(17))


def entity_arn(account_id: str, kind: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:{kind}{path}{name}"


def policy_arn(account_id: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:policy{path}{name}"


def new_access_key_id(prefix: str = "AKIA") -> str:
    """Access key ids are credentials' public half: AKIA... for long-term keys, ASIA... for STS's."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def new_secret_access_key() -> str:
    return secrets.token_urlsafe(30)[:40]


def parse_role_arn(arn: str) -> tuple[str, str] | None:
    """(account id, role name) of `arn:aws:iam::<account>:role/<path/>name`, else None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    return parts[4], parts[5].rsplit("/", 1)[1]
