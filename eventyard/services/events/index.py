"""In-memory routing state: per bus, one pattern Machine holding every ENABLED rule, and the bus's
archives with their compiled patterns.

The database is the truth; this index is rebuilt from it at start and updated after each commit
that changes a rule or archive, so PutEvents matches an event against all rules in one pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from eventyard.patterns import Machine, Pattern, compile_event_pattern
from eventyard.storage import Connection

BusKey = tuple[str, str, str]  # account, region, bus name


@dataclass
class Archive:
    arn: str
    pattern: Pattern | None


@dataclass
class BusRouting:
    machine: Machine = field(default_factory=Machine)
    rules: set[str] = field(default_factory=set)  # rule keys in the machine
    archives: dict[str, Archive] = field(default_factory=dict)


class RoutingIndex:
    def __init__(self) -> None:
        self._buses: dict[BusKey, BusRouting] = {}

    def bus(self, key: BusKey) -> BusRouting:
        routing = self._buses.get(key)
        if routing is None:
            routing = self._buses[key] = BusRouting()
        return routing

    def match(self, key: BusKey, event: dict[str, object]) -> set[str]:
        routing = self._buses.get(key)
        if routing is None or not routing.rules:
            return set()
        return {str(rule_id) for rule_id in routing.machine.match(event)}

    def archives(self, key: BusKey) -> list[Archive]:
        routing = self._buses.get(key)
        return [] if routing is None else list(routing.archives.values())

    def put_rule(self, key: BusKey, rule: dict[str, object]) -> None:
        """Add, replace or drop a rule from its bus's machine according to its pattern and state."""
        routing = self.bus(key)
        rule_id = f"{rule['EventBusName']}|{rule['Name']}"
        pattern = rule.get("EventPattern")
        if pattern and rule.get("State") != "DISABLED":
            routing.machine.add(rule_id, compile_event_pattern(str(pattern)))
            routing.rules.add(rule_id)
        else:
            self.remove_rule(key, rule_id)

    def remove_rule(self, key: BusKey, rule_id: str) -> None:
        routing = self.bus(key)
        if rule_id in routing.rules:
            routing.machine.remove(rule_id)
            routing.rules.discard(rule_id)

    def put_archive(self, key: BusKey, arn: str, pattern: str | None) -> None:
        self.bus(key).archives[arn] = Archive(arn, compile_event_pattern(pattern) if pattern else None)

    def remove_archive(self, key: BusKey, arn: str) -> None:
        self.bus(key).archives.pop(arn, None)

    def drop_bus(self, key: BusKey) -> None:
        self._buses.pop(key, None)

    def load(self, conn: Connection) -> None:
        for row in conn.execute("SELECT account_id, region, doc FROM events_resources WHERE kind = 'rule'"):
            rule = json.loads(row[2])
            self.put_rule((row[0], row[1], rule["EventBusName"]), rule)
        for row in conn.execute("SELECT account_id, region, doc FROM events_resources WHERE kind = 'archive'"):
            archive = json.loads(row[2])
            if archive.get("State") != "DISABLED":
                self.put_archive((row[0], row[1], archive["_bus"]), archive["ArchiveArn"],
                                 archive.get("EventPattern"))
