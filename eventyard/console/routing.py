"""Which console handler answers a path: a table of (method, pattern) -> handler.

GET handlers only read; everything that changes state is a POST (the door refuses cross-site
POSTs to /_eventyard/*, so another web page cannot make a browser press a console button).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eventyard.console.web import ConsoleRequest
from eventyard.protocol.base import HttpResponse

if TYPE_CHECKING:
    from eventyard.console.console import Console

Handler = Callable[["Console", ConsoleRequest], Awaitable[HttpResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


class Routes:
    """A page module's routes; `Routes.get("sqs/queue")(handler)` registers one."""

    def __init__(self) -> None:
        self.table: list[Route] = []

    def _add(self, method: str, path: str) -> Callable[[Handler], Handler]:
        # "{name}" captures one path segment.
        pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")

        def register(handler: Handler) -> Handler:
            self.table.append(Route(method, pattern, handler))
            return handler

        return register

    def get(self, path: str) -> Callable[[Handler], Handler]:
        return self._add("GET", path)

    def post(self, path: str) -> Callable[[Handler], Handler]:
        return self._add("POST", path)


def find(tables: list[Routes], method: str, path: str) -> tuple[Handler, dict[str, str]] | None | bool:
    """The handler and captures; False when the path exists for another method; None when unknown."""
    other_method = False
    for routes in tables:
        for route in routes.table:
            found = route.pattern.match(path)
            if found is None:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route.handler, found.groupdict()
            other_method = True
    return False if other_method else None
