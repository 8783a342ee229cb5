"""DescribeLogGroups, ListLogGroups and DescribeLogStreams a page at a time (services/paging), with
CloudWatch Logs' token error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services import paging
from eventyard.storage import Connection, Row

_GROUPS = ("SELECT g.*, (SELECT COUNT(*) FROM logs_metric_filters f WHERE f.group_id = g.id)"
           " AS metric_filter_count FROM logs_groups g")


def token_error(token: str) -> AwsError:
    return AwsError("InvalidParameterException", "The specified nextToken is invalid.")


def groups(conn: Connection, account_id: str, region: str, prefix: str, keep: Callable[[Row], bool] | None,
           token: str | None, limit: int, listing: str) -> paging.Page[Row]:
    """Groups by name with the given prefix that `keep` accepts."""
    after = paging.unseal(token, listing, token_error) if token else None

    def read(key: paging.Key | None, count: int) -> list[Row]:
        sql, key_args = paging.keyset_sql(_GROUPS, "account_id = ? AND region = ? AND substr(name, 1, ?) = ?",
                                          ["name"], key)
        return list(conn.execute(sql, [account_id, region, len(prefix), prefix, *key_args, count]).fetchall())

    return paging.page(read, lambda row: (row["name"],), limit, after, keep, listing)


def streams(conn: Connection, group_id: int, prefix: str, by_last_event: bool, descending: bool,
            token: str | None, limit: int) -> paging.Page[Row]:
    """A group's streams by name, or by last event time (then id), either way up or down."""
    listing = f"logs:streams:{group_id}:{prefix}:{by_last_event}:{descending}"
    after = paging.unseal(token, listing, token_error) if token else None
    order = ["COALESCE(last_event_at, 0)", "id"] if by_last_event else ["name"]

    def key_of(row: Row) -> paging.Key:
        return (row["last_event_at"] or 0, row["id"]) if by_last_event else (row["name"],)

    def read(key: paging.Key | None, count: int) -> list[Row]:
        sql, key_args = paging.keyset_sql("SELECT * FROM logs_streams", "group_id = ? AND substr(name, 1, ?) = ?",
                                          order, key, descending)
        return list(conn.execute(sql, [group_id, len(prefix), prefix, *key_args, count]).fetchall())

    return paging.page(read, key_of, limit, after, listing=listing)


def group_name(params: dict[str, Any]) -> str:
    """The group a request names by logGroupName or logGroupIdentifier (a name or an ARN), not both."""
    name, identifier = params.get("logGroupName"), params.get("logGroupIdentifier")
    if name is not None and identifier is not None:
        raise AwsError("ValidationException", "LogGroup name and LogGroup ARN are mutually exclusive parameters.")
    if name is not None:
        return str(name)
    return str(identifier or "").rsplit(":log-group:", 1)[-1].removesuffix(":*")
