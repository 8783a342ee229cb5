"""services/paging: keyset pages over any source, sealed tokens, portable keyset SQL."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventyard.protocol.errors import AwsError
from eventyard.services import paging


def _token_error(token: str) -> AwsError:
    return AwsError("ValidationException", "The NextToken provided is invalid.")


class CountingSource:
    """Sorted integers handed out as a storage keyset read would, counting what each read returns."""

    def __init__(self, items: list[int]) -> None:
        self.items = items
        self.reads: list[int] = []

    def __call__(self, after: paging.Key | None, count: int) -> Sequence[int]:
        rows = [i for i in self.items if after is None or (i,) > after][:count]
        self.reads.append(len(rows))
        return rows


def _walk(source: CountingSource, limit: int, keep: Callable[[int], bool] | None = None) -> list[list[int]]:
    pages: list[list[int]] = []
    after: paging.Key | None = None
    while True:
        found = paging.page(source, lambda i: (i,), limit, after, keep, "numbers")
        pages.append(found.items)
        if found.next_token is None:
            return pages
        after = paging.unseal(found.next_token, "numbers", _token_error)


@given(st.lists(st.integers(-1000, 1000), unique=True).map(sorted), st.integers(1, 7), st.integers(1, 4))
def test_pages_cover_every_kept_item_once_in_order(items: list[int], limit: int, modulus: int) -> None:
    def keep(i: int) -> bool:
        return i % modulus == 0

    pages = _walk(CountingSource(items), limit, keep)
    assert [i for p in pages for i in p] == [i for i in items if keep(i)]
    assert all(len(p) == limit for p in pages[:-1]) and len(pages[-1]) <= limit


@given(st.lists(st.integers(0, 500), unique=True).map(sorted), st.integers(1, 5))
def test_an_unfiltered_page_reads_one_row_more_than_it_shows(items: list[int], limit: int) -> None:
    source = CountingSource(items)
    found = paging.page(source, lambda i: (i,), limit, listing="numbers")
    assert source.reads == [min(len(items), limit + 1)]
    assert (found.next_token is not None) == (len(items) > limit)


def test_a_page_that_filters_reads_on_until_it_is_full() -> None:
    source = CountingSource(list(range(100)))
    found = paging.page(source, lambda i: (i,), 3, keep=lambda i: i % 10 == 0, listing="numbers")
    assert found.items == [0, 10, 20] and found.next_token
    assert sum(source.reads) < 100


def test_tokens_resume_only_their_own_listing() -> None:
    token = paging.seal("rules:default", ("b",))
    assert paging.unseal(token, "rules:default", _token_error) == ("b",)
    assert base64.b64decode(token, validate=True)  # standard padded base64, as AWS's tokens are
    for wrong in [paging.seal("buses", ("b",)), token[:-2] + "xx", "1", "not a token!", ""]:
        with pytest.raises(AwsError) as raised:
            paging.unseal(wrong, "rules:default", _token_error)
        assert raised.value.message == "The NextToken provided is invalid."


def test_in_memory_source_resumes_after_a_key() -> None:
    source = paging.after_key([(1, "a"), (2, "b"), (5, "c")], lambda pair: (pair[0],))
    assert list(source((1,), 5)) == [(2, "b"), (5, "c")]
    assert list(source((5,), 5)) == [] and list(source(None, 2)) == [(1, "a"), (2, "b")]


def test_keyset_sql_reads_after_a_compound_key() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (a TEXT, b INTEGER)")
    db.executemany("INSERT INTO t VALUES (?, ?)", [(a, b) for a in "xyz" for b in range(3)])
    sql, args = paging.keyset_sql("SELECT a, b FROM t", "b >= ?", ["a", "b"], ("y", 0))
    assert db.execute(sql, [0, *args, 3]).fetchall() == [("y", 1), ("y", 2), ("z", 0)]
    sql, args = paging.keyset_sql("SELECT a, b FROM t", "b >= ?", ["a", "b"], None)
    assert args == [] and db.execute(sql, [2, 2]).fetchall() == [("x", 2), ("y", 2)]


def test_answer_names_items_and_token() -> None:
    assert paging.answer(paging.Page([1, 2], "t"), "Items", str) == {"Items": ["1", "2"], "NextToken": "t"}
    assert paging.answer(paging.Page([], None), "Items", token_key="nextToken") == {"Items": []}


def test_keyset_sql_reads_backwards_when_descending() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (a INTEGER, b INTEGER)")
    db.executemany("INSERT INTO t VALUES (?, ?)", [(a, b) for a in range(3) for b in range(2)])
    sql, args = paging.keyset_sql("SELECT a, b FROM t", "1 = 1", ["a", "b"], (1, 1), descending=True)
    assert db.execute(sql, [*args, 3]).fetchall() == [(1, 0), (0, 1), (0, 0)]
