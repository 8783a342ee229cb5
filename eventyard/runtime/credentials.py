"""Where the secrets behind access keys come from, when authentication is on.

The server asks one `CredentialStore` for an access key id; the store asks its sources in the order
they were registered and returns the first `Credential` found. The keys configured at start-up
(`EVENTYARD_ACCESS_KEYS`, `EVENTYARD_ACCESS_KEYS_FILE`) are the first source; other parts of the
server add their own with `platform.credentials.register(source)` — e.g. IAM users' access keys and
STS's temporary credentials, which carry a session token and an expiry.

A source is anything with `async def lookup(access_key_id) -> Credential | None`; it may read
storage (`platform.db.read`), so lookups are awaited. A source must answer quickly and must not
raise for an unknown key (None means "not mine").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class Credential:
    """An access key's secret and who it acts for. Requests signed with it act in `account_id`."""

    access_key_id: str
    secret_access_key: str
    account_id: str
    # Temporary credentials (STS) are valid only with their session token, until `expires_at`.
    session_token: str | None = None
    expires_at: float | None = None  # epoch seconds
    # Who signs with it, for services that record a caller (e.g. arn:aws:iam::<account>:user/<name>).
    principal_arn: str | None = None

    @property
    def principal(self) -> str:
        return self.principal_arn or f"arn:aws:iam::{self.account_id}:root"


class CredentialSource(Protocol):
    async def lookup(self, access_key_id: str) -> Credential | None: ...


class StaticCredentials:
    """A fixed set of access keys, e.g. the ones configured at start-up."""

    def __init__(self, credentials: Iterable[Credential] = ()) -> None:
        self._by_key = {c.access_key_id: c for c in credentials}

    def __len__(self) -> int:
        return len(self._by_key)

    async def lookup(self, access_key_id: str) -> Credential | None:
        return self._by_key.get(access_key_id)


class CredentialStore:
    """Every source of credentials the server knows, asked in registration order."""

    def __init__(self) -> None:
        self._sources: list[CredentialSource] = []

    def register(self, source: CredentialSource) -> None:
        self._sources.append(source)

    def unregister(self, source: CredentialSource) -> None:
        self._sources = [s for s in self._sources if s is not source]

    async def lookup(self, access_key_id: str) -> Credential | None:
        for source in self._sources:
            found = await source.lookup(access_key_id)
            if found is not None:
                return found
        return None


class InvalidAccessKeys(ValueError):
    """The configured access keys cannot be read (the server refuses to start)."""


def parse_access_keys(text: str, default_account: str) -> list[Credential]:
    """`EVENTYARD_ACCESS_KEYS`: comma-separated `ACCESS_KEY_ID:SECRET[:ACCOUNT_ID]` entries."""
    credentials = []
    for entry in filter(None, (e.strip() for e in text.split(","))):
        key, sep, rest = entry.partition(":")
        if not sep or not key or not rest:
            raise InvalidAccessKeys(f"access key entry {key or entry!r} must be ACCESS_KEY_ID:SECRET[:ACCOUNT_ID]")
        secret, account = rest, default_account
        head, _, tail = rest.rpartition(":")
        if head and _ACCOUNT.match(tail):
            secret, account = head, tail
        credentials.append(_credential(key, secret, account))
    return credentials


def load_access_keys_file(path: Path, default_account: str) -> list[Credential]:
    """A JSON file: `[{"AccessKeyId": ..., "SecretAccessKey": ..., "AccountId": ...}, ...]`
    (AccountId optional), or an object with that list under `"AccessKeys"`."""
    try:
        document: Any = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidAccessKeys(f"cannot read access keys file {path}: {exc}") from exc
    entries = document.get("AccessKeys") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        raise InvalidAccessKeys(f"{path}: expected a list of access keys")
    credentials = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("AccessKeyId"), str) \
                or not isinstance(entry.get("SecretAccessKey"), str):
            raise InvalidAccessKeys(f"{path}: every entry needs AccessKeyId and SecretAccessKey strings")
        credentials.append(_credential(entry["AccessKeyId"], entry["SecretAccessKey"],
                                       str(entry.get("AccountId", default_account))))
    return credentials


def _credential(key: str, secret: str, account: str) -> Credential:
    if not _ACCOUNT.match(account):
        raise InvalidAccessKeys(f"account id {account!r} of access key {key} must be 12 digits")
    return Credential(key.strip(), secret, account)


def configured_access_keys(keys: str, keys_file: Path | None, default_account: str) -> StaticCredentials:
    """The access keys given at start-up (the environment's list, then the file's)."""
    credentials = parse_access_keys(keys, default_account)
    if keys_file is not None:
        credentials += load_access_keys_file(keys_file, default_account)
    return StaticCredentials(credentials)
