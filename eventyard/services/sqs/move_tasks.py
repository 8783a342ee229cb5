"""Message move tasks (DLQ redrive): move messages out of a dead-letter queue at a bounded rate.

Tasks are rows, so a task running when the server stops continues after it starts again.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.ids import new_uuid
from eventyard.services.sqs import queues as queue_store
from eventyard.services.sqs.messages import move_message
from eventyard.services.sqs.queues import Queue
from eventyard.storage import Connection, Row

# Without MaxNumberOfMessagesPerSecond AWS picks a "system optimized" rate; this is ours.
DEFAULT_RATE = 500


def _handle(source_arn: str) -> str:
    document = json.dumps({"taskId": new_uuid(), "sourceArn": source_arn})
    return base64.b64encode(document.encode()).decode()


def start(conn: Connection, source: Queue, destination_arn: str | None, rate: int | None,
          region: str, now: float) -> str:
    if not queue_store.dead_letter_sources(conn, source):
        raise AwsError("InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue.")
    if destination_arn is not None and queue_store.find_by_arn(conn, destination_arn) is None:
        raise AwsError("ResourceNotFoundException", "The resource that you specified for the DestinationArn "
                       "parameter doesn't exist.", 404)
    if rate is not None and not 1 <= rate <= 500:
        raise AwsError("InvalidParameterValue", "Value for parameter MaxNumberOfMessagesPerSecond is invalid. "
                       "Reason: Must be between 1 and 500.")
    running = conn.execute("SELECT 1 FROM sqs_move_tasks WHERE source_arn = ? AND status = 'RUNNING'",
                           (source.arn,)).fetchone()
    if running:
        raise AwsError("InvalidParameterValue", "There is already a task running. Only one active task is allowed "
                       "for a source queue arn at a given time.")
    to_move = conn.execute("SELECT COUNT(*) FROM sqs_messages WHERE queue_id = ? AND expires_at > ?",
                           (source.id, now)).fetchone()[0]
    handle = _handle(source.arn)
    conn.execute(
        "INSERT INTO sqs_move_tasks (task_handle, source_arn, destination_arn, max_per_second, status, to_move,"
        " started_at, last_moved_at) VALUES (?, ?, ?, ?, 'RUNNING', ?, ?, ?)",
        (handle, source.arn, destination_arn, rate, to_move, now, now),
    )
    return handle


def handle_source(handle: str) -> str:
    """The source queue ARN a task handle names (handles are base64 JSON: taskId and sourceArn)."""
    try:
        document = json.loads(base64.b64decode(handle, validate=True))
        source = document["sourceArn"] if isinstance(document, dict) and "taskId" in document else None
    except (ValueError, UnicodeDecodeError):
        source = None
    if not isinstance(source, str):
        raise AwsError("InvalidParameterValue", "Value for parameter TaskHandle is invalid.")
    return source


def cancel(conn: Connection, handle: str) -> int:
    row = conn.execute("SELECT status, moved FROM sqs_move_tasks WHERE task_handle = ?", (handle,)).fetchone()
    if row is None:
        raise AwsError("ResourceNotFoundException", "Task does not exist.", 404)
    if row["status"] != "RUNNING":
        raise AwsError("UnsupportedOperation", "Only active tasks can be cancelled.")
    conn.execute("UPDATE sqs_move_tasks SET status = 'CANCELLED' WHERE task_handle = ?", (handle,))
    return int(row["moved"])


def list_tasks(conn: Connection, source_arn: str, max_results: int) -> list[dict[str, Any]]:
    if not 1 <= max_results <= 10:
        raise AwsError("InvalidParameterValue", "Value for parameter MaxResults is invalid. Reason: Must be "
                       "between 1 and 10.")
    rows = conn.execute("SELECT * FROM sqs_move_tasks WHERE source_arn = ? ORDER BY started_at DESC LIMIT ?",
                        (source_arn, max_results)).fetchall()
    results = []
    for row in rows:
        entry: dict[str, Any] = {
            "Status": row["status"],
            "SourceArn": row["source_arn"],
            "ApproximateNumberOfMessagesMoved": row["moved"],
            "ApproximateNumberOfMessagesToMove": row["to_move"],
            "StartedTimestamp": int(row["started_at"] * 1000),
        }
        if row["status"] == "RUNNING":
            entry["TaskHandle"] = row["task_handle"]
        if row["destination_arn"]:
            entry["DestinationArn"] = row["destination_arn"]
        if row["max_per_second"] is not None:
            entry["MaxNumberOfMessagesPerSecond"] = row["max_per_second"]
        if row["failure_reason"]:
            entry["FailureReason"] = row["failure_reason"]
        results.append(entry)
    return results


def step(conn: Connection, now: float) -> bool:
    """Advance every running task by what its rate allows since its last step; True if any still runs."""
    tasks = conn.execute("SELECT * FROM sqs_move_tasks WHERE status = 'RUNNING'").fetchall()
    for task in tasks:
        _step_task(conn, task, now)
    return bool(tasks)


def _step_task(conn: Connection, task: Row, now: float) -> None:
    source = queue_store.find_by_arn(conn, task["source_arn"])
    if source is None:
        _finish(conn, task["task_handle"], "FAILED", "AWS.SimpleQueueService.NonExistentQueue")
        return
    rate = task["max_per_second"] or DEFAULT_RATE
    # The first message moves at once, then `rate` a second: what the elapsed time allows, less what moved.
    budget = int((now - task["started_at"]) * rate) + 1 - task["moved"]
    if budget <= 0:
        return
    rows = conn.execute(
        "SELECT * FROM sqs_messages WHERE queue_id = ? AND available_at <= ? AND expires_at > ? ORDER BY seq LIMIT ?",
        (source.id, now, now, min(budget, rate)),
    ).fetchall()
    moved = 0
    for row in rows:
        destination_arn = task["destination_arn"] or row["dead_letter_source_arn"]
        destination = queue_store.find_by_arn(conn, destination_arn) if destination_arn else None
        if destination is None:
            _finish(conn, task["task_handle"], "FAILED", "AWS.SimpleQueueService.NonExistentQueue", moved)
            return
        move_message(conn, row, destination, now)
        moved += 1
    done = task["moved"] + moved
    conn.execute("UPDATE sqs_move_tasks SET moved = ?, last_moved_at = ? WHERE task_handle = ?",
                 (done, now, task["task_handle"]))
    emptied = conn.execute("SELECT 1 FROM sqs_messages WHERE queue_id = ? AND expires_at > ? LIMIT 1",
                           (source.id, now)).fetchone() is None
    if done >= task["to_move"] or emptied:
        _finish(conn, task["task_handle"], "COMPLETED")


def _finish(conn: Connection, handle: str, status: str, reason: str | None = None, moved: int = 0) -> None:
    conn.execute("UPDATE sqs_move_tasks SET status = ?, failure_reason = ?, moved = moved + ? WHERE task_handle = ?",
                 (status, reason, moved, handle))
