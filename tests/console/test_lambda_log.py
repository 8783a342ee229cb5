"""A function's recent invocations, read from the START/REPORT lines of its log."""

from __future__ import annotations

from eventyard.console.pages.lambda_ import invocations


def test_invocations_are_read_from_start_and_report_lines_per_stream() -> None:
    log = [
        {"timestamp": 1000, "logStreamName": "a", "message": "START RequestId: r1 Version: $LATEST"},
        {"timestamp": 1001, "logStreamName": "b", "message": "START RequestId: r2 Version: $LATEST"},
        {"timestamp": 1002, "logStreamName": "a", "message": "charging o-1"},
        {"timestamp": 1003, "logStreamName": "b", "message": "[ERROR] ValueError: negative\rTraceback (most recent"},
        {"timestamp": 1004, "logStreamName": "b", "message": "END RequestId: r2"},
        {"timestamp": 1005, "logStreamName": "b", "message": "REPORT RequestId: r2\tDuration: 0.52 ms\tBilled"},
        {"timestamp": 1006, "logStreamName": "a", "message": "REPORT RequestId: r1\tDuration: 11.20 ms\tBilled"},
        {"timestamp": 1007, "logStreamName": "a", "message": "START RequestId: r3 Version: $LATEST"},
    ]
    found = {i.request_id: i for i in invocations(log)}
    assert found["r1"].duration_ms == 11.2 and found["r1"].error is None and found["r1"].lines == ["charging o-1"]
    assert found["r2"].duration_ms == 0.52 and found["r2"].error == "[ERROR] ValueError: negative"
    assert found["r3"].duration_ms is None  # still running
