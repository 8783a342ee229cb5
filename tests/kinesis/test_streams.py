"""Stream lifecycle, listings, settings and tags, through boto3 against a live server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.kinesis.conftest import wait_for_status


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def test_a_stream_is_creating_then_active_and_waiters_see_it(kinesis: Any, unique: str) -> None:
    name = f"life-{unique}"
    kinesis.create_stream(StreamName=name, ShardCount=3)
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] == "CREATING"
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    description = kinesis.describe_stream(StreamName=name)["StreamDescription"]
    assert description["StreamStatus"] == "ACTIVE"
    assert description["StreamARN"] == f"arn:aws:kinesis:us-east-1:000000000000:stream/{name}"
    assert [s["ShardId"] for s in description["Shards"]] == [f"shardId-00000000000{i}" for i in range(3)]
    ranges = [(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
              for s in description["Shards"]]
    assert ranges[0][0] == 0 and ranges[-1][1] == 2**128 - 1
    assert all(ranges[i][1] + 1 == ranges[i + 1][0] for i in range(2))
    assert ranges[0][1] == 113427455640312821154458202477256070484  # AWS's layout for three shards


def test_creating_an_existing_stream_is_resource_in_use(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream()
    with pytest.raises(ClientError) as excinfo:
        kinesis.create_stream(StreamName=name, ShardCount=1)
    assert error_code(excinfo) == "ResourceInUseException"
    assert excinfo.value.response["Error"]["Message"] == f"Stream {name} under account 000000000000 already exists."


def test_unknown_streams_are_resource_not_found(kinesis: Any, unique: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        kinesis.describe_stream(StreamName=f"missing-{unique}")
    assert error_code(excinfo) == "ResourceNotFoundException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_input_constraints_are_validation_errors(raw_kinesis: Any, unique: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        raw_kinesis.create_stream(StreamName=f"bad name {unique}", ShardCount=1)
    assert error_code(excinfo) == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        raw_kinesis.create_stream(StreamName=f"zero-{unique}", ShardCount=0)
    assert error_code(excinfo) == "ValidationException"
    assert "at 'shardCount' failed to satisfy constraint" in excinfo.value.response["Error"]["Message"]


def test_on_demand_streams_start_with_four_shards(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(StreamModeDetails={"StreamMode": "ON_DEMAND"})
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert summary["OpenShardCount"] == 4
    kinesis.update_stream_mode(StreamARN=summary["StreamARN"], StreamModeDetails={"StreamMode": "PROVISIONED"})
    summary = wait_for_status(kinesis, name)
    assert summary["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}


def test_streams_are_addressed_by_arn_as_well_as_by_name(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream()
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    assert kinesis.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]["StreamName"] == name
    kinesis.put_record(StreamARN=arn, Data=b"x", PartitionKey="k")
    assert kinesis.list_shards(StreamARN=arn)["Shards"][0]["ShardId"] == "shardId-000000000000"
    with pytest.raises(ClientError) as excinfo:
        kinesis.describe_stream_summary()
    assert error_code(excinfo) == "InvalidArgumentException"


def test_list_streams_pages_with_next_token(kinesis: Any, make_stream: Callable[..., str]) -> None:
    created = {make_stream() for _ in range(3)}
    names: list[str] = []
    response = kinesis.list_streams(Limit=1)
    while True:
        names.extend(response["StreamNames"])
        assert [s["StreamName"] for s in response["StreamSummaries"]] == response["StreamNames"]
        if not response["HasMoreStreams"]:
            break
        response = kinesis.list_streams(NextToken=response["NextToken"], Limit=1)
    assert created <= set(names)
    assert names == sorted(names)


def test_list_shards_pages_and_rejects_a_token_with_a_name(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(5)
    first = kinesis.list_shards(StreamName=name, MaxResults=2)
    assert [s["ShardId"] for s in first["Shards"]] == ["shardId-000000000000", "shardId-000000000001"]
    second = kinesis.list_shards(NextToken=first["NextToken"], MaxResults=2)
    third = kinesis.list_shards(NextToken=second["NextToken"], MaxResults=2)
    assert [s["ShardId"] for s in third["Shards"]] == ["shardId-000000000004"]
    assert "NextToken" not in third
    with pytest.raises(ClientError) as excinfo:
        kinesis.list_shards(StreamName=name, NextToken=first["NextToken"])
    assert error_code(excinfo) == "InvalidArgumentException"
    after = kinesis.list_shards(StreamName=name, ExclusiveStartShardId="shardId-000000000002")
    assert [s["ShardId"] for s in after["Shards"]] == ["shardId-000000000003", "shardId-000000000004"]
    filtered = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AFTER_SHARD_ID",
                                                                 "ShardId": "shardId-000000000003"})
    assert [s["ShardId"] for s in filtered["Shards"]] == ["shardId-000000000004"]


def test_deleting_a_stream_passes_through_deleting(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream()
    kinesis.delete_stream(StreamName=name)
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] == "DELETING"
    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k")
    assert error_code(excinfo) == "ResourceNotFoundException"
    kinesis.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    assert name not in kinesis.list_streams()["StreamNames"]


def test_deleting_a_stream_with_consumers_needs_enforce_consumer_deletion(
        kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream()
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="c")
    with pytest.raises(ClientError) as excinfo:
        kinesis.delete_stream(StreamName=name)
    assert error_code(excinfo) == "ResourceInUseException"
    kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
    kinesis.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})


def test_retention_can_be_increased_and_decreased_within_limits(
        kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream()
    kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
    assert wait_for_status(kinesis, name)["RetentionPeriodHours"] == 48
    for call, hours in ((kinesis.increase_stream_retention_period, 24),
                        (kinesis.increase_stream_retention_period, 9000),
                        (kinesis.decrease_stream_retention_period, 12),
                        (kinesis.decrease_stream_retention_period, 72)):
        with pytest.raises(ClientError) as excinfo:
            call(StreamName=name, RetentionPeriodHours=hours)
        assert error_code(excinfo) == "InvalidArgumentException", hours
    kinesis.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=24)
    assert wait_for_status(kinesis, name)["RetentionPeriodHours"] == 24


def test_changes_while_updating_are_resource_in_use(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream()
    kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
    with pytest.raises(ClientError) as excinfo:
        kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=72)
    assert error_code(excinfo) == "ResourceInUseException"


def test_tags_through_both_tagging_apis(kinesis: Any, raw_kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream(Tags={"team": "data"})
    kinesis.add_tags_to_stream(StreamName=name, Tags={"env": "test", "b": "2"})
    tags = kinesis.list_tags_for_stream(StreamName=name)
    assert tags["Tags"] == [{"Key": "b", "Value": "2"}, {"Key": "env", "Value": "test"},
                            {"Key": "team", "Value": "data"}]
    assert tags["HasMoreTags"] is False
    page = kinesis.list_tags_for_stream(StreamName=name, Limit=1, ExclusiveStartTagKey="b")
    assert page["Tags"] == [{"Key": "env", "Value": "test"}] and page["HasMoreTags"] is True
    kinesis.remove_tags_from_stream(StreamName=name, TagKeys=["b"])
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    kinesis.tag_resource(ResourceARN=arn, Tags={"new": "1"})
    kinesis.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "env", "Value": "test"}, {"Key": "new", "Value": "1"}]
    for batch in range(4):
        kinesis.add_tags_to_stream(StreamName=name, Tags={f"k{batch}-{i}": "v" for i in range(10)})
    with pytest.raises(ClientError) as excinfo:  # 42 tags so far: a stream holds at most 50
        raw_kinesis.add_tags_to_stream(StreamName=name, Tags={f"x{i}": "v" for i in range(9)})
    assert error_code(excinfo) == "InvalidArgumentException"


def test_encryption_and_enhanced_monitoring_are_recorded(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream()
    kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    summary = wait_for_status(kinesis, name)
    assert summary["EncryptionType"] == "KMS" and summary["KeyId"] == "alias/aws/kinesis"
    assert kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k")["EncryptionType"] == "KMS"
    kinesis.stop_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    assert wait_for_status(kinesis, name)["EncryptionType"] == "NONE"
    enabled = kinesis.enable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["IncomingBytes"])
    assert enabled["CurrentShardLevelMetrics"] == [] and enabled["DesiredShardLevelMetrics"] == ["IncomingBytes"]
    disabled = kinesis.disable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["ALL"])
    assert disabled["DesiredShardLevelMetrics"] == []


def test_describe_limits_counts_open_shards(kinesis: Any, make_stream: Callable[..., str]) -> None:
    before = kinesis.describe_limits()
    make_stream(2)
    after = kinesis.describe_limits()
    assert after["ShardLimit"] == 500 and after["OnDemandStreamCountLimit"] == 50
    assert after["OpenShardCount"] == before["OpenShardCount"] + 2


def test_resource_policies_are_stored(kinesis: Any, make_stream: Callable[..., str]) -> None:
    name = make_stream()
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    policy = '{"Version":"2012-10-17","Statement":[]}'
    kinesis.put_resource_policy(ResourceARN=arn, Policy=policy)
    assert kinesis.get_resource_policy(ResourceARN=arn)["Policy"] == policy
    kinesis.delete_resource_policy(ResourceARN=arn)
    assert kinesis.get_resource_policy(ResourceARN=arn)["Policy"] == "{}"


def test_operations_eventyard_does_not_implement_answer_unknown_operation(kinesis: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        kinesis.describe_account_settings()
    assert error_code(excinfo) == "UnknownOperationException"
