"""Schedule expressions: `rate(...)`, EventBridge's six-field `cron(...)` and Scheduler's `at(...)`.

One parser serves EventBridge rules (UTC) and EventBridge Scheduler (any IANA time zone), so a
schedule's next firing is computed the same way everywhere. Fields follow AWS's cron reference:
minutes, hours, day-of-month, month, day-of-week (1 = SUN), year; `? L W #` as documented, and
exactly one of day-of-month / day-of-week must be `?`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

MONTHS = {m: i for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                                      "NOV", "DEC"], start=1)}
DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}
UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
MAX_SCAN_DAYS = 366 * 12  # a cron that fires less often than this is treated as never firing again


class InvalidExpression(ValueError):
    pass


@dataclass(frozen=True)
class Rate:
    seconds: int


@dataclass(frozen=True)
class At:
    local: datetime  # naive, in the schedule's time zone


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int] | None
    dom: str  # raw field, interpreted per month (L, W)
    dow: str

    def day_matches(self, day: date) -> bool:
        if self.dom != "?":
            return _dom_matches(self.dom, day)
        return _dow_matches(self.dow, day)


Expression = Rate | Cron | At


def parse(text: str, allow_at: bool = False) -> Expression:
    # No space around the expression, nor inside rate()'s parentheses (recorded against AWS).
    match = re.fullmatch(r"(rate|cron|at)\((.*)\)", text or "")
    if match is None:
        raise InvalidExpression(text)
    kind, body = match.group(1), match.group(2)
    if kind == "rate":
        return _parse_rate(body)
    body = body.strip()
    if kind == "cron":
        return _parse_cron(body)
    if not allow_at:
        raise InvalidExpression(text)
    try:
        return At(datetime.strptime(body, "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        raise InvalidExpression(text) from None


def _parse_rate(body: str) -> Rate:
    match = re.fullmatch(r"(\d+) (\w+)", body)
    if match is None or match.group(2) not in UNITS:
        raise InvalidExpression(body)
    value, unit = int(match.group(1)), match.group(2)
    # AWS: a value of 1 takes the singular unit, larger values the plural.
    if value <= 0 or (value == 1) != (not unit.endswith("s")):
        raise InvalidExpression(body)
    return Rate(value * UNITS[unit])


def _parse_cron(body: str) -> Cron:
    fields = body.split()
    if len(fields) != 6:
        raise InvalidExpression(body)
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise InvalidExpression(body)  # exactly one of day-of-month and day-of-week is '?'
    if dom != "?" and not re.fullmatch(r"L|LW|\d{1,2}W|[\d,\-*/]+", dom):
        raise InvalidExpression(body)
    if dow != "?" and not re.fullmatch(r"[1-7]L|[1-7]#[1-5]|\w{3}#[1-5]|[\w,\-*/]+", dow):
        raise InvalidExpression(body)
    if dom != "?" and not re.fullmatch(r"L|LW|\d{1,2}W", dom):
        _field(dom, 1, 31)
    if dow != "?" and "#" not in dow and not dow.endswith("L"):
        _field(dow, 1, 7, DAYS)
    return Cron(
        minutes=frozenset(_field(minute, 0, 59)),
        hours=frozenset(_field(hour, 0, 23)),
        months=frozenset(_field(month, 1, 12, MONTHS)),
        years=None if year == "*" else frozenset(_field(year, 1970, 2199)),
        dom=dom,
        dow=dow.upper(),
    )


def _value(text: str, names: dict[str, int] | None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise InvalidExpression(text)
    return int(text)


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) == 0:
                raise InvalidExpression(text)
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(part, names)
            end = high if step > 1 else start
        if not (low <= start <= high and low <= end <= high) or start > end:
            raise InvalidExpression(text)
        values.update(range(start, end + 1, step))
    return values


def _aws_weekday(day: date) -> int:
    return (day.weekday() + 1) % 7 + 1  # Python: Monday=0; AWS: Sunday=1


def _dom_matches(field: str, day: date) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    if field == "L":
        return day.day == last
    if field.endswith("W"):
        target = last if field == "LW" else int(field[:-1])
        if target > last:
            return False
        wanted = date(day.year, day.month, target)
        if wanted.weekday() == 5:  # Saturday: the Friday before, unless that leaves the month
            wanted = wanted - timedelta(days=1) if target > 1 else wanted + timedelta(days=2)
        elif wanted.weekday() == 6:  # Sunday: the Monday after, unless that leaves the month
            wanted = wanted + timedelta(days=1) if target < last else wanted - timedelta(days=2)
        return day == wanted
    return day.day in _field(field, 1, 31)


def _dow_matches(field: str, day: date) -> bool:
    weekday = _aws_weekday(day)
    if field.endswith("L") and len(field) == 2:
        last = calendar.monthrange(day.year, day.month)[1]
        return weekday == int(field[0]) and day.day + 7 > last
    if "#" in field:
        name, nth = field.split("#")
        return weekday == _value(name, DAYS) and (day.day - 1) // 7 + 1 == int(nth)
    return weekday in _field(field, 1, 7, DAYS)


def next_cron(cron: Cron, after: float, tz: str = "UTC") -> float | None:
    """The first firing strictly after `after` (epoch seconds), in time zone `tz`."""
    zone = UTC if tz == "UTC" else ZoneInfo(tz)
    start = datetime.fromtimestamp(after, zone)
    hours, minutes = sorted(cron.hours), sorted(cron.minutes)
    day = start.date()
    for _ in range(MAX_SCAN_DAYS):
        if (cron.years is None or day.year in cron.years) and day.month in cron.months and cron.day_matches(day):
            for hour in hours:
                for minute in minutes:
                    candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).timestamp()
                    if candidate > after:
                        return candidate
        if cron.years is not None and day.year > max(cron.years):
            return None
        day += timedelta(days=1)
    return None


def next_firing(expression: Expression, after: float, anchor: float, tz: str = "UTC") -> float | None:
    """Next firing strictly after `after`. Rates count from `anchor` (creation or start date)."""
    if isinstance(expression, Rate):
        if after < anchor:
            return anchor
        periods = int((after - anchor) // expression.seconds) + 1
        return anchor + periods * expression.seconds
    if isinstance(expression, Cron):
        return next_cron(expression, after, tz)
    zone = UTC if tz == "UTC" else ZoneInfo(tz)
    at = expression.local.replace(tzinfo=zone).timestamp()
    return at if at > after else None
