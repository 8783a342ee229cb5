"""The active fault rules in the database: state like any other, so they survive a restart and every
node of a shared database applies the same rules.

Each `PUT`/`DELETE /_eventyard/faults` starts a new *generation*; the rows of earlier generations are
gone with it, and so are their counts. How often each rule was matched and fired is added to its
row by every node (`UPDATE ... SET fired = fired + ?`), so the counts are the cluster's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from eventyard.runtime.fault_rules import FaultRule, parse_rule
from eventyard.storage import Connection, Migration

MIGRATIONS = [
    Migration(
        "runtime-faults-0001",
        """
        CREATE TABLE fault_settings (
            id TEXT PRIMARY KEY,
            generation BIGINT NOT NULL,
            seed BIGINT NOT NULL,
            changed_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE fault_rules (
            generation BIGINT NOT NULL,
            position BIGINT NOT NULL,
            rule TEXT NOT NULL,
            matched BIGINT NOT NULL DEFAULT 0,
            fired BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (generation, position)
        )
        """,
    )
]
CHANNEL = "faults"


@dataclass
class StoredFaults:
    generation: int = 0
    seed: int = 0
    rules: list[FaultRule] = field(default_factory=list)
    matched: list[int] = field(default_factory=list)
    fired: list[int] = field(default_factory=list)


def replace(conn: Connection, seed: int, rules: list[FaultRule], now: float) -> int:
    """Make `rules` the active ones (a new generation, counts at zero); the new generation's number."""
    row = conn.execute("SELECT generation FROM fault_settings WHERE id = 'active'").fetchone()
    generation = (int(row[0]) if row is not None else 0) + 1
    conn.execute(
        "INSERT INTO fault_settings (id, generation, seed, changed_at) VALUES ('active', ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET generation = excluded.generation, seed = excluded.seed,"
        " changed_at = excluded.changed_at",
        (generation, seed, now),
    )
    conn.execute("DELETE FROM fault_rules")
    conn.executemany("INSERT INTO fault_rules (generation, position, rule) VALUES (?, ?, ?)",
                     [(generation, n, json.dumps(rule.document())) for n, rule in enumerate(rules)])
    return generation


def generation(conn: Connection) -> int:
    row = conn.execute("SELECT generation FROM fault_settings WHERE id = 'active'").fetchone()
    return 0 if row is None else int(row[0])


def load(conn: Connection) -> StoredFaults:
    row = conn.execute("SELECT generation, seed FROM fault_settings WHERE id = 'active'").fetchone()
    if row is None:
        return StoredFaults()
    stored = StoredFaults(int(row[0]), int(row[1]))
    for rule_row in conn.execute("SELECT position, rule, matched, fired FROM fault_rules WHERE generation = ?"
                                 " ORDER BY position", (stored.generation,)).fetchall():
        document = json.loads(rule_row[1])
        # Stored rules were checked when they were put; any service name is taken back as it was.
        stored.rules.append(parse_rule(document, int(rule_row[0]), {document["service"]}))
        stored.matched.append(int(rule_row[2]))
        stored.fired.append(int(rule_row[3]))
    return stored


def add_counts(conn: Connection, generation_id: int, counts: dict[int, tuple[int, int]]) -> None:
    """Add (matched, fired) per rule position; counts of an earlier generation find no row and vanish."""
    conn.executemany(
        "UPDATE fault_rules SET matched = matched + ?, fired = fired + ? WHERE generation = ? AND position = ?",
        [(matched, fired, generation_id, position) for position, (matched, fired) in counts.items()],
    )
