"""What fault injection costs a request: the request path's check (server/faults.py `api_fault`) with
no rules, with rules for other services, with rules for the same service but another resource, and
with a matching rule that draws (probability 0, so the request still goes through).

Numbers are per call of the check, in-process (no HTTP), so they show the hook's own cost; an API
request through the server costs hundreds of microseconds, so the no-rule row is what every request
pays and the others are paid only while rules for that service are active.

    python bench/faults.py [--calls 200000]
"""

from __future__ import annotations

import argparse
import tempfile
import timeit
from pathlib import Path
from typing import Any

from botocore.session import get_session

from eventyard.runtime.clock import ManualClock
from eventyard.runtime.fault_rules import parse_document
from eventyard.runtime.faults import FaultInjector
from eventyard.server.faults import api_fault
from eventyard.storage import SqliteDatabase

SERVICES = {"sqs", "sns"}
CASES: list[tuple[str, list[dict[str, Any]]]] = [
    ("no rules", []),
    ("5 rules for another service", [{"service": "sns", "fault": "throttle"}] * 5),
    ("5 rules for another queue", [{"service": "sqs", "resource": "other", "fault": "throttle"}] * 5),
    ("1 matching rule (a draw per call)", [{"service": "sqs", "resource": "orders", "fault": "throttle",
                                           "probability": 0.0}]),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200_000)
    calls = parser.parse_args().calls
    injector = FaultInjector(SqliteDatabase(Path(tempfile.mkdtemp()) / "bench.sqlite3"), ManualClock())
    operation = get_session().get_service_model("sqs").operation_model("SendMessage")
    params = {"QueueUrl": "http://localhost:4566/000000000000/orders", "MessageBody": "x"}
    print(f"{'case':<36} {'µs per request':>15}")
    for label, rules in CASES:
        injector.seed, injector.rules = parse_document({"seed": 1, "rules": rules}, SERVICES)
        seconds = timeit.timeit(lambda: api_fault(injector, "sqs", operation, params, "us-east-1", "000000000000"),
                                number=calls)
        print(f"{label:<36} {seconds / calls * 1e6:>15.2f}")


if __name__ == "__main__":
    main()
