"""Fault injection: make AWS's rare behaviours (duplicates, reordering, delays, failures, throttling)
happen on purpose, reproducibly, so a handler's idempotency and ordering assumptions are tested.

`FaultInjector` holds the active rules (stored by `fault_store`, validated by `fault_rules`) and makes
every decision. A decision belongs to a *stream*: one rule on one resource (the one the rule names; for `*`,
the first the delivery path names). The k-th draw of a stream is a hash of (seed, rule position,
resource, k), so the same seed and the same sequence of requests
give the same faults, whatever else the server is doing meanwhile (no global random state).

The server applies the API faults (`throttle`, `error`) once, in its request path; each delivery path
asks through a small named hook (`fire`, `held_back`, `deliver`, `esm_batch`, `with_duplicates`).
Rules live in the database: every node reads them at start, on the change signal, and at least every
`SYNC_INTERVAL` seconds; counts are added to the stored rows by each node.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from eventyard.runtime import fault_store, timers
from eventyard.runtime.clock import Clock
from eventyard.runtime.fault_rules import FaultRule
from eventyard.runtime.supervisor import Supervisor
from eventyard.runtime.timers import Timer
from eventyard.storage import Connection, Database

log = logging.getLogger(__name__)

T = TypeVar("T")
SYNC_INTERVAL = 1.0  # other nodes' rule changes are seen within this long; counts are written as often
HELD = "fault_held_back"  # a delivery timer's payload key: a delay rule already held it back once
CLOCK_POLL = 0.05  # how often a held-back batch looks at the (possibly moved) clock
# What a Lambda invocation failed by a `fail` rule returns, as an unhandled function error would.
INJECTED_FUNCTION_ERROR = json.dumps({
    "errorMessage": "Eventyard fault injection: this invocation was failed by a 'fail' rule.",
    "errorType": "Eventyard.InjectedFault", "stackTrace": [],
}).encode()


@dataclass(frozen=True)
class Fired:
    """A rule that fired, and the draw that made it fire (a seed for any further choice, e.g. an order)."""

    rule: FaultRule
    draw: int


def resource_names(*identities: str | None) -> tuple[str, ...]:
    """Every name a rule's `resource` may use for these resources: each ARN (or URL, or name) as given,
    then its short name (a queue's, topic's, rule's, stream's, function's). The first is the stream key."""
    names: list[str] = []
    for identity in identities:
        if not identity:
            continue
        names.append(identity)
        if identity.startswith("arn:") and identity.count(":") == 7 and ":function:" in identity:
            names.append(identity.rsplit(":", 1)[0])  # a qualified function ARN: the function's own ARN too
        short = short_name(identity)
        if short != identity:
            names.append(short)
    return tuple(dict.fromkeys(names))


def short_name(identity: str) -> str:
    if identity.startswith(("http://", "https://")):  # an SQS queue URL: .../<account>/<name>
        return identity.rstrip("/").rsplit("/", 1)[-1]
    if not identity.startswith("arn:"):
        return identity
    resource = identity.split(":", 5)[-1]
    if resource.startswith("function:"):  # arn:...:function:name[:qualifier]
        return resource.split(":")[1]
    return resource.replace(":", "/").rsplit("/", 1)[-1]


def _draw(seed: int, position: int, stream: str, index: int) -> int:
    digest = hashlib.blake2b(f"{seed}\x1f{position}\x1f{stream}\x1f{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


async def wait_on_clock(clock: Clock, seconds: float) -> None:
    """Wait until the clock has moved `seconds` on: tests that move the clock end the wait early."""
    due = clock.now() + seconds
    while (left := due - clock.now()) > 0:
        await asyncio.sleep(min(left, CLOCK_POLL))


class FaultInjector:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.generation = 0
        self.seed = 0
        self.rules: list[FaultRule] = []
        self._draws: dict[tuple[int, str], int] = {}
        self._pending: dict[int, list[int]] = {}  # position -> [matched, fired] not yet written
        self._changed = asyncio.Event()
        self._flushing = asyncio.Lock()

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self, supervisor: Supervisor) -> None:
        self._adopt(await self.db.read(fault_store.load))
        self.db.subscribe(fault_store.CHANNEL, lambda _key: self._changed.set())
        supervisor.loop("faults:sync", self.sync, SYNC_INTERVAL, wake=self._changed)

    async def sync(self) -> None:
        """Write this node's counts; adopt rules another node put (on its signal, or within the interval)."""
        self._changed.clear()
        await self.flush()
        if self.db.shared and await self.db.read(fault_store.generation) != self.generation:
            self._adopt(await self.db.read(fault_store.load))

    async def flush(self) -> None:
        # One flush at a time: `describe` must not read the stored counts while the sync loop's write
        # of the counts it just took is still on its way (they would be missing from the answer).
        async with self._flushing:
            if not self._pending:
                return
            pending, self._pending = self._pending, {}
            counts = {position: (c[0], c[1]) for position, c in pending.items()}
            generation = self.generation
            await self.db.write(lambda conn: fault_store.add_counts(conn, generation, counts))

    def _adopt(self, stored: fault_store.StoredFaults) -> None:
        if stored.generation != self.generation:
            self._draws.clear()
            self._pending.clear()
        self.generation, self.seed, self.rules = stored.generation, stored.seed, stored.rules

    # -- the endpoint's operations -----------------------------------------------------------
    async def replace(self, seed: int, rules: list[FaultRule]) -> None:
        now = self.clock.now()

        def run(conn: Connection) -> fault_store.StoredFaults:
            generation = fault_store.replace(conn, seed, rules, now)
            self.db.notify(conn, fault_store.CHANNEL, str(generation))
            return fault_store.StoredFaults(generation, seed, list(rules), [0] * len(rules), [0] * len(rules))

        self._adopt(await self.db.write(run))

    async def clear(self) -> None:
        await self.replace(self.seed, [])

    async def describe(self) -> dict[str, Any]:
        """The active seed and rules, each with how often it matched and fired (on every node, as written)."""
        await self.flush()
        stored = await self.db.read(fault_store.load)
        rules = [{**rule.document(), "matched": matched, "fired": fired}
                 for rule, matched, fired in zip(stored.rules, stored.matched, stored.fired, strict=True)]
        return {"seed": stored.seed, "rules": rules}

    # -- decisions ---------------------------------------------------------------------------
    def fire(self, service: str, faults: str | frozenset[str], resources: Sequence[str],
             operation: str | None = None) -> Fired | None:
        """The first rule for `service` and one of `faults` that matches the resources (and operation)
        and whose stream's next draw falls under its probability; None if none does."""
        if not self.rules:
            return None
        for position, rule in enumerate(self.rules):
            if rule.service != service or (rule.fault != faults if isinstance(faults, str) else rule.fault not in faults):
                continue
            if rule.operation is not None and rule.operation != operation:
                continue
            if rule.resource != "*" and rule.resource not in resources:
                continue
            # A rule naming its resource draws from that name's stream, so a rerun reproduces it even
            # where the first resource is made up anew each run (a mapping's UUID, a receipt handle).
            stream = rule.resource if rule.resource != "*" else (resources[0] if resources else "*")
            index = self._draws.get((position, stream), 0)
            self._draws[(position, stream)] = index + 1
            draw = _draw(self.seed, position, stream, index)
            counts = self._pending.setdefault(position, [0, 0])
            counts[0] += 1
            if draw < rule.probability * 2 ** 64:
                counts[1] += 1
                return Fired(rule, draw)
        return None

    # -- hooks for delivery paths ------------------------------------------------------------
    async def held_back(self, service: str, resources: Sequence[str], timer: Timer) -> bool:
        """A delivery timer a `delay` rule holds back: replaced by one due `ms` later on the clock (once
        per delivery, durably). True when the caller must stop: the delivery happens later."""
        if not self.rules or timer.payload.get(HELD):
            return False
        fired = self.fire(service, "delay", resources)
        if fired is None:
            return False
        now = self.clock.now()
        payload = {**timer.payload, HELD: True}

        def run(conn: Connection) -> None:
            timers.schedule(conn, timer.kind, payload, now + fired.rule.delay_seconds, now)
            timers.cancel(conn, timer.id)

        await self.db.write(run)
        return True

    async def deliver(self, service: str, resources: Sequence[str], send: Callable[[], Awaitable[object]],
                      failure: Callable[[FaultRule], Exception]) -> None:
        """One delivery attempt under the `fail` and `duplicate` rules: a failed attempt raises
        `failure(rule)` (the path's own 5xx-style failure, so its retry policy and DLQ take over)
        instead of sending; a duplicated one is sent twice."""
        fired = self.fire(service, "fail", resources)
        if fired is not None:
            raise failure(fired.rule)
        await send()
        if self.fire(service, "duplicate", resources) is not None:
            await send()

    async def esm_batch(self, resources: Sequence[str], invoke: Callable[[], Awaitable[T]]) -> T:
        """An event source mapping's batch: held back by `delay` (on the clock; the source keeps the
        records meanwhile, so nothing is lost), and invoked twice by `duplicate`. The first outcome counts."""
        held = self.fire("lambda", "delay", resources)
        if held is not None:
            await wait_on_clock(self.clock, held.rule.delay_seconds)
        result = await invoke()
        if self.fire("lambda", "duplicate", resources) is not None:
            await invoke()
        return result

    def with_duplicates(self, service: str, resources: Sequence[str], operation: str,
                        items: Sequence[T]) -> tuple[list[T], list[int]]:
        """Items with a `duplicate` rule's picks stored twice (the copy right after its original, as a
        producer's retry would land), and where each original is in the new list."""
        if not self.rules:
            return list(items), list(range(len(items)))
        stored: list[T] = []
        originals: list[int] = []
        for item in items:
            originals.append(len(stored))
            stored.append(item)
            if self.fire(service, "duplicate", resources, operation) is not None:
                stored.append(item)
        return stored, originals
