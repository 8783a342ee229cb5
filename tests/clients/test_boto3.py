"""boto3 as two SDK generations: the current one (SQS over JSON) and an older botocore whose SQS model
speaks the query protocol (fetched by `make test`), reading each other's messages."""

from __future__ import annotations

from tests.conftest import ServerProcess


def test_current_and_query_protocol_boto3_share_a_queue(server: ServerProcess, unique: str) -> None:
    current, legacy = server.client("sqs"), server.legacy_sqs_client()
    assert legacy.meta.service_model.protocol == "query" and current.meta.service_model.protocol == "json"
    url = legacy.create_queue(QueueName=f"gen-{unique}")["QueueUrl"]
    assert current.get_queue_url(QueueName=f"gen-{unique}")["QueueUrl"] == url
    legacy.send_message(QueueUrl=url, MessageBody="from the query protocol",
                        MessageAttributes={"n": {"DataType": "Number", "StringValue": "1"}})
    current.send_message(QueueUrl=url, MessageBody="from JSON")
    bodies = set()
    for client in (current, legacy):
        for message in client.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1,
                                              MessageAttributeNames=["All"]).get("Messages", []):
            bodies.add(message["Body"])
            client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert bodies == {"from the query protocol", "from JSON"}
