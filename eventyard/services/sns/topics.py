"""Topics: creation (standard and FIFO), attributes, tags, permissions and listing.

Every function runs inside one storage transaction (a function of the connection).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from eventyard.protocol.errors import AwsError
from eventyard.services import paging
from eventyard.services.sns import policies
from eventyard.services.sns.errors import invalid_parameter, resource_not_found, topic_not_found
from eventyard.services.sns.names import TopicKey, parse_topic_arn, validate_topic_name
from eventyard.storage import Connection, Row

MAX_TAGS = 50
PAGE_SIZE = 100

_FEEDBACK = [f"{p}{o}Feedback{s}" for p in ("Application", "HTTP", "Firehose", "Lambda", "SQS")
             for o in ("Success", "Failure") for s in ("RoleArn", "SampleRate") if not (o == "Failure" and s == "SampleRate")]
# Attributes SetTopicAttributes accepts (AWS API reference, SetTopicAttributes).
SETTABLE = {"DeliveryPolicy", "DisplayName", "Policy", "TracingConfig", "KmsMasterKeyId", "SignatureVersion",
            "ContentBasedDeduplication", "ArchivePolicy", "FifoThroughputScope", "DataProtectionPolicy", *_FEEDBACK}
CREATABLE = SETTABLE | {"FifoTopic"}


@dataclass
class Topic:
    arn: str
    key: TopicKey
    fifo: bool
    attributes: dict[str, str]
    tags: dict[str, str]
    subscriptions_deleted: int

    @property
    def content_based_dedup(self) -> bool:
        return self.attributes.get("ContentBasedDeduplication", "false").lower() == "true"

    @property
    def signature_version(self) -> str:
        return self.attributes.get("SignatureVersion", "1")


def _row_to_topic(row: Row) -> Topic:
    return Topic(row["arn"], TopicKey(row["account_id"], row["region"], row["name"]), bool(row["fifo"]),
                 json.loads(row["attributes"]), json.loads(row["tags"]), row["subscriptions_deleted"])


def find(conn: Connection, arn: str) -> Topic | None:
    row = conn.execute("SELECT * FROM sns_topics WHERE arn = ?", (arn,)).fetchone()
    return _row_to_topic(row) if row else None


def get(conn: Connection, arn: str, region: str | None = None) -> Topic:
    key = parse_topic_arn(arn)
    if region is not None and key.region != region:
        raise invalid_parameter("TopicArn")  # another region's topic is not "not found" (recorded)
    topic = find(conn, key.arn)
    if topic is None:
        raise topic_not_found()
    return topic


def _validate_attribute(name: str, value: str, fifo: bool, creating: bool) -> str:
    allowed = CREATABLE if creating else SETTABLE
    if name not in allowed:
        raise invalid_parameter("AttributeName" if not creating else "Attributes",
                                None if not creating else f"Unknown attribute {name}")
    if name == "SignatureVersion" and value not in {"1", "2"}:
        raise invalid_parameter("SignatureVersion")
    if name == "TracingConfig" and value not in {"PassThrough", "Active"}:
        raise invalid_parameter("TracingConfig")
    if name in {"ContentBasedDeduplication", "FifoTopic"}:
        if value.lower() not in {"true", "false"}:
            raise invalid_parameter(name)
        value = value.lower()
        if name == "ContentBasedDeduplication" and not fifo and value == "true":
            raise invalid_parameter("ContentBasedDeduplication",
                                    "Content based deduplication can only be set for FIFO topics")
    if name in {"ArchivePolicy", "FifoThroughputScope"} and not fifo:
        raise invalid_parameter(name, f"{name} can only be set for FIFO topics")
    if name == "FifoThroughputScope" and value not in {"Topic", "MessageGroup"}:
        raise invalid_parameter("FifoThroughputScope")
    if name in {"Policy", "DataProtectionPolicy", "ArchivePolicy"} and value:
        try:
            document = json.loads(value)
        except ValueError:
            raise invalid_parameter(name, "failed to parse JSON") from None
        if not isinstance(document, dict):
            raise invalid_parameter(name)
    if name == "DeliveryPolicy" and value:
        policies.validate_topic_delivery_policy(value)
    return value


def create(conn: Connection, key: TopicKey, attributes: dict[str, str], tags: dict[str, str],
           now: float) -> str:
    fifo_flag = attributes.get("FifoTopic", "false").lower() == "true"
    validate_topic_name(key.name, fifo_flag)
    if key.fifo and not fifo_flag:
        raise invalid_parameter("Topic Name")  # a .fifo name needs FifoTopic=true
    clean = {name: _validate_attribute(name, str(value), fifo_flag, True) for name, value in attributes.items()}
    clean.pop("FifoTopic", None)
    if len(tags) > MAX_TAGS:
        raise tag_limit_error()
    existing = find(conn, key.arn)
    if existing is not None:
        # CreateTopic is idempotent; the same name with other settings is a conflict (AWS wording).
        changed = {k: v for k, v in clean.items() if existing.attributes.get(k, _defaults_for(k)) != v}
        if changed:
            raise invalid_parameter("Attributes", "Topic already exists with different attributes")
        if tags and any(existing.tags.get(k) != v for k, v in tags.items()):
            raise invalid_parameter("Tags", "Topic already exists with different tags")
        return existing.arn
    conn.execute(
        "INSERT INTO sns_topics (arn, account_id, region, name, fifo, attributes, tags, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (key.arn, key.account_id, key.region, key.name, int(fifo_flag), json.dumps(clean), json.dumps(tags), now),
    )
    return key.arn


def _defaults_for(name: str) -> str | None:
    return {"ContentBasedDeduplication": "false", "SignatureVersion": "1"}.get(name)


def tag_limit_error() -> AwsError:
    return AwsError("TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded", 400)


def delete(conn: Connection, arn: str, region: str | None = None) -> list[str]:
    """Delete a topic and its subscriptions; deleting a missing topic succeeds (AWS is idempotent)."""
    key = parse_topic_arn(arn)
    if region is not None and key.region != region:
        raise invalid_parameter("TopicArn")
    subscriptions = [r[0] for r in conn.execute("SELECT arn FROM sns_subscriptions WHERE topic_arn = ?", (key.arn,))]
    conn.execute("DELETE FROM sns_subscriptions WHERE topic_arn = ?", (key.arn,))
    conn.execute("DELETE FROM sns_topics WHERE arn = ?", (key.arn,))
    conn.execute("DELETE FROM sns_dedup WHERE topic_arn = ?", (key.arn,))
    return subscriptions


def attributes_view(conn: Connection, topic: Topic) -> dict[str, str]:
    counts = dict(conn.execute(
        "SELECT confirmed, COUNT(*) FROM sns_subscriptions WHERE topic_arn = ? GROUP BY confirmed", (topic.arn,)
    ).fetchall())
    view = {
        "TopicArn": topic.arn,
        "Owner": topic.key.account_id,
        "Policy": topic.attributes.get("Policy") or policies.default_topic_policy(topic.arn, topic.key.account_id),
        "DisplayName": topic.attributes.get("DisplayName", ""),
        "SubscriptionsConfirmed": str(counts.get(1, 0)),
        "SubscriptionsPending": str(counts.get(0, 0)),
        "SubscriptionsDeleted": str(topic.subscriptions_deleted),
        "EffectiveDeliveryPolicy": policies.effective_topic_delivery_policy(topic.attributes.get("DeliveryPolicy")),
    }
    for name, value in topic.attributes.items():
        if name not in {"Policy", "DisplayName"}:
            view[name] = value
    if topic.fifo:
        view["FifoTopic"] = "true"
        view.setdefault("ContentBasedDeduplication", "false")
    return view


def set_attribute(conn: Connection, topic: Topic, name: str, value: str) -> None:
    value = _validate_attribute(name, value, topic.fifo, False)
    attributes = dict(topic.attributes)
    if value == "" and name not in {"DisplayName"}:
        attributes.pop(name, None)  # an empty value resets the attribute to its default
    else:
        attributes[name] = value
    conn.execute("UPDATE sns_topics SET attributes = ? WHERE arn = ?", (json.dumps(attributes), topic.arn))


def token_error(token: str) -> AwsError:
    return invalid_parameter("NextToken")


def list_page(conn: Connection, account_id: str, region: str, token: str | None) -> paging.Page[str]:
    """A page of topic ARNs (100, as AWS pages them), keyset by ARN."""
    listing = f"sns:topics:{account_id}:{region}"
    after = paging.unseal(token, listing, token_error) if token else None

    def read(key: paging.Key | None, count: int) -> list[str]:
        sql, key_args = paging.keyset_sql("SELECT arn FROM sns_topics", "account_id = ? AND region = ?", ["arn"], key)
        return [row[0] for row in conn.execute(sql, [account_id, region, *key_args, count]).fetchall()]

    return paging.page(read, lambda arn: (arn,), PAGE_SIZE, after, listing=listing)


# -- tags ------------------------------------------------------------------------------------
def _tagged(conn: Connection, arn: str) -> Topic:
    try:
        key = parse_topic_arn(arn, "ResourceArn")
    except Exception:
        raise resource_not_found() from None
    topic = find(conn, key.arn)
    if topic is None:
        raise resource_not_found()
    return topic


def check_tag_list(tags: list[dict[str, str]]) -> dict[str, str]:
    keys = [t["Key"] for t in tags]
    if len(set(keys)) != len(keys):
        raise invalid_parameter("Duplicated keys are not allowed.")
    return {t["Key"]: t["Value"] for t in tags}


def tag(conn: Connection, arn: str, tags: dict[str, str]) -> None:
    topic = _tagged(conn, arn)
    merged = {**topic.tags, **tags}
    if len(merged) > MAX_TAGS:
        raise tag_limit_error()
    conn.execute("UPDATE sns_topics SET tags = ? WHERE arn = ?", (json.dumps(merged), topic.arn))


def untag(conn: Connection, arn: str, keys: list[str]) -> None:
    topic = _tagged(conn, arn)
    remaining = {k: v for k, v in topic.tags.items() if k not in set(keys)}
    conn.execute("UPDATE sns_topics SET tags = ? WHERE arn = ?", (json.dumps(remaining), topic.arn))


def list_tags(conn: Connection, arn: str) -> dict[str, str]:
    return _tagged(conn, arn).tags


# -- permissions -----------------------------------------------------------------------------
def add_permission(conn: Connection, topic: Topic, label: str, accounts: list[str], actions: list[str]) -> None:
    current = topic.attributes.get("Policy") or policies.default_topic_policy(topic.arn, topic.key.account_id)
    updated = policies.add_statement(current, topic.arn, label, accounts, actions)
    set_attribute(conn, topic, "Policy", updated)


def remove_permission(conn: Connection, topic: Topic, label: str) -> None:
    current = topic.attributes.get("Policy") or policies.default_topic_policy(topic.arn, topic.key.account_id)
    set_attribute(conn, topic, "Policy", policies.remove_statement(current, label))


def next_sequence_number(conn: Connection, topic: Topic) -> str:
    """FIFO topics number their messages: a strictly increasing 20-digit decimal per topic."""
    row = conn.execute("UPDATE sns_topics SET sequence = sequence + 1 WHERE arn = ? RETURNING sequence",
                       (topic.arn,)).fetchone()
    return f"{10000000000000000000 + int(row[0]):020d}"
