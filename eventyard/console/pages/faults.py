"""The fault injection page: the active rules (/_eventyard/faults) with how often each matched and
fired, kept live, and a button that clears them. Rules are set with `eventyard faults set` or a PUT."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventyard.console.routing import Routes
from eventyard.console.web import ConsoleRequest, console_url, redirect
from eventyard.protocol.base import HttpResponse

if TYPE_CHECKING:
    from eventyard.console.console import Console

routes = Routes()
COMMON = ("service", "resource", "operation", "fault", "probability", "matched", "fired")


@routes.get("faults")
async def faults(console: Console, request: ConsoleRequest) -> HttpResponse:
    return console.render(request, "faults.html", title="Fault injection", **await _rules(console))


@routes.get("faults/rows")
async def rows(console: Console, request: ConsoleRequest) -> HttpResponse:
    """The rules table alone (re-rendered live, so the counts move as faults fire)."""
    return console.render(request, "fragments/faults_rows.html", **await _rules(console))


@routes.post("faults/clear")
async def clear(console: Console, request: ConsoleRequest) -> HttpResponse:
    await console.platform.faults.clear()
    return redirect(console_url("faults", region=request.region, notice="Fault rules cleared."))


async def _rules(console: Console) -> dict[str, Any]:
    described = await console.platform.faults.describe()
    rules = [{**rule, "parameters": {k: v for k, v in rule.items() if k not in COMMON}} for rule in described["rules"]]
    return {"seed": described["seed"], "rules": rules}
