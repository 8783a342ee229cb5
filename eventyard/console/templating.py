"""Jinja2 templates shipped inside the package, and the filters pages use to show AWS data."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from eventyard.console.links import page_for_arn, resource_name
from eventyard.console.web import console_url


def build_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("eventyard.console", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,  # a typo in a template fails its test instead of rendering blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        ago=ago, when=when, pretty=pretty, arn=arn_link, name=resource_name, ms=milliseconds,
        fromjson=from_json, dict_without=query_without, event_details=event_details,
    )
    env.globals.update(url=console_url, page_for_arn=page_for_arn)
    return env


def _epoch(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number / 1000 if number > 10_000_000_000 else number  # milliseconds since the epoch


def when(value: Any) -> str:
    """An instant as UTC text; AWS APIs return epoch seconds, milliseconds or datetimes."""
    epoch = _epoch(value)
    if epoch is None:
        return "—"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(value: Any, now: float | None = None) -> str:
    """How long ago (or from now) an instant is, in the largest sensible unit."""
    epoch = _epoch(value)
    if epoch is None:
        return "—"
    delta = (now if now is not None else time.time()) - epoch
    future = delta < 0
    seconds = abs(delta)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            text = f"{seconds / size:.0f} {unit}"
            break
    else:
        text = f"{seconds:.0f} s"
    return f"in {text}" if future else f"{text} ago"


def milliseconds(value: Any) -> str:
    try:
        return f"{float(value):,.0f} ms"
    except (TypeError, ValueError):
        return "—"


def from_json(value: Any) -> Any:
    if not isinstance(value, str):
        return value or {}
    try:
        return json.loads(value)
    except ValueError:
        return {}


def query_without(query: dict[str, str], *names: str) -> str:
    """The query string without `names`, ready for one more parameter ("a=1&" or "")."""
    kept = {k: v for k, v in query.items() if k not in names}
    return urlencode(kept) + "&" if kept else ""


def event_details(event: dict[str, Any]) -> dict[str, Any]:
    """The `...EventDetails` member of a Step Functions history event (each type names its own)."""
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


def pretty(value: Any) -> str:
    """JSON (a document or JSON text) indented for reading; other text as it is."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=2, sort_keys=False, default=str)


def arn_link(arn: Any, label: str | None = None) -> Markup:
    """A link to the console page of the resource an ARN names (or the ARN as text)."""
    if not arn:
        return Markup("—")
    text = label or resource_name(str(arn))
    target = page_for_arn(str(arn))
    if target is None:
        return Markup('<span title="{0}">{1}</span>').format(escape(arn), escape(text))
    return Markup('<a href="{0}" title="{1}">{2}</a>').format(target, escape(arn), escape(text))
