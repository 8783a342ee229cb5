"""Trace headers and hop records without a server: parsing, children keep the Root, derived roots
are stable, hops are found by any id, and the retention sweep takes only old hops."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from eventyard.runtime import trace_path, tracing
from eventyard.storage import Database, open_storage


def test_headers_parse_and_keep_their_fields() -> None:
    header = tracing.parse("Root=1-5f84c7a1-6c8e1f3a8b2d4e5f6a7b8c9d;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a:1")
    assert header is not None and header.root == "1-5f84c7a1-6c8e1f3a8b2d4e5f6a7b8c9d"
    assert header.parent == "53995c3f42cd8ad8" and header.sampled == "1"
    child = header.child("00000000000000ff")
    assert str(child) == "Root=1-5f84c7a1-6c8e1f3a8b2d4e5f6a7b8c9d;Parent=00000000000000ff;Sampled=1;Lineage=a:1"
    assert tracing.parse("Parent=1;Sampled=0") is None and tracing.parse(None) is None and tracing.parse("") is None


@given(st.floats(min_value=0, max_value=2**32 - 1), st.text(min_size=1, max_size=40))
def test_roots_are_x_ray_trace_ids(now: float, seed: str) -> None:
    assert tracing.is_trace_id(tracing.new_root(now))
    assert tracing.derived_root(seed, now) == tracing.derived_root(seed, now)  # the same after a restart
    assert tracing.is_trace_id(tracing.derived_root(seed, now))
    assert len(tracing.new_segment()) == 16 and len(tracing.derived_segment(seed)) == 16


def test_hops_are_found_by_any_id_and_swept_when_old(tmp_path: Path) -> None:
    db = open_storage("sqlite", tmp_path, "normal")
    db.migrate(tracing.MIGRATIONS)
    db.start()
    try:
        asyncio.run(_hops_scenario(db))
    finally:
        db.close()


async def _hops_scenario(db: Database) -> None:
    header = tracing.TraceHeader("1-00000001-000000000000000000000001", "aaaaaaaaaaaaaaaa", "1")
    sent = tracing.Hop(header, "bbbbbbbbbbbbbbbb", 100.0, "sqs", "SendMessage", "arn:aws:sqs:us-east-1:1:q", "1",
                       "us-east-1", ref="m-1")
    invoked = tracing.Hop(header.child("bbbbbbbbbbbbbbbb"), "cccccccccccccccc", 100.5, "lambda", "Invoke",
                          "arn:aws:lambda:us-east-1:1:function:f", "1", "us-east-1", ref="r-1", latency_ms=12.5,
                          outcome="Success")
    await db.write(lambda conn: tracing.record_many(conn, [sent, invoked]))
    path = await trace_path.follow(db, "m-1")
    assert path is not None and path["traceId"] == header.root
    assert [(h["service"], h["latencyMs"], h["durationMs"]) for h in path["hops"]] == [
        ("sqs", None, None), ("lambda", 500.0, 12.5)]
    assert path["hops"][1]["parent"] == "bbbbbbbbbbbbbbbb"
    assert (await trace_path.follow(db, f"Root={header.root};Parent=x"))["traceId"] == header.root  # type: ignore[index]
    assert await trace_path.follow(db, "1-00000009-000000000000000000000009") is None
    text = trace_path.as_text(path)
    assert text.splitlines()[0] == f"trace {header.root}: 2 hop(s) through lambda, sqs"
    assert "500.0 ms" in text and "12.5 ms" in text
    later = tracing.Hop(header, "dddddddddddddddd", 100.0 + tracing.RETENTION + 50, "sqs", "SendMessage", "q", "1",
                        "us-east-1", ref="m-2")
    await db.write(lambda conn: tracing.record(conn, later))
    now = 100.0 + tracing.RETENTION + 60
    assert await db.write(lambda conn: tracing.expire(conn, now)) == 2
    path = await trace_path.follow(db, header.root)
    assert path is not None and [h["id"] for h in path["hops"]] == ["m-2"]
