"""Paging through listings, one way for every service: keyset reads and sealed tokens.

A page is the items that sort after the last key the previous page handed out, read `limit + 1` at a
time (the extra one says whether another page exists), never a whole listing sliced in memory. The
token a client gets back is that last key, sealed: base64 of a small JSON document carrying the
listing's name and a checksum, so a token from another listing, an edited one or one that is no token
at all is refused; each service words that refusal as AWS does (`token_error`).

`keyset_sql` builds the portable SQL for a listing in storage (`(a, b) > (?, ?)`, standard SQL that
SQLite and PostgreSQL both run); `page` walks any source of items in key order, so listings that also
filter in Python (a value inside a stored document) still read only what the page needs.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from eventyard.protocol.errors import AwsError

T = TypeVar("T")
_URLSAFE = str.maketrans("-_", "+/")  # tokens that went through a URL-safe alphabet still read
Key = tuple[Any, ...]
# Reads up to `count` items whose key sorts after `after` (all items when `after` is None), in key order.
Source = Callable[[Key | None, int], Sequence[T]]


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_token: str | None
    last: Key | None = None  # the key the next page starts after (None: no next page)


def seal(listing: str, key: Key) -> str:
    """The token that resumes `listing` after `key` (a tuple of JSON values)."""
    raw = json.dumps({"l": listing, "k": list(key)}, separators=(",", ":")).encode()
    # Standard, padded base64, as AWS's tokens are (clients have been seen decoding them).
    return base64.b64encode(zlib.crc32(raw).to_bytes(4, "big") + raw).decode()


def unseal(token: str, listing: str, token_error: Callable[[str], AwsError]) -> Key:
    """The key a token of `listing` resumes after, or the service's error for a token it never issued."""
    try:
        raw = base64.b64decode(token.translate(_URLSAFE) + "=" * (-len(token) % 4), validate=True)
        document = json.loads(raw[4:]) if zlib.crc32(raw[4:]).to_bytes(4, "big") == raw[:4] else None
    except (binascii.Error, ValueError, UnicodeDecodeError):
        document = None
    if not isinstance(document, dict) or document.get("l") != listing or not isinstance(document.get("k"), list):
        raise token_error(token)
    return tuple(document["k"])


def page(source: Source[T], key_of: Callable[[T], Key], limit: int, after: Key | None = None,
         keep: Callable[[T], bool] | None = None, listing: str | None = None) -> Page[T]:
    """The first `limit` items after `after` that `keep` accepts, and a token sealed for `listing` when
    more follow (services whose tokens carry more, such as Kinesis's expiry, seal `last` themselves)."""
    kept: list[T] = []
    cursor = after
    batch = limit + 1
    while len(kept) <= limit:
        items = source(cursor, batch)
        kept.extend(item for item in items if keep is None or keep(item))
        if len(items) < batch:
            break
        cursor = key_of(items[-1])
    if len(kept) <= limit:
        return Page(kept, None)
    last = key_of(kept[limit - 1])
    return Page(kept[:limit], None if listing is None else seal(listing, last), last)


def after_key(items: Sequence[T], key_of: Callable[[T], Key]) -> Source[T]:
    """A source over items already in memory and sorted by `key_of` (e.g. one resource's targets)."""

    def read(after: Key | None, count: int) -> Sequence[T]:
        start = 0 if after is None else next((i for i, item in enumerate(items) if key_of(item) > after), len(items))
        return items[start:start + count]

    return read


def in_memory(items: Sequence[T], token: str | None, limit: int, listing: str,
              token_error: Callable[[str], AwsError]) -> Page[T]:
    """A page of a short list already in memory (one resource's targets, a filtered few), by position;
    the token still names its listing, so a foreign or made-up one is refused."""
    indexed = list(enumerate(items))
    after = unseal(token, listing, token_error) if token else None
    found = page(after_key(indexed, lambda pair: (pair[0],)), lambda pair: (pair[0],), limit, after, listing=listing)
    return Page([item for _, item in found.items], found.next_token, found.last)


def keyset_sql(select: str, where: str, order: Sequence[str], after: Key | None,
               descending: bool = False) -> tuple[str, list[Any]]:
    """`SELECT ... WHERE <where> [AND (order...) > (?...)] ORDER BY order... LIMIT ?`: the statement and
    the arguments after `where`'s own (the key, if any); the caller appends the row count. Descending:
    `<` and `DESC` on every column."""
    sql = f"{select} WHERE {where}"
    args: list[Any] = []
    if after is not None:
        columns = ", ".join(order)
        sql += f" AND ({columns}) {'<' if descending else '>'} ({', '.join('?' * len(order))})"
        args.extend(after)
    sql += f" ORDER BY {', '.join(f'{column} DESC' if descending else column for column in order)} LIMIT ?"
    return sql, args


def answer(found: Page[T], items_key: str, view: Callable[[T], Any] | None = None,
           token_key: str = "NextToken") -> dict[str, Any]:
    """A listing's response: the page's items (as `view` shows each) and the next page's token, if any."""
    result: dict[str, Any] = {items_key: [item if view is None else view(item) for item in found.items]}
    if found.next_token:
        result[token_key] = found.next_token
    return result
