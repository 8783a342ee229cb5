"""Queue lifecycle, attributes, tags and permissions over both SQS protocols."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ServerProcess


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def test_create_queue_returns_a_url_that_names_its_region(sqs: Any, unique: str, server: ServerProcess) -> None:
    url = sqs.create_queue(QueueName=f"shape-{unique}")["QueueUrl"]
    assert url == f"http://127.0.0.1:{server.port}/queue/us-east-1/000000000000/shape-{unique}"
    assert sqs.get_queue_url(QueueName=f"shape-{unique}")["QueueUrl"] == url


def test_the_same_name_in_two_regions_gets_two_urls(server: ServerProcess, unique: str) -> None:
    east, west = server.client("sqs"), server.client("sqs", region="eu-central-1")
    east_url = east.create_queue(QueueName=f"twin-{unique}")["QueueUrl"]
    west_url = west.create_queue(QueueName=f"twin-{unique}")["QueueUrl"]
    assert east_url != west_url and "/eu-central-1/" in west_url
    assert east_url in east.list_queues(QueueNamePrefix="twin-")["QueueUrls"]
    assert west_url not in east.list_queues(QueueNamePrefix="twin-")["QueueUrls"]
    with pytest.raises(ClientError) as excinfo:  # another region's URL finds no queue here
        east.get_queue_attributes(QueueUrl=west_url)
    assert error_code(excinfo) == "AWS.SimpleQueueService.NonExistentQueue"


@pytest.mark.parametrize("form", ["{base}/{account}/{name}", "https://sqs.us-east-1.amazonaws.com/{account}/{name}",
                                  "https://queue.amazonaws.com/{account}/{name}", "{name}"])
def test_every_queue_url_form_clients_send_works(sqs: Any, unique: str, server: ServerProcess, form: str) -> None:
    sqs.create_queue(QueueName=f"form-{unique}")
    url = form.format(base=server.url, account="000000000000", name=f"form-{unique}")
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "hello"


def test_create_queue_is_idempotent_with_the_same_attributes(sqs: Any, unique: str) -> None:
    first = sqs.create_queue(QueueName=f"same-{unique}", Attributes={"VisibilityTimeout": "40"})["QueueUrl"]
    again = sqs.create_queue(QueueName=f"same-{unique}", Attributes={"VisibilityTimeout": "40"})["QueueUrl"]
    assert first == again


def test_create_queue_with_different_attributes_is_refused(sqs: Any, unique: str) -> None:
    sqs.create_queue(QueueName=f"diff-{unique}", Attributes={"VisibilityTimeout": "40"})
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName=f"diff-{unique}", Attributes={"VisibilityTimeout": "41"})
    assert error_code(excinfo) == "QueueAlreadyExists"


@pytest.mark.parametrize("name", ["has space", "x" * 81, "bad!char", ""])
def test_invalid_queue_names_are_refused(sqs: Any, name: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName=name)
    assert error_code(excinfo) in {"InvalidParameterValue", "MissingParameter"}


def test_a_fifo_queue_needs_the_fifo_suffix(sqs: Any, unique: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName=f"nofifo-{unique}", Attributes={"FifoQueue": "true"})
    assert error_code(excinfo) == "InvalidParameterValue"


def test_unknown_queue_raises_the_modeled_exception(sqs: Any, unique: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sqs.get_queue_url(QueueName=f"missing-{unique}")
    assert error_code(excinfo) == "AWS.SimpleQueueService.NonExistentQueue"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_json_clients_get_the_modeled_exception_class(sqs_json: Any, unique: str) -> None:
    with pytest.raises(sqs_json.exceptions.QueueDoesNotExist):
        sqs_json.get_queue_url(QueueName=f"missing-{unique}")


def test_get_queue_attributes_reports_defaults_and_computed_values(sqs: Any, queue_url: str) -> None:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "30"
    assert attributes["MaximumMessageSize"] == "1048576"
    assert attributes["MessageRetentionPeriod"] == "345600"
    assert attributes["DelaySeconds"] == "0"
    assert attributes["ReceiveMessageWaitTimeSeconds"] == "0"
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{queue_url.rsplit('/', 1)[1]}"
    assert int(attributes["CreatedTimestamp"]) > 1_600_000_000


def test_get_queue_attributes_returns_only_what_was_asked(sqs: Any, queue_url: str) -> None:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    assert attributes == {"VisibilityTimeout": "30"}


def test_set_queue_attributes_changes_them(sqs: Any, queue_url: str) -> None:
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "45", "DelaySeconds": "3"})
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert (attributes["VisibilityTimeout"], attributes["DelaySeconds"]) == ("45", "3")


@pytest.mark.parametrize("name,value", [
    ("VisibilityTimeout", "43201"), ("DelaySeconds", "901"), ("MaximumMessageSize", "1023"),
    ("MessageRetentionPeriod", "59"), ("ReceiveMessageWaitTimeSeconds", "21"), ("VisibilityTimeout", "abc"),
])
def test_out_of_range_attribute_values_are_refused(sqs: Any, queue_url: str, name: str, value: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={name: value})
    assert error_code(excinfo) == "InvalidAttributeValue"


def test_unknown_attribute_names_are_refused(sqs: Any, queue_url: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["NoSuchThing"])
    assert error_code(excinfo) == "InvalidAttributeName"


def test_fifo_attributes_are_unknown_on_a_standard_queue(sqs: Any, queue_url: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"ContentBasedDeduplication": "true"})
    assert error_code(excinfo) == "InvalidAttributeName"


def test_list_queues_filters_by_prefix_and_pages(sqs: Any, unique: str) -> None:
    urls = [sqs.create_queue(QueueName=f"page{unique}-{i}")["QueueUrl"] for i in range(5)]
    assert sqs.list_queues(QueueNamePrefix=f"page{unique}")["QueueUrls"] == urls
    first = sqs.list_queues(QueueNamePrefix=f"page{unique}", MaxResults=2)
    assert first["QueueUrls"] == urls[:2]
    second = sqs.list_queues(QueueNamePrefix=f"page{unique}", MaxResults=2, NextToken=first["NextToken"])
    assert second["QueueUrls"] == urls[2:4]
    third = sqs.list_queues(QueueNamePrefix=f"page{unique}", MaxResults=2, NextToken=second["NextToken"])
    assert third["QueueUrls"] == urls[4:] and "NextToken" not in third


def test_list_queues_with_no_match_has_no_urls(sqs: Any, unique: str) -> None:
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=f"none{unique}")


def test_deleted_queue_is_gone_and_its_name_is_held_for_a_minute(sqs: Any, unique: str, server: ServerProcess) -> None:
    url = sqs.create_queue(QueueName=f"del-{unique}")["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(ClientError) as excinfo:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    assert error_code(excinfo) == "AWS.SimpleQueueService.NonExistentQueue"
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName=f"del-{unique}")
    assert error_code(excinfo) == "AWS.SimpleQueueService.QueueDeletedRecently"


def test_tags_can_be_added_listed_and_removed(sqs: Any, unique: str) -> None:
    url = sqs.create_queue(QueueName=f"tags-{unique}", tags={"team": "core"})["QueueUrl"]
    sqs.tag_queue(QueueUrl=url, Tags={"env": "test", "team": "platform"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "platform", "env": "test"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "test"}


def test_permissions_become_statements_of_the_queue_policy(sqs: Any, queue_url: str) -> None:
    sqs.add_permission(QueueUrl=queue_url, Label="reader", AWSAccountIds=["111122223333"],
                       Actions=["ReceiveMessage"])
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy["Statement"][0]["Sid"] == "reader"
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    with pytest.raises(ClientError) as excinfo:
        sqs.add_permission(QueueUrl=queue_url, Label="reader", AWSAccountIds=["1"], Actions=["SendMessage"])
    assert error_code(excinfo) == "InvalidParameterValue"
    sqs.remove_permission(QueueUrl=queue_url, Label="reader")
    assert "Policy" not in sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    with pytest.raises(ClientError) as excinfo:
        sqs.remove_permission(QueueUrl=queue_url, Label="reader")
    assert error_code(excinfo) == "InvalidParameterValue"


def test_purge_removes_messages_and_is_limited_to_once_a_minute(sqs: Any, queue_url: str) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody="a")
    sqs.purge_queue(QueueUrl=queue_url)
    assert "Messages" not in sqs.receive_message(QueueUrl=queue_url)
    with pytest.raises(ClientError) as excinfo:
        sqs.purge_queue(QueueUrl=queue_url)
    assert error_code(excinfo) == "AWS.SimpleQueueService.PurgeQueueInProgress"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_regions_do_not_see_each_others_queues(server: ServerProcess, unique: str) -> None:
    east = server.client("sqs", region="us-east-1")
    west = server.client("sqs", region="eu-west-1")
    east.create_queue(QueueName=f"regional-{unique}")
    with pytest.raises(ClientError):
        west.get_queue_url(QueueName=f"regional-{unique}")
    west_url = west.create_queue(QueueName=f"regional-{unique}")["QueueUrl"]
    arn = west.get_queue_attributes(QueueUrl=west_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert arn.startswith("arn:aws:sqs:eu-west-1:")


def test_list_queues_refuses_a_token_it_never_handed_out(sqs: Any, unique: str) -> None:
    for i in range(3):
        sqs.create_queue(QueueName=f"tok{unique}-{i}")
    token = sqs.list_queues(QueueNamePrefix=f"tok{unique}", MaxResults=1)["NextToken"]
    for wrong in ["garbage", token[:-3] + "abc"]:
        with pytest.raises(ClientError) as excinfo:
            sqs.list_queues(QueueNamePrefix=f"tok{unique}", MaxResults=1, NextToken=wrong)
        assert error_code(excinfo) == "InvalidParameterValue"
        assert excinfo.value.response["Error"]["Message"] == "Invalid NextToken value."
    with pytest.raises(ClientError):  # a token resumes only the listing (prefix) that handed it out
        sqs.list_queues(QueueNamePrefix=f"other{unique}", MaxResults=1, NextToken=token)
