"""What happens to log events in the transaction that stores them: metric filters turn matches into
metric points, subscription filters schedule deliveries. Every writer of events (PutLogEvents,
Lambda's log agent, Step Functions and Pipes logging) goes through `store.put_events`, which asks
here first; a group without filters costs one indexed query per write."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eventyard.runtime.metric_store import write_points
from eventyard.services.logs import metric_filters, subscriptions
from eventyard.services.logs.metric_filters import ActiveFilter
from eventyard.services.logs.subscriptions import ActiveSubscription
from eventyard.storage import Connection


@dataclass(frozen=True)
class Listeners:
    account_id: str
    region: str
    group: str
    stream: str
    metric_filters: tuple[ActiveFilter, ...]
    subscriptions: tuple[ActiveSubscription, ...]

    @property
    def need_event_ids(self) -> bool:
        """Deliveries carry each event's id, so the writer must learn them."""
        return bool(self.subscriptions)


def listeners(conn: Connection, stream_id: int) -> Listeners | None:
    """The filters of the stream's group, or None when it has none."""
    rows = conn.execute(
        "SELECT 'metric' AS kind, f.id, f.name, f.pattern, f.transformations AS detail, '' AS distribution"
        " FROM logs_metric_filters f JOIN logs_streams s ON s.group_id = f.group_id WHERE s.id = ?"
        " UNION ALL SELECT 'subscription' AS kind, f.id, f.name, f.pattern, f.destination_arn AS detail,"
        " f.distribution FROM logs_subscription_filters f JOIN logs_streams s ON s.group_id = f.group_id"
        " WHERE s.id = ?", (stream_id, stream_id)).fetchall()
    if not rows:
        return None
    names = conn.execute("SELECT g.account_id, g.region, g.name AS group_name, s.name AS stream_name"
                         " FROM logs_streams s JOIN logs_groups g ON g.id = s.group_id WHERE s.id = ?",
                         (stream_id,)).fetchone()
    metric = tuple(ActiveFilter.from_row(r["pattern"], r["detail"]) for r in rows if r["kind"] == "metric")
    subscribed = tuple(ActiveSubscription(int(r["id"]), r["name"], subscriptions.compiled(r["pattern"]), r["detail"],
                                          r["distribution"]) for r in rows if r["kind"] == "subscription")
    return Listeners(names["account_id"], names["region"], names["group_name"], names["stream_name"], metric,
                     subscribed)


def stored(conn: Connection, found: Listeners, events: Sequence[tuple[int, int, str]], now: float) -> None:
    """Apply the filters to events just inserted ((id, timestamp ms, message)) in the same transaction."""
    if found.metric_filters:
        points = metric_filters.points(found.metric_filters, found.account_id, found.region,
                                       [(timestamp, message) for _, timestamp, message in events])
        write_points(conn, points, now)
    for subscription in found.subscriptions:
        subscriptions.schedule(conn, subscription, found.account_id, found.region, found.group, found.stream,
                               events, now)
