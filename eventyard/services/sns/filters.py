"""Which subscriptions of a topic a message reaches: filter policies compiled per topic.

Each topic keeps two pattern Machines (one per FilterPolicyScope) plus the list of unfiltered
subscriptions, so matching costs one walk per scope however many subscriptions filter. A route is
cached under the topic row's `routes_version`, which every change of the topic's subscriptions bumps
in its own transaction (`invalidate`): a publish reads the version in its snapshot and uses (or
builds) the route of exactly that version. So every node sees another node's change with its next
publish, a retried transaction cannot leave a wrong route behind, and no signal needs to arrive.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from eventyard.patterns import Machine, compile_filter_policy, sns_attributes_to_event
from eventyard.services.sns.subscriptions import Subscription
from eventyard.services.sns.subscriptions import from_row as subscription_row
from eventyard.storage import Connection, Migration

MIGRATIONS = [
    Migration("sns-nodes-0001-route-versions",
              "ALTER TABLE sns_topics ADD COLUMN routes_version BIGINT NOT NULL DEFAULT 0"),
]
RouteVersion = tuple[int, float]  # (routes_version, created_at): a re-created topic starts afresh


@dataclass
class TopicRoute:
    unfiltered: list[str] = field(default_factory=list)
    by_attributes: Machine = field(default_factory=Machine)
    by_body: Machine = field(default_factory=Machine)
    order: dict[str, int] = field(default_factory=dict)  # subscription ARN -> creation rank
    # The confirmed subscriptions as read with the route: a delivery fired right after its publish
    # uses these instead of reading its subscription row again (the route is rebuilt on every change).
    subscriptions: dict[str, Subscription] = field(default_factory=dict)


def build_route(conn: Connection, topic_arn: str) -> TopicRoute:
    route = TopicRoute()
    rows = conn.execute(
        "SELECT * FROM sns_subscriptions WHERE topic_arn = ? AND confirmed = 1 ORDER BY created_at, arn",
        (topic_arn,),
    ).fetchall()
    for rank, row in enumerate(rows):
        subscription = subscription_row(row)
        arn, attributes = subscription.arn, subscription.attributes
        route.order[arn] = rank
        route.subscriptions[arn] = subscription
        policy = attributes.get("FilterPolicy")
        if not policy:
            route.unfiltered.append(arn)
        elif attributes.get("FilterPolicyScope", "MessageAttributes") == "MessageBody":
            route.by_body.add(arn, compile_filter_policy(policy, "MessageBody"))
        else:
            route.by_attributes.add(arn, compile_filter_policy(policy, "MessageAttributes"))
    return route


class FilterIndex:
    def __init__(self) -> None:
        self._routes: dict[str, tuple[RouteVersion, TopicRoute]] = {}

    def invalidate(self, conn: Connection, topic_arn: str) -> None:
        """Inside the transaction that changes a subscription of `topic_arn`: routes of older versions
        stop being used on every node once it commits."""
        conn.execute("UPDATE sns_topics SET routes_version = routes_version + 1 WHERE arn = ?", (topic_arn,))
        self._routes.pop(topic_arn, None)

    def subscription(self, topic_arn: str, arn: str) -> Subscription | None:
        """The subscription as of the route last used for `topic_arn` (call inside the same transaction)."""
        cached = self._routes.get(topic_arn)
        return cached[1].subscriptions.get(arn) if cached is not None else None

    def route(self, conn: Connection, topic_arn: str) -> TopicRoute:
        row = conn.execute("SELECT routes_version, created_at FROM sns_topics WHERE arn = ?", (topic_arn,)).fetchone()
        version: RouteVersion = (-1, 0.0) if row is None else (int(row[0]), float(row[1]))
        cached = self._routes.get(topic_arn)
        if cached is not None and cached[0] == version:
            return cached[1]
        route = build_route(conn, topic_arn)
        self._routes[topic_arn] = (version, route)
        return route

    def matching(self, conn: Connection, topic_arn: str, attributes: dict[str, dict[str, Any]],
                 body: str, filtered: Counter[str] | None = None) -> list[str]:
        """ARNs of the confirmed subscriptions the message reaches, in subscription order; `filtered`
        counts the filter policies that turned it away, by the reason SNS's metrics name."""
        route = self.route(conn, topic_arn)
        matched: set[Any] = set(route.unfiltered)
        if len(route.by_attributes):
            hits = route.by_attributes.match(sns_attributes_to_event(attributes))
            matched |= hits
            if filtered is not None and len(hits) < len(route.by_attributes):
                filtered["MessageAttributes" if attributes else "NoMessageAttributes"] += len(route.by_attributes) - len(hits)
        if len(route.by_body):
            document = _json_object(body)
            hits = route.by_body.match(document) if document is not None else set()  # JSON bodies only
            matched |= hits
            if filtered is not None and len(hits) < len(route.by_body):
                filtered["MessageBody" if document is not None else "InvalidMessageBody"] += len(route.by_body) - len(hits)
        return sorted((str(arn) for arn in matched), key=lambda arn: route.order.get(arn, 0))


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None
