"""ListQueues and ListDeadLetterSourceQueues, a page at a time by queue name (services/paging).

AWS pages only when MaxResults is given; without it a listing answers up to 1,000 queues and no token.
"""

from __future__ import annotations

import json
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services import paging
from eventyard.services.sqs.names import QueueKey
from eventyard.storage import Connection, Row

UNPAGED_LIMIT = 1000


def _token_error(token: str) -> AwsError:
    return AwsError("InvalidParameterValue", "Invalid NextToken value.")


def _limit(max_results: int | None) -> int:
    if max_results is None:
        return UNPAGED_LIMIT
    if not 1 <= max_results <= UNPAGED_LIMIT:
        raise AwsError("InvalidParameterValue", f"Value {max_results} for parameter MaxResults is invalid. "
                       "Reason: MaxResults must be an integer between 1 and 1000.")
    return max_results


def _rows_after(conn: Connection, where: str, args: list[Any], after: paging.Key | None, count: int) -> list[Row]:
    sql, key_args = paging.keyset_sql("SELECT account_id, region, name, attributes FROM sqs_queues", where,
                                      ["name"], after)
    return list(conn.execute(sql, [*args, *key_args, count]).fetchall())


def _page(conn: Connection, listing: str, where: str, args: list[Any], token: str | None,
          max_results: int | None, keep: Any = None) -> paging.Page[QueueKey]:
    after = paging.unseal(token, listing, _token_error) if token else None
    found = paging.page(lambda key, count: _rows_after(conn, where, args, key, count), lambda row: (row["name"],),
                        _limit(max_results), after, keep, listing)
    items = [QueueKey(row["account_id"], row["region"], row["name"]) for row in found.items]
    # Without MaxResults AWS hands out no token, whatever follows.
    return paging.Page(items, found.next_token if max_results is not None else None)


def queues(conn: Connection, account_id: str, region: str, prefix: str, token: str | None,
           max_results: int | None) -> paging.Page[QueueKey]:
    return _page(conn, f"sqs:queues:{account_id}:{region}:{prefix}",
                 "account_id = ? AND region = ? AND substr(name, 1, ?) = ?",
                 [account_id, region, len(prefix), prefix], token, max_results)


def dead_letter_sources(conn: Connection, dead_letter_arn: str, region: str, token: str | None,
                        max_results: int | None) -> paging.Page[QueueKey]:
    def sends_here(row: Row) -> bool:
        policy = json.loads(row["attributes"]).get("RedrivePolicy")
        return bool(policy) and json.loads(policy).get("deadLetterTargetArn") == dead_letter_arn

    return _page(conn, f"sqs:dead-letter-sources:{dead_letter_arn}", "region = ?", [region], token, max_results,
                 sends_here)
