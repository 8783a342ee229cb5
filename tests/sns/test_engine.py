"""Engine tests without a server: retry schedules, the outbox's FIFO chains, filters, signing."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from eventyard.runtime import timers
from eventyard.runtime.clock import ManualClock
from eventyard.services.sns import filters, outbox, policies, signing
from eventyard.services.sns.filters import FilterIndex
from eventyard.services.sns.schema import MIGRATIONS
from eventyard.services.sns.signing import Signer, string_to_sign
from eventyard.storage import SqliteDatabase


@pytest.fixture
def db(tmp_path: Path) -> SqliteDatabase:
    database = SqliteDatabase(tmp_path / "db.sqlite3")
    database.migrate(timers.MIGRATIONS)
    database.migrate([*MIGRATIONS, *filters.MIGRATIONS])
    return database


def test_default_http_policy_retries_three_times_twenty_seconds_apart() -> None:
    schedule = policies.http_schedule(policies.effective_subscription_delivery_policy(None, None))
    assert [schedule.delay(i) for i in range(1, 5)] == [20.0, 20.0, 20.0, None]


def test_http_policy_phases_run_in_aws_order() -> None:
    schedule = policies.http_schedule({"healthyRetryPolicy": {
        "numRetries": 8, "numNoDelayRetries": 2, "numMinDelayRetries": 1, "numMaxDelayRetries": 2,
        "minDelayTarget": 5, "maxDelayTarget": 50, "backoffFunction": "linear"}})
    delays = [schedule.delay(i) for i in range(1, 10)]
    assert delays[:3] == [0.0, 0.0, 5.0]
    assert delays[3:6] == [20.0, 35.0, 50.0]  # linear backoff from 5 to 50 over three retries
    assert delays[6:] == [50.0, 50.0, None]


def test_managed_endpoints_retry_for_100015_attempts() -> None:
    schedule = policies.MANAGED_SCHEDULE
    assert [schedule.delay(i) for i in range(1, 6)] == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert schedule.delay(100_014) == 20.0 and schedule.delay(100_015) is None


def test_subscription_overrides_unless_the_topic_disables_them() -> None:
    topic = json.dumps({"http": {"defaultHealthyRetryPolicy": {"numRetries": 5}, "disableSubscriptionOverrides": True}})
    own = json.dumps({"healthyRetryPolicy": {"numRetries": 1}})
    assert policies.effective_subscription_delivery_policy(topic, own)["healthyRetryPolicy"]["numRetries"] == 5
    assert policies.effective_subscription_delivery_policy(None, own)["healthyRetryPolicy"]["numRetries"] == 1


def test_policies_longer_than_an_hour_are_rejected() -> None:
    with pytest.raises(Exception) as excinfo:
        policies.validate_subscription_delivery_policy(json.dumps({"healthyRetryPolicy": {
            "numRetries": 100, "minDelayTarget": 3600, "maxDelayTarget": 3600}}))
    assert "3600" in str(excinfo.value)


def _document(message_id: str) -> dict[str, Any]:
    return {"MessageId": message_id, "TopicArn": "arn:aws:sns:us-east-1:000000000000:t.fifo", "Type": "Notification"}


def _due(conn: sqlite3.Connection) -> list[int]:
    return [json.loads(r[0])["delivery"] for r in conn.execute("SELECT payload FROM timers ORDER BY id")]


def test_a_fifo_group_has_one_scheduled_delivery_at_a_time(db: SqliteDatabase) -> None:
    clock = ManualClock()
    sub = "arn:aws:sns:us-east-1:000000000000:t.fifo:00000000-0000-0000-0000-000000000001"

    def publish_three(conn: sqlite3.Connection) -> None:
        for i in range(3):
            outbox.enqueue(conn, _document(f"m{i}"), [sub], "g", clock.now())
        outbox.enqueue(conn, _document("other"), [sub], "h", clock.now())

    db.run_sync(publish_three)
    first, other = db.run_sync(_due)
    assert db.run_sync(lambda c: outbox.load(c, first))[1]["MessageId"] == "m0"  # type: ignore[index]
    assert db.run_sync(lambda c: outbox.load(c, other))[1]["MessageId"] == "other"  # type: ignore[index]
    db.run_sync(lambda c: c.execute("DELETE FROM timers"))
    clock.advance(1)
    assert db.run_sync(lambda c: outbox.complete(c, first, clock.now())) is True
    [second] = db.run_sync(_due)
    assert db.run_sync(lambda c: outbox.load(c, second))[1]["MessageId"] == "m1"  # type: ignore[index]
    assert db.run_sync(lambda c: c.execute("SELECT COUNT(*) FROM sns_messages WHERE id = 'm0'").fetchone()[0]) == 0
    assert db.run_sync(lambda c: outbox.complete(c, first, clock.now())) is False  # finishing twice is harmless


def test_filter_index_follows_subscription_changes(db: SqliteDatabase) -> None:
    topic = "arn:aws:sns:us-east-1:000000000000:t"

    def add(conn: sqlite3.Connection, arn: str, attributes: dict[str, str], created: float) -> None:
        conn.execute("INSERT INTO sns_subscriptions (arn, topic_arn, account_id, region, protocol, endpoint,"
                     " attributes, confirmed, created_at) VALUES (?, ?, '0', 'us-east-1', 'sqs', ?, ?, 1, ?)",
                     (arn, topic, arn, json.dumps(attributes), created))

    index = FilterIndex()
    db.run_sync(lambda c: add(c, "all", {}, 1))
    db.run_sync(lambda c: add(c, "red", {"FilterPolicy": '{"color": ["red"]}'}, 2))
    db.run_sync(lambda c: add(c, "big", {"FilterPolicy": '{"size": [{"numeric": [">", 10]}]}',
                                         "FilterPolicyScope": "MessageBody"}, 3))
    red = {"color": {"DataType": "String", "StringValue": "red"}}
    assert db.run_sync(lambda c: index.matching(c, topic, red, '{"size": 11}')) == ["all", "red", "big"]
    assert db.run_sync(lambda c: index.matching(c, topic, {}, "not json")) == ["all"]
    db.run_sync(lambda c: c.execute("DELETE FROM sns_subscriptions WHERE arn = 'red'"))
    assert db.run_sync(lambda c: index.matching(c, topic, red, "x")) == ["all", "red"]  # cached until invalidated
    db.run_sync(lambda c: index.invalidate(c, topic))
    assert db.run_sync(lambda c: index.matching(c, topic, red, "x")) == ["all"]


@pytest.mark.parametrize("version,algorithm", [("1", hashes.SHA1()), ("2", hashes.SHA256())])
def test_signatures_verify_with_the_certificate_and_survive_restarts(tmp_path: Path, version: str,
                                                                     algorithm: Any) -> None:
    """The key lives in the database: a restart (or another node) proposing its own key gets the first one."""
    document = {"Type": "Notification", "MessageId": "id", "TopicArn": "arn", "Message": "m",
                "Timestamp": "2024-01-01T00:00:00.000Z"}
    assert string_to_sign(document) == "Message\nm\nMessageId\nid\nTimestamp\n2024-01-01T00:00:00.000Z\n" \
                                       "TopicArn\narn\nType\nNotification\n"
    database = SqliteDatabase(tmp_path / "keys.sqlite3")
    database.migrate(signing.MIGRATIONS)
    signer = Signer(*database.run_sync(lambda c: signing.agree(c, *signing.candidate_key(tmp_path))))
    signature = base64.b64decode(signer.sign(document, version))
    again = Signer(*database.run_sync(lambda c: signing.agree(c, *signing.candidate_key(tmp_path / "elsewhere"))))
    database.close()
    assert again.certificate_pem == signer.certificate_pem
    certificate = x509.load_pem_x509_certificate(again.certificate_pem)
    certificate.public_key().verify(signature, string_to_sign(document).encode(),  # type: ignore[call-arg,union-attr]
                                    padding.PKCS1v15(), algorithm)  # type: ignore[arg-type]
