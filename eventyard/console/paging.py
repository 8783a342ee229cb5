"""Search and paging for every console list: a page renders a bounded number of rows, whatever
the number of resources (a region with thousands of queues still loads at once)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from eventyard.console.web import ConsoleRequest

T = TypeVar("T")
PER_PAGE = 50


@dataclass
class Page(Generic[T]):
    rows: list[T]
    number: int  # 1-based
    pages: int
    total: int  # rows that match the search
    search: str
    per_page: int = PER_PAGE

    @property
    def first_row(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.rows) - 1 if self.rows else 0


def paginate(items: Sequence[T], request: ConsoleRequest, text: Callable[[T], str],
             per_page: int = PER_PAGE) -> Page[T]:
    """The rows of the requested page (`?page=`) among the items whose text contains `?q=`
    (case-insensitive)."""
    search = request.arg("q").strip()
    needle = search.lower()
    matching = [item for item in items if needle in text(item).lower()] if needle else list(items)
    pages = max(1, -(-len(matching) // per_page))
    number = request.int_arg("page", 1, 1, pages)
    start = (number - 1) * per_page
    return Page(matching[start:start + per_page], number, pages, len(matching), search, per_page)
