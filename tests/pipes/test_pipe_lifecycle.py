"""Creating, describing, listing, updating, stopping, starting, tagging and deleting pipes with boto3."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.pipes.conftest import ROLE, eventually, queue_arn, settled


@pytest.fixture
def queues(sqs: Any, unique: str) -> tuple[str, str]:
    source = sqs.create_queue(QueueName=f"pipe-src-{unique}")["QueueUrl"]
    target = sqs.create_queue(QueueName=f"pipe-dst-{unique}")["QueueUrl"]
    return queue_arn(sqs, source), queue_arn(sqs, target)


def test_a_pipe_is_creating_then_running_and_describes_its_defaults(pipes: Any, queues: tuple[str, str],
                                                                    unique: str) -> None:
    source, target = queues
    created = pipes.create_pipe(Name=f"p-{unique}", Source=source, Target=target, RoleArn=ROLE,
                                Description="orders", Tags={"team": "a"})
    assert created["CurrentState"] == "CREATING"
    assert created["DesiredState"] == "RUNNING"
    assert created["Arn"] == f"arn:aws:pipes:us-east-1:000000000000:pipe/p-{unique}"
    pipe = settled(pipes, f"p-{unique}", "RUNNING")
    assert pipe["Source"] == source and pipe["Target"] == target and pipe["RoleArn"] == ROLE
    assert pipe["SourceParameters"]["SqsQueueParameters"] == {"BatchSize": 10, "MaximumBatchingWindowInSeconds": 0}
    assert pipe["Description"] == "orders"
    assert pipe["Tags"] == {"team": "a"}
    assert pipe["CreationTime"] <= pipe["LastModifiedTime"]


def test_stop_start_update_and_delete_move_through_their_states(pipes: Any, queues: tuple[str, str],
                                                                unique: str) -> None:
    source, target = queues
    name = f"p-{unique}"
    pipes.create_pipe(Name=name, Source=source, Target=target, RoleArn=ROLE, DesiredState="STOPPED")
    settled(pipes, name, "STOPPED")
    assert pipes.start_pipe(Name=name)["CurrentState"] == "STARTING"
    with pytest.raises(ClientError) as busy:
        pipes.stop_pipe(Name=name)
    assert busy.value.response["Error"]["Code"] == "ConflictException"
    settled(pipes, name, "RUNNING")
    assert pipes.stop_pipe(Name=name)["CurrentState"] == "STOPPING"
    settled(pipes, name, "STOPPED")
    updated = pipes.update_pipe(Name=name, RoleArn=ROLE, DesiredState="RUNNING", Description="new",
                                SourceParameters={"SqsQueueParameters": {"BatchSize": 5}})
    assert updated["CurrentState"] == "UPDATING"
    pipe = settled(pipes, name, "RUNNING")
    assert pipe["Description"] == "new"
    assert pipe["SourceParameters"]["SqsQueueParameters"]["BatchSize"] == 5
    deleted = pipes.delete_pipe(Name=name)
    assert (deleted["DesiredState"], deleted["CurrentState"]) == ("DELETED", "DELETING")

    def gone() -> bool:
        try:
            pipes.describe_pipe(Name=name)
        except ClientError as error:
            return error.response["Error"]["Code"] == "NotFoundException"
        return False
    eventually(gone)


def test_list_pipes_filters_by_prefix_and_state_and_pages(pipes: Any, queues: tuple[str, str], unique: str) -> None:
    source, target = queues
    for i in range(3):
        pipes.create_pipe(Name=f"list-{unique}-{i}", Source=source, Target=target, RoleArn=ROLE,
                          DesiredState="STOPPED")
    for i in range(3):
        settled(pipes, f"list-{unique}-{i}", "STOPPED")
    found = pipes.list_pipes(NamePrefix=f"list-{unique}")["Pipes"]
    assert [p["Name"] for p in found] == [f"list-{unique}-{i}" for i in range(3)]
    assert all(p["CurrentState"] == "STOPPED" and p["Source"] == source for p in found)
    assert pipes.list_pipes(NamePrefix=f"list-{unique}", CurrentState="RUNNING")["Pipes"] == []
    first = pipes.list_pipes(NamePrefix=f"list-{unique}", Limit=2)
    assert len(first["Pipes"]) == 2 and first["NextToken"]
    rest = pipes.list_pipes(NamePrefix=f"list-{unique}", Limit=2, NextToken=first["NextToken"])
    assert [p["Name"] for p in rest["Pipes"]] == [f"list-{unique}-2"]
    paginator = pipes.get_paginator("list_pipes")
    names = [p["Name"] for page in paginator.paginate(NamePrefix=f"list-{unique}", Limit=1) for p in page["Pipes"]]
    assert len(names) == 3


def test_tags_are_added_listed_and_removed(pipes: Any, queues: tuple[str, str], unique: str) -> None:
    source, target = queues
    arn = pipes.create_pipe(Name=f"p-{unique}", Source=source, Target=target, RoleArn=ROLE)["Arn"]
    pipes.tag_resource(resourceArn=arn, tags={"a": "1", "b": "2"})
    assert pipes.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "1", "b": "2"}
    pipes.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert pipes.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}
    with pytest.raises(ClientError) as missing:
        pipes.list_tags_for_resource(resourceArn=arn + "-nope")
    assert missing.value.response["Error"]["Code"] == "NotFoundException"


def test_errors_are_the_ones_aws_answers(pipes: Any, queues: tuple[str, str], unique: str) -> None:
    source, target = queues
    with pytest.raises(ClientError) as missing:
        pipes.describe_pipe(Name=f"nope-{unique}")
    assert missing.value.response["Error"]["Code"] == "NotFoundException"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    pipes.create_pipe(Name=f"p-{unique}", Source=source, Target=target, RoleArn=ROLE)
    with pytest.raises(ClientError) as twice:
        pipes.create_pipe(Name=f"p-{unique}", Source=source, Target=target, RoleArn=ROLE)
    assert twice.value.response["Error"]["Code"] == "ConflictException"
    assert twice.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    with pytest.raises(ClientError) as unsupported:
        pipes.create_pipe(Name=f"q-{unique}", RoleArn=ROLE, Target=target,
                          Source="arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024")
    assert unsupported.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as bad_name:
        pipes.create_pipe(Name="bad name!", Source=source, Target=target, RoleArn=ROLE)
    assert bad_name.value.response["Error"]["Code"] == "ValidationException"
    assert "failed to satisfy constraint" in bad_name.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as window:
        pipes.create_pipe(Name=f"w-{unique}", Source=source, Target="arn:aws:lambda:us-east-1:000000000000:"
                          "function:f", RoleArn=ROLE, SourceParameters={"SqsQueueParameters": {"BatchSize": 50}})
    assert window.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as too_big:
        pipes.create_pipe(Name=f"b-{unique}", Source=source, Target=target, RoleArn=ROLE, SourceParameters={
            "SqsQueueParameters": {"BatchSize": 50, "MaximumBatchingWindowInSeconds": 1}})
    assert too_big.value.response["Error"]["Code"] == "ValidationException"


def test_a_pipe_whose_source_is_missing_fails_to_create_with_the_reason(pipes: Any, queues: tuple[str, str],
                                                                       unique: str) -> None:
    _, target = queues
    source = f"arn:aws:sqs:us-east-1:000000000000:missing-{unique}"
    pipes.create_pipe(Name=f"p-{unique}", Source=source, Target=target, RoleArn=ROLE)
    pipe = settled(pipes, f"p-{unique}", "CREATE_FAILED")
    assert source in pipe["StateReason"]


def test_a_pipe_whose_role_does_not_exist_fails_to_create(pipes: Any, queues: tuple[str, str], unique: str) -> None:
    source, target = queues
    missing = f"arn:aws:iam::000000000000:role/missing-{unique}"
    pipes.create_pipe(Name=f"p-{unique}", Source=source, Target=target, RoleArn=missing)
    pipe = settled(pipes, f"p-{unique}", "CREATE_FAILED")
    assert missing in pipe["StateReason"]
