"""Function lifecycle through boto3: create, get, update, versions, aliases, tags, permissions, logs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.lambda_.conftest import ROLE, eventually, make_zip

V1 = "def handler(event, context):\n    return 'v1'\n"
V2 = "def handler(event, context):\n    print('second version')\n    return 'v2'\n"


def test_create_get_update_and_publish(lam: Any, make_function: Any) -> None:
    name = make_function(V1, Timeout=5, Tags={"team": "core"})
    fn = lam.get_function(FunctionName=name)
    config = fn["Configuration"]
    assert config["State"] == "Active" and config["Timeout"] == 5 and config["Runtime"] == "python3.12"
    assert config["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert fn["Tags"] == {"team": "core"}
    v1 = lam.publish_version(FunctionName=name)["Version"]
    assert v1 == "1"
    lam.update_function_code(FunctionName=name, ZipFile=make_zip({"app.py": V2}))
    assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == "v2"
    assert json.loads(lam.invoke(FunctionName=name, Qualifier="1")["Payload"].read()) == "v1"
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    answer = lam.invoke(FunctionName=f"{name}:live")
    assert answer["ExecutedVersion"] == "1" and json.loads(answer["Payload"].read()) == "v1"
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "1"]
    updated = lam.update_function_configuration(FunctionName=name, MemorySize=256,
                                                Environment={"Variables": {"MODE": "x"}})
    assert updated["MemorySize"] == 256 and updated["Environment"] == {"Variables": {"MODE": "x"}}
    assert name in [f["FunctionName"] for f in lam.list_functions()["Functions"]]


def test_creating_a_function_twice_is_a_conflict(lam: Any, make_function: Any) -> None:
    name = make_function(V1)
    with pytest.raises(ClientError) as caught:
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                            Code={"ZipFile": make_zip({"app.py": V1})})
    assert caught.value.response["Error"]["Code"] == "ResourceConflictException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_bad_input_answers_aws_errors(lam: Any, unique: str) -> None:
    with pytest.raises(ClientError) as caught:
        lam.create_function(FunctionName=f"bad-{unique}", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                            Code={"ZipFile": b"not a zip"})
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as caught:
        lam.create_function(FunctionName=f"bad-{unique}", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                            Code={"ZipFile": make_zip({"app.py": V1})},
                            Environment={"Variables": {"AWS_REGION": "x"}})
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "AWS_REGION" in caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as caught:
        lam.get_function(FunctionName="bad name!")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as caught:
        lam.delete_function(FunctionName=f"missing-{unique}")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_permissions_are_recorded_in_the_policy(lam: Any, make_function: Any) -> None:
    name = make_function(V1)
    lam.add_permission(FunctionName=name, StatementId="sns", Action="lambda:InvokeFunction",
                       Principal="sns.amazonaws.com", SourceArn="arn:aws:sns:us-east-1:000000000000:t")
    policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    assert policy["Statement"][0]["Sid"] == "sns"
    assert policy["Statement"][0]["Principal"] == {"Service": "sns.amazonaws.com"}
    with pytest.raises(ClientError) as caught:
        lam.add_permission(FunctionName=name, StatementId="sns", Action="lambda:InvokeFunction",
                           Principal="sns.amazonaws.com")
    assert caught.value.response["Error"]["Code"] == "ResourceConflictException"


def test_function_logs_are_readable_with_the_logs_api(server: Any, lam: Any, make_function: Any) -> None:
    name = make_function(V2)
    request_id = lam.invoke(FunctionName=name)["ResponseMetadata"]["RequestId"]
    logs = server.client("logs")
    group = f"/aws/lambda/{name}"

    def streams() -> Any:
        try:
            return logs.describe_log_streams(logGroupName=group)["logStreams"]
        except logs.exceptions.ResourceNotFoundException:
            return []  # the log agent writes after the invocation answered: the group comes with its first lines
    stream = eventually(streams)[0]["logStreamName"]
    assert "[$LATEST]" in stream
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupName"] == group
    messages = [e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName=stream,
                                                          startFromHead=True)["events"]]
    # As AWS records them: INIT_START first on a cold start, every line keeps its newline
    assert messages[0].startswith("INIT_START Runtime Version: ")
    assert messages[1] == f"START RequestId: {request_id} Version: $LATEST\n"
    assert "second version\n" in messages and messages[-1].startswith(f"REPORT RequestId: {request_id}")
    found = logs.filter_log_events(logGroupName=group, filterPattern="second")["events"]
    assert [e["message"] for e in found] == ["second version\n"]


def test_event_invoke_configs_are_put_updated_listed_and_deleted(lam: Any, make_function: Any) -> None:
    name = make_function(V1)
    lam.publish_version(FunctionName=name)
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    lam.put_function_event_invoke_config(FunctionName=name, Qualifier="1", MaximumEventAgeInSeconds=120)
    updated = lam.update_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60)
    assert updated["MaximumRetryAttempts"] == 1 and updated["MaximumEventAgeInSeconds"] == 60
    listed = lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
    assert sorted(c["FunctionArn"].rsplit(":", 1)[1] for c in listed) == ["$LATEST", "1"]
    first = lam.list_function_event_invoke_configs(FunctionName=name, MaxItems=1)
    assert len(first["FunctionEventInvokeConfigs"]) == 1 and "NextMarker" in first
    rest = lam.list_function_event_invoke_configs(FunctionName=name, MaxItems=1, Marker=first["NextMarker"])
    assert len(rest["FunctionEventInvokeConfigs"]) == 1 and "NextMarker" not in rest
    lam.delete_function_event_invoke_config(FunctionName=name)
    with pytest.raises(ClientError) as caught:
        lam.get_function_event_invoke_config(FunctionName=name)
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as caught:
        lam.list_function_event_invoke_configs(FunctionName=f"{name}-missing")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_states_and_revisions_move_as_on_aws(lam: Any, unique: str) -> None:
    """CreateFunction answers Pending and an update InProgress; the function is Active (the update
    Successful) right after, under a new RevisionId each time."""
    name = f"states-{unique}"
    created = lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                                  Code={"ZipFile": make_zip({"app.py": V1})})
    try:
        assert (created["State"], created["StateReason"], created["StateReasonCode"]) == \
            ("Pending", "The function is being created.", "Creating")
        assert "LastUpdateStatus" not in created
        assert set(created["RuntimeVersionConfig"]) == {"RuntimeVersionArn"}
        active = lam.get_function(FunctionName=name)
        assert "Tags" not in active  # AWS leaves an empty Tags out
        config = active["Configuration"]
        assert (config["State"], config["LastUpdateStatus"]) == ("Active", "Successful")
        assert config["RevisionId"] != created["RevisionId"]
        updated = lam.update_function_configuration(FunctionName=name, Timeout=9)
        assert (updated["LastUpdateStatus"], updated["LastUpdateStatusReason"],
                updated["LastUpdateStatusReasonCode"]) == ("InProgress", "The function is being created.", "Creating")
        after = lam.get_function_configuration(FunctionName=name)
        assert after["LastUpdateStatus"] == "Successful" and after["RevisionId"] not in (
            updated["RevisionId"], config["RevisionId"])
    finally:
        lam.delete_function(FunctionName=name)


def test_latest_is_named_where_aws_names_it(lam: Any, make_function: Any) -> None:
    name = make_function(V1)
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    lam.publish_version(FunctionName=name)
    versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["FunctionArn"] for v in versions] == [f"{arn}:$LATEST", f"{arn}:1"]
    assert all("State" not in v and "LastUpdateStatus" not in v for v in versions)
    listed = {f["FunctionName"]: f for f in lam.list_functions()["Functions"]}[name]
    assert listed["FunctionArn"] == arn and "State" not in listed
    assert lam.get_function(FunctionName=name, Qualifier="$LATEST")["Configuration"]["FunctionArn"] == \
        f"{arn}:$LATEST"
    with pytest.raises(ClientError) as caught:
        lam.delete_function(FunctionName=f"{arn}:$LATEST")
    assert caught.value.response["Error"] == {
        "Code": "InvalidParameterValueException",
        "Message": "$LATEST version cannot be deleted without deleting the function."}
    with pytest.raises(ClientError) as caught:
        lam.get_function(FunctionName=f"{arn}-gone:$LATEST")
    assert caught.value.response["Error"]["Message"] == f"Function not found: {arn}-gone:$LATEST"


def test_invoking_a_missing_function_names_latest(lam: Any, unique: str) -> None:
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName=f"missing-{unique}", Payload=b"{}")
    assert caught.value.response["Error"]["Message"] == \
        f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing-{unique}:$LATEST"
    with pytest.raises(ClientError) as caught:
        lam.get_function(FunctionName=f"missing-{unique}")
    assert caught.value.response["Error"]["Message"].endswith(f"function:missing-{unique}")  # Get does not


def test_a_function_arn_from_another_region_is_not_reachable(lam: Any) -> None:
    with pytest.raises(ClientError) as caught:
        lam.get_function(FunctionName="arn:aws:lambda:eu-west-1:000000000000:function:elsewhere")
    assert caught.value.response["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"}


def test_logging_config_merges_and_json_logs_have_levels(lam: Any, make_function: Any) -> None:
    name = make_function(V1)
    assert lam.get_function_configuration(FunctionName=name)["LoggingConfig"] == {
        "LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    updated = lam.update_function_configuration(FunctionName=name, LoggingConfig={"LogFormat": "JSON",
                                                                                  "SystemLogLevel": "DEBUG"})
    assert updated["LoggingConfig"] == {"LogFormat": "JSON", "LogGroup": f"/aws/lambda/{name}",
                                        "ApplicationLogLevel": "INFO", "SystemLogLevel": "DEBUG"}
    back = lam.update_function_configuration(FunctionName=name, LoggingConfig={"LogFormat": "Text"})
    assert back["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}


def test_a_mapping_for_a_missing_function_says_so_first(lam: Any) -> None:
    with pytest.raises(ClientError) as caught:
        lam.create_event_source_mapping(FunctionName="doesnotexist",
                                        EventSourceArn="arn:aws:sqs:us-east-1:000000000000:somequeue")
    assert caught.value.response["Error"] == {"Code": "InvalidParameterValueException",
                                              "Message": "Function does not exist"}
