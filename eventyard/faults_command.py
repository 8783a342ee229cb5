"""`eventyard faults set FILE|-`, `eventyard faults show`, `eventyard faults clear`: the fault rules of
a running server (/_eventyard/faults), from the command line.

`set` reads a `{"seed": N, "rules": [...]}` document (or a bare list of rules, seed 0) from a file or
standard input and makes it the server's active rules; `show` prints them with how often each
matched and fired; `clear` removes them all.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from eventyard import admin_client

PATH = "/_eventyard/faults"
COLUMNS = ("#", "service", "resource", "operation", "fault", "probability", "parameters", "matched", "fired")


def run(action: str, source: str | None, endpoint: str | None, as_json: bool = False,
        stdin: TextIO | None = None) -> int:
    target = admin_client.endpoint_of(endpoint)
    try:
        if action == "set":
            document = _read(source or "-", stdin or sys.stdin)
            status, answer = admin_client.call(target, "PUT", PATH, document)
        elif action == "clear":
            status, answer = admin_client.call(target, "DELETE", PATH)
        else:
            status, answer = admin_client.call(target, "GET", PATH)
    except OSError as error:
        print(f"eventyard faults: cannot reach {target}: {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"eventyard faults: {error}", file=sys.stderr)
        return 2
    if status != 200:
        print(f"eventyard faults: {answer.get('error') or answer.get('message') or status}", file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2) if as_json else as_text(answer))
    return 0


def _read(source: str, stdin: TextIO) -> Any:
    text = stdin.read() if source == "-" else Path(source).read_text()
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ValueError(f"{'standard input' if source == '-' else source} is not JSON: {error}") from None
    return {"seed": 0, "rules": document} if isinstance(document, list) else document


def as_text(answer: dict[str, Any]) -> str:
    rules = answer.get("rules", [])
    if not rules:
        return f"seed {answer.get('seed', 0)}: no fault rules are active"
    rows = [COLUMNS] + [_row(n, rule) for n, rule in enumerate(rules)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return f"seed {answer['seed']}\n" + "\n".join(lines)


def _row(position: int, rule: dict[str, Any]) -> tuple[str, ...]:
    known = {"service", "resource", "operation", "fault", "probability", "matched", "fired"}
    params = " ".join(f"{key}={value}" for key, value in rule.items() if key not in known)
    return (str(position), rule["service"], rule["resource"], rule.get("operation") or "-", rule["fault"],
            f"{rule['probability']:g}", params or "-", str(rule.get("matched", 0)), str(rule.get("fired", 0)))
