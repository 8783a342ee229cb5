"""The fault engine itself: rule documents, matching, deterministic draws, stored state and the hooks
delivery paths call (held-back timers, duplicated items, batches)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventyard.runtime import fault_store, timers
from eventyard.runtime.clock import ManualClock
from eventyard.runtime.fault_rules import FaultRule, FaultRuleError, parse_document
from eventyard.runtime.faults import HELD, FaultInjector, resource_names
from eventyard.runtime.timers import Timer
from eventyard.storage import SqliteDatabase

SERVICES = {"sqs", "sns", "events", "lambda", "kinesis", "scheduler"}


def injector(tmp_path: Path, name: str = "f") -> tuple[SqliteDatabase, ManualClock, FaultInjector]:
    db = SqliteDatabase(tmp_path / f"{name}.sqlite3")
    db.migrate([*timers.MIGRATIONS, *fault_store.MIGRATIONS])
    clock = ManualClock()
    return db, clock, FaultInjector(db, clock)


def put(faults: FaultInjector, seed: int, *rules: dict[str, object]) -> None:
    parsed_seed, parsed = parse_document({"seed": seed, "rules": list(rules)}, SERVICES)
    asyncio.run(faults.replace(parsed_seed, parsed))


def test_resource_names_cover_arns_urls_and_short_names() -> None:
    assert resource_names("arn:aws:sqs:us-east-1:000000000000:orders") == (
        "arn:aws:sqs:us-east-1:000000000000:orders", "orders")
    assert resource_names("http://localhost:4566/000000000000/orders")[1] == "orders"
    assert resource_names("arn:aws:events:us-east-1:000000000000:rule/bus/r1")[1] == "r1"
    assert resource_names("arn:aws:lambda:us-east-1:000000000000:function:fn:live") == (
        "arn:aws:lambda:us-east-1:000000000000:function:fn:live", "arn:aws:lambda:us-east-1:000000000000:function:fn",
        "fn")
    assert resource_names("http://localhost:4566/queue/eu-west-1/000000000000/orders")[1] == "orders"
    assert resource_names("arn:aws:states:us-east-1:000000000000:stateMachine:flow")[1] == "flow"
    assert resource_names(None, "name", "name") == ("name",)


def test_a_rule_matches_its_service_fault_resource_and_operation(tmp_path: Path) -> None:
    _, _, faults = injector(tmp_path)
    put(faults, 1, {"service": "sqs", "resource": "orders", "operation": "SendMessage", "fault": "throttle"})
    orders = resource_names("arn:aws:sqs:us-east-1:000000000000:orders")
    assert faults.fire("sqs", "throttle", orders, "SendMessage") is not None
    assert faults.fire("sqs", "throttle", orders, "ReceiveMessage") is None
    assert faults.fire("sqs", "throttle", resource_names("arn:aws:sqs:us-east-1:000000000000:other"),
                       "SendMessage") is None
    assert faults.fire("sns", "throttle", orders, "SendMessage") is None
    assert faults.fire("sqs", "error", orders, "SendMessage") is None


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(min_value=-(2 ** 63), max_value=2 ** 63 - 1),
       probability=st.floats(min_value=0.0, max_value=1.0),
       streams=st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=40))
def test_the_same_seed_and_requests_give_the_same_decisions(tmp_path_factory: pytest.TempPathFactory, seed: int,
                                                            probability: float, streams: list[str]) -> None:
    rule = FaultRule("sqs", "duplicate", probability=probability)
    runs = []
    for _ in range(2):
        faults = FaultInjector(SqliteDatabase(tmp_path_factory.mktemp("h") / "f.sqlite3"), ManualClock())
        faults.seed, faults.rules, faults.generation = seed, [rule], 1
        runs.append([faults.fire("sqs", "duplicate", (stream,)) is not None for stream in streams])
    assert runs[0] == runs[1]
    if probability == 0.0:
        assert not any(runs[0])
    if probability == 1.0:
        assert all(runs[0])


def test_a_streams_draws_do_not_depend_on_other_resources_traffic(tmp_path: Path) -> None:
    _, _, faults = injector(tmp_path)
    put(faults, 9, {"service": "sqs", "fault": "duplicate", "probability": 0.5})
    alone = [faults.fire("sqs", "duplicate", ("a",)) is not None for _ in range(30)]
    put(faults, 9, {"service": "sqs", "fault": "duplicate", "probability": 0.5})  # a new generation: from the start
    mixed = []
    for _ in range(30):
        faults.fire("sqs", "duplicate", ("b",))
        mixed.append(faults.fire("sqs", "duplicate", ("a",)) is not None)
    assert mixed == alone
    assert 0 < sum(alone) < 30


def test_probability_is_honoured_over_many_draws(tmp_path: Path) -> None:
    _, _, faults = injector(tmp_path)
    put(faults, 2024, {"service": "sqs", "fault": "reorder", "probability": 0.2})
    fired = sum(faults.fire("sqs", "reorder", (f"q{n % 7}",)) is not None for n in range(5000))
    assert 850 < fired < 1150


def test_rules_and_counts_are_stored_and_read_back(tmp_path: Path) -> None:
    db, clock, faults = injector(tmp_path)
    put(faults, 77, {"service": "events", "resource": "r", "fault": "delay", "ms": 250, "probability": 0.5},
        {"service": "sqs", "fault": "duplicate"})
    for _ in range(4):
        faults.fire("sqs", "duplicate", ("q",))
    described = asyncio.run(faults.describe())
    assert described["seed"] == 77
    assert described["rules"][0] == {"service": "events", "resource": "r", "fault": "delay", "probability": 0.5,
                                      "ms": 250, "matched": 0, "fired": 0}
    assert (described["rules"][1]["matched"], described["rules"][1]["fired"]) == (4, 4)
    restarted = FaultInjector(db, clock)
    restarted._adopt(db.run_sync(fault_store.load))
    assert restarted.seed == 77 and [r.fault for r in restarted.rules] == ["delay", "duplicate"]


def test_a_held_back_timer_is_replaced_once_by_one_due_later(tmp_path: Path) -> None:
    db, clock, faults = injector(tmp_path)
    put(faults, 1, {"service": "events", "fault": "delay", "ms": 1500})
    timer_id = db.run_sync(lambda conn: timers.schedule(conn, "delivery", {"n": 1}, clock.now(), clock.now()))
    timer = Timer(timer_id, "delivery", clock.now(), {"n": 1}, 1, clock.now())
    assert asyncio.run(faults.held_back("events", ("rule",), timer)) is True
    rows = db.run_sync(lambda conn: conn.execute("SELECT id, due_at, payload FROM timers").fetchall())
    assert len(rows) == 1 and rows[0][0] != timer_id
    assert rows[0][1] == pytest.approx(clock.now() + 1.5)
    later = Timer(rows[0][0], "delivery", rows[0][1], {"n": 1, HELD: True}, 1, clock.now())
    assert asyncio.run(faults.held_back("events", ("rule",), later)) is False  # once per delivery


def test_duplicated_items_follow_their_originals(tmp_path: Path) -> None:
    _, _, faults = injector(tmp_path)
    put(faults, 1, {"service": "kinesis", "fault": "duplicate", "operation": "PutRecords"})
    stored, originals = faults.with_duplicates("kinesis", ("s",), "PutRecords", ["a", "b", "c"])
    assert stored == ["a", "a", "b", "b", "c", "c"] and originals == [0, 2, 4]
    assert faults.with_duplicates("kinesis", ("s",), "PutRecord", ["a"]) == (["a"], [0])


def test_an_injected_failure_replaces_the_delivery_and_a_duplicate_repeats_it(tmp_path: Path) -> None:
    _, _, faults = injector(tmp_path)
    sent: list[int] = []

    async def send() -> None:
        sent.append(1)

    put(faults, 1, {"service": "sns", "fault": "fail"})
    with pytest.raises(RuntimeError, match="injected"):
        asyncio.run(faults.deliver("sns", ("t",), send, lambda rule: RuntimeError(f"injected {rule.fault}")))
    assert sent == []
    put(faults, 1, {"service": "sns", "fault": "duplicate"})
    asyncio.run(faults.deliver("sns", ("t",), send, lambda rule: RuntimeError("unexpected")))
    assert sent == [1, 1]


def test_a_batch_is_held_back_on_the_clock(tmp_path: Path) -> None:
    _, clock, faults = injector(tmp_path)
    put(faults, 1, {"service": "lambda", "fault": "delay", "ms": 60_000})
    calls: list[float] = []

    async def invoke() -> str:
        calls.append(clock.now())
        return "done"

    async def scenario() -> str:
        batch = asyncio.ensure_future(faults.esm_batch(("mapping",), invoke))
        await asyncio.sleep(0.2)
        assert calls == []  # real time passes, the clock does not: still held
        clock.advance(60)
        return await asyncio.wait_for(batch, 5)

    started = clock.now()
    assert asyncio.run(scenario()) == "done"
    assert calls == [started + 60]


@pytest.mark.parametrize("document", [
    {"seed": 2 ** 64, "rules": []},
    {"seed": True, "rules": []},
    {"rules": [{"service": "sqs", "fault": "duplicate", "probability": True}]},
    {"rules": [{"service": "sqs", "fault": "duplicate", "resource": ""}]},
    {"rules": [{"service": "sqs", "fault": "reorder", "operation": "ReceiveMessage", "ms": 1}]},
    {"rules": [{"service": "events", "fault": "delay", "ms": 10 ** 9}]},
    {"rules": "everything"},
    {"rules": [{"service": "sqs", "fault": "throttle"}] * 101},
])
def test_documents_that_cannot_be_used_are_refused(document: dict[str, object]) -> None:
    with pytest.raises(FaultRuleError):
        parse_document(document, SERVICES)


def test_the_counts_answered_include_those_a_sync_is_still_writing(tmp_path: Path) -> None:
    """GET /_eventyard/faults flushes and then reads the stored counts: a flush the sync loop started a
    moment before (its write not yet committed) must be waited for, or its counts are missing."""
    db, _, faults = injector(tmp_path)
    put(faults, 1, {"service": "sqs", "fault": "throttle"})
    assert faults.fire("sqs", "throttle", ("orders",), "SendMessage") is not None

    async def scenario() -> dict[str, object]:
        write = db.write
        entered, release = asyncio.Event(), asyncio.Event()

        async def held_write(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
            entered.set()
            await release.wait()
            return await write(fn, *args, **kwargs)

        db.write = held_write  # type: ignore[method-assign]
        syncing = asyncio.create_task(faults.flush())  # the sync loop took the counts; its write waits
        await entered.wait()
        db.write = write  # type: ignore[method-assign]
        described = asyncio.create_task(faults.describe())
        await asyncio.wait({described}, timeout=1.0)  # without waiting for the flush it answers now
        release.set()
        await syncing
        return await described

    rules = asyncio.run(scenario())["rules"]
    assert isinstance(rules, list) and [rule["matched"] for rule in rules] == [1]
