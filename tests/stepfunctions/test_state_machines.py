"""State machine definitions, versions, aliases and validation through boto3."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.stepfunctions.conftest import ROLE

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def code(excinfo: Any) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def test_create_describe_update_list_and_delete_a_state_machine(sfn: Any, unique: str) -> None:
    name = f"crud-{unique}"
    arn = sfn.create_state_machine(name=name, definition=json.dumps(PASS), roleArn=ROLE)["stateMachineArn"]
    assert arn == f"arn:aws:states:us-east-1:000000000000:stateMachine:{name}"
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert (described["name"], described["type"], described["status"]) == (name, "STANDARD", "ACTIVE")
    assert json.loads(described["definition"]) == PASS
    new = {"StartAt": "Q", "States": {"Q": {"Type": "Succeed"}}}
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(new))
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == new
    assert arn in [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]]
    sfn.delete_state_machine(stateMachineArn=arn)
    with pytest.raises(ClientError) as err:
        sfn.describe_state_machine(stateMachineArn=arn)
    assert code(err) == "StateMachineDoesNotExist"


def test_create_is_idempotent_but_a_different_definition_already_exists(sfn: Any, unique: str) -> None:
    name = f"dup-{unique}"
    first = sfn.create_state_machine(name=name, definition=json.dumps(PASS), roleArn=ROLE)["stateMachineArn"]
    again = sfn.create_state_machine(name=name, definition=json.dumps(PASS), roleArn=ROLE)["stateMachineArn"]
    assert first == again
    other = {"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}
    with pytest.raises(ClientError) as err:
        sfn.create_state_machine(name=name, definition=json.dumps(other), roleArn=ROLE)
    assert code(err) == "StateMachineAlreadyExists"


@pytest.mark.parametrize("definition, fragment", [
    ("not json", "INVALID_JSON_DESCRIPTION"),
    ('{"StartAt": "Missing", "States": {"A": {"Type": "Pass", "End": true}}}', "MISSING_TRANSITION_TARGET"),
    ('{"StartAt": "A", "States": {"A": {"Type": "Bogus", "End": true}}}', "SCHEMA_VALIDATION_FAILED"),
    ('{"StartAt": "A", "States": {"A": {"Type": "Pass"}}}', "SCHEMA_VALIDATION_FAILED"),
])
def test_invalid_definitions_are_rejected(sfn: Any, unique: str, definition: str, fragment: str) -> None:
    with pytest.raises(ClientError) as err:
        sfn.create_state_machine(name=f"bad-{unique}", definition=definition, roleArn=ROLE)
    assert code(err) == "InvalidDefinition"
    assert fragment in err.value.response["Error"]["Message"]
    report = sfn.validate_state_machine_definition(definition=definition)
    assert report["result"] == "FAIL"
    assert report["diagnostics"][0]["code"] == fragment


def test_validate_accepts_a_good_definition(sfn: Any) -> None:
    assert sfn.validate_state_machine_definition(definition=json.dumps(PASS))["result"] == "OK"


def test_bad_names_and_arns_answer_aws_errors(sfn: Any) -> None:
    with pytest.raises(ClientError) as err:
        sfn.create_state_machine(name="has space", definition=json.dumps(PASS), roleArn=ROLE)
    assert code(err) == "InvalidName"
    with pytest.raises(ClientError) as err:
        sfn.describe_state_machine(stateMachineArn="arn:aws:states:us-east-1:000000000000:activity:x")
    assert code(err) == "InvalidArn"
    with pytest.raises(ClientError) as err:
        sfn.describe_execution(executionArn="arn:aws:states:us-east-1:000000000000:execution:none:none")
    assert code(err) == "ExecutionDoesNotExist"


def test_versions_and_aliases_route_executions(sfn: Any, make_machine: Any) -> None:
    arn = make_machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "End": True}}})
    v1 = sfn.publish_state_machine_version(stateMachineArn=arn, description="one")["stateMachineVersionArn"]
    assert v1 == f"{arn}:1"
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 2, "End": True}}}), publish=True)
    versions = [v["stateMachineVersionArn"] for v in sfn.list_state_machine_versions(stateMachineArn=arn)[
        "stateMachineVersions"]]
    assert versions == [f"{arn}:2", v1]
    alias = sfn.create_state_machine_alias(name="prod", routingConfiguration=[
        {"stateMachineVersionArn": v1, "weight": 100}])["stateMachineAliasArn"]
    assert alias == f"{arn}:prod"
    assert sfn.describe_state_machine_alias(stateMachineAliasArn=alias)["routingConfiguration"][0]["weight"] == 100
    ex = sfn.start_execution(stateMachineArn=alias)["executionArn"]
    from tests.stepfunctions.conftest import finished
    done = finished(sfn, ex)
    assert done["output"] == "1" and done["stateMachineAliasArn"] == alias
    assert done["stateMachineVersionArn"] == v1
    with pytest.raises(ClientError) as err:
        sfn.delete_state_machine_version(stateMachineVersionArn=v1)
    assert code(err) == "ConflictException"
    with pytest.raises(ClientError) as err:
        sfn.create_state_machine_alias(name="bad", routingConfiguration=[
            {"stateMachineVersionArn": v1, "weight": 50}])
    assert code(err) == "ValidationException"
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias)
    sfn.delete_state_machine_version(stateMachineVersionArn=v1)


def test_tags_round_trip(sfn: Any, make_machine: Any) -> None:
    arn = make_machine(PASS)
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "team", "value": "core"}])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team", "value": "core"}]
    sfn.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == []


def test_map_runs_are_not_found(sfn: Any) -> None:
    with pytest.raises(ClientError) as err:
        sfn.describe_map_run(mapRunArn="arn:aws:states:us-east-1:000000000000:mapRun:x/y:z")
    assert code(err) == "ResourceNotFound"


def test_a_state_machine_has_a_revision_id_only_after_an_update(sfn: Any, unique: str) -> None:
    arn = sfn.create_state_machine(name=f"rev-{unique}", definition=json.dumps(PASS), roleArn=ROLE,
                                   publish=True)["stateMachineArn"]
    assert "revisionId" not in sfn.describe_state_machine(stateMachineArn=arn)
    assert "revisionId" not in sfn.describe_state_machine(stateMachineArn=f"{arn}:1")
    updated = sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(
        {"StartAt": "Q", "States": {"Q": {"Type": "Succeed"}}}), publish=True)
    assert sfn.describe_state_machine(stateMachineArn=arn)["revisionId"] == updated["revisionId"]
    assert sfn.describe_state_machine(stateMachineArn=f"{arn}:2")["revisionId"] == updated["revisionId"]


@pytest.mark.parametrize(("label", "problem"), [
    ("", "Label cannot be empty"),
    ("x" * 41, "Label cannot exceed 40 characters"),
    ("label_ ", "Label contains invalid character: ' '"),
    ("label_\x00", "Label contains invalid character: '\\x00'"),
    ("label_\x85", "Label contains invalid character: '\\x85'"),
    ('label_"', "Label contains invalid character: '\"'"),
])
def test_a_map_label_aws_refuses_is_an_invalid_definition(sfn: Any, unique: str, label: str, problem: str) -> None:
    definition = json.dumps({"StartAt": "M", "States": {"M": {
        "Type": "Map", "Label": label, "End": True, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}})
    with pytest.raises(ClientError) as err:
        sfn.create_state_machine(name=f"label-{unique}", definition=definition, roleArn=ROLE)
    assert code(err) == "InvalidDefinition"
    args = repr([problem])  # AWS quotes the message as a Python list of one string
    assert err.value.response["Error"]["Message"] == f"Error=ValueError Args={args} in definition '{definition}'."


def test_a_valid_map_label_names_the_map_run(sfn: Any, unique: str) -> None:
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "Label": "Label-ok_40.chars", "End": True, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}}
    sfn.create_state_machine(name=f"label-ok-{unique}", definition=json.dumps(definition), roleArn=ROLE)


def test_describe_shows_the_encryption_and_the_variables_each_state_reads(sfn: Any, unique: str) -> None:
    definition = {"StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"guess": 1, "answer": 2}, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$guess", "NumericEqualsPath": "$answer",
                                                 "Next": "Done"}], "Default": "Each"},
        "Each": {"Type": "Map", "ItemsPath": "$items", "Next": "Done", "ItemProcessor": {
            "StartAt": "Add", "States": {"Add": {"Type": "Pass", "Parameters": {
                "sum.$": "States.MathAdd($guess, $.n)", "literal": "$answer"}, "End": True}}}},
        "Done": {"Type": "Succeed"}}}
    arn = sfn.create_state_machine(name=f"refs-{unique}", definition=json.dumps(definition),
                                   roleArn=ROLE)["stateMachineArn"]
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["encryptionConfiguration"] == {"type": "AWS_OWNED_KEY"}
    assert described["variableReferences"] == {"Check": ["answer", "guess"], "Each": ["items"], "Add": ["guess"]}
    plain = sfn.create_state_machine(name=f"norefs-{unique}", definition=json.dumps(PASS),
                                     roleArn=ROLE)["stateMachineArn"]
    assert "variableReferences" not in sfn.describe_state_machine(stateMachineArn=plain)


def test_jsonata_variable_references_leave_out_functions_states_and_bound_names(sfn: Any, unique: str) -> None:
    definition = {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {
        "Type": "Pass", "Output": "{% ($x := $count + 1; $uppercase($name) & $x & $states.input.v & '$quoted') %}",
        "End": True}}}
    arn = sfn.create_state_machine(name=f"jsonata-refs-{unique}", definition=json.dumps(definition),
                                   roleArn=ROLE)["stateMachineArn"]
    assert sfn.describe_state_machine(stateMachineArn=arn)["variableReferences"] == {"P": ["count", "name"]}


def test_an_activity_describes_its_encryption(sfn: Any, unique: str) -> None:
    arn = sfn.create_activity(name=f"act-{unique}")["activityArn"]
    assert sfn.describe_activity(activityArn=arn)["encryptionConfiguration"] == {"type": "AWS_OWNED_KEY"}


@pytest.mark.parametrize(("definition", "expected"), [
    (" ", {"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED",
           "message": "Definition must be a valid JSON object"}),
    ("not a definition", {"severity": "ERROR", "code": "INVALID_JSON_DESCRIPTION",
                          "location": '[Source: (String)"not a definition"; line: 1, column: 4]',
                          "message": "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or "
                                     "token 'null', 'true' or 'false')\n at [Source: (String)\"not a definition\"; "
                                     "line: 1, column: 4]"}),
    ("{}", {"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "location": "/",
            "message": "These fields are required: [States, StartAt]"}),
    (json.dumps({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}}}),
     {"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "location": "/States/P",
      "message": "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine"}),
])
def test_validation_diagnostics_as_aws_words_them(sfn: Any, definition: str, expected: dict[str, str]) -> None:
    report = sfn.validate_state_machine_definition(definition=definition)
    assert report["result"] == "FAIL" and report["diagnostics"] == [expected]


def test_a_nested_jsonpath_state_is_valid_when_the_whole_machine_is_jsonpath(sfn: Any) -> None:
    definition = {"StartAt": "M", "States": {"M": {"Type": "Map", "QueryLanguage": "JSONata", "End": True,
                                                   "ItemProcessor": {"StartAt": "P", "States": {"P": {
                                                       "Type": "Pass", "QueryLanguage": "JSONPath", "End": True}}}}}}
    assert sfn.validate_state_machine_definition(definition=json.dumps(definition))["result"] == "OK"


@pytest.mark.parametrize(("resource", "message"), [
    ("arn:aws:states:::sqs:sendMessage.waitForTaskToken",
     "Express state machine does not support '.waitForTaskToken' service integration "),
    ("arn:aws:states:::states:startExecution.sync", "Express state machine does not support '.sync' service integration"),
    ("arn:aws:states:us-east-1:000000000000:activity:a", "Express state machine does not support Activity ARN"),
])
def test_express_machines_refuse_callbacks_sync_jobs_and_activities(sfn: Any, unique: str, resource: str,
                                                                    message: str) -> None:
    definition = json.dumps({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": True}}})
    with pytest.raises(ClientError) as err:
        sfn.create_state_machine(name=f"express-{unique}", definition=definition, roleArn=ROLE, type="EXPRESS")
    assert err.value.response["Error"]["Message"] == \
        f"Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: {message} at /States/T/Resource'"
    report = sfn.validate_state_machine_definition(definition=definition, type="EXPRESS")
    assert report["diagnostics"][0]["message"] == message
    assert sfn.validate_state_machine_definition(definition=definition, type="STANDARD")["result"] == "OK"


@pytest.mark.parametrize("stamp", ["2016-12-05 21:29:29Z", "2016-12-05T21:29:29", "2016-13-05T21:29:29Z",
                                   "2016-12-05T25:29:29Z", "05-12-2016T21:29:29Z", "{% '2016-03-14T01:59:00Z' %}"])
def test_a_wait_timestamp_that_is_not_rfc3339_is_an_invalid_definition(sfn: Any, unique: str, stamp: str) -> None:
    definition = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Timestamp": stamp, "End": True}}})
    with pytest.raises(ClientError) as err:
        sfn.create_state_machine(name=f"stamp-{unique}", definition=definition, roleArn=ROLE)
    assert err.value.response["Error"]["Message"] == \
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: String does not match RFC3339 timestamp at " \
        "/States/W/Timestamp'"


def test_a_jsonata_wait_timestamp_may_be_an_expression(sfn: Any) -> None:
    definition = {"QueryLanguage": "JSONata", "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Timestamp": "{% '2016-03-14T01:59:00Z' %}", "End": True}}}
    assert sfn.validate_state_machine_definition(definition=json.dumps(definition))["result"] == "OK"


def test_pages_have_opaque_tokens_and_a_foreign_token_is_invalid(sfn: Any, make_machine: Any) -> None:
    machines = {make_machine(PASS) for _ in range(3)}
    seen: list[str] = []
    params: dict[str, Any] = {"maxResults": 1}
    while True:
        page = sfn.list_state_machines(**params)
        seen.extend(m["stateMachineArn"] for m in page["stateMachines"])
        if "nextToken" not in page:
            break
        assert not page["nextToken"].isdigit()
        params["nextToken"] = page["nextToken"]
    assert machines <= set(seen)
    with pytest.raises(ClientError) as err:
        sfn.list_state_machines(nextToken="not-a-token")
    assert err.value.response["Error"] == {"Code": "InvalidToken", "Message": "Invalid Token: 'Invalid token'"}


def test_an_arn_without_the_arn_prefix_is_named_as_such(sfn: Any) -> None:
    for call in (lambda: sfn.describe_state_machine(stateMachineArn="not_a_valid_arn"),
                 lambda: sfn.list_executions(stateMachineArn="not_a_valid_arn")):
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"] == {"Code": "InvalidArn",
                                               "Message": "Invalid Arn: 'Invalid ARN prefix: not_a_valid_arn'"}


def test_an_update_that_changes_nothing_keeps_the_revision_and_version(sfn: Any, unique: str) -> None:
    arn = sfn.create_state_machine(name=f"same-{unique}", definition=json.dumps(PASS), roleArn=ROLE,
                                   publish=True)["stateMachineArn"]
    same = sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(PASS), publish=True)
    assert same["stateMachineVersionArn"] == f"{arn}:1" and "revisionId" not in same
    changed = sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(
        {"StartAt": "Q", "States": {"Q": {"Type": "Succeed"}}}), publish=True)
    again = sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(
        {"StartAt": "Q", "States": {"Q": {"Type": "Succeed"}}}), publish=True)
    assert changed["stateMachineVersionArn"] == again["stateMachineVersionArn"] == f"{arn}:2"
    assert changed["revisionId"] == again["revisionId"]
