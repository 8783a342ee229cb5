"""Step Functions API answers as AWS gives them (issue 15): the JSON parser's reasons for an invalid
execution input, the statusFilter enum in AWS's order, a new revision when only the logging changes,
an EXPRESS sync execution billed by its duration, TestState's role requirement for a Task."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from eventyard.services.stepfunctions.input_reasons import reason
from tests.stepfunctions.conftest import ROLE
from tests.stepfunctions.test_execution_logs import log_group, logging  # noqa: F401 (fixture)

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
VALUES = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"


def _error(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def test_invalid_execution_input_is_worded_as_the_parser_words_it(sfn: Any, make_machine: Any) -> None:
    machine = make_machine(PASS)
    start = sfn.start_execution
    assert _error(start, stateMachineArn=machine, input="not some json") == (
        "InvalidExecutionInput", f"Invalid State Machine Execution Input: 'Unrecognized token 'not': was expecting "
                                 f"{VALUES}'")
    assert _error(start, stateMachineArn=machine, input="{'not': 'json'") == (
        "InvalidExecutionInput", "Invalid State Machine Execution Input: 'Unexpected character (''' (code 39)): "
                                 "was expecting double-quote to start field name'")
    assert _error(start, stateMachineArn=machine, input="") == (
        "InvalidExecutionInput", "Invalid State Machine Execution Input: 'Invalid execution input.'")
    assert _error(start, stateMachineArn=machine, input="NaN")[0] == "InvalidExecutionInput"
    assert start(stateMachineArn=machine, input="2")["executionArn"]


@pytest.mark.parametrize("text,expected", [
    ("[1,]", f"Unexpected character (']' (code 93)): expected a valid value {VALUES}"),
    ('{"a":1,}', "Unexpected character ('}' (code 125)): was expecting double-quote to start field name"),
    ('{"a" 1}', "Unexpected character ('1' (code 49)): was expecting a colon to separate field name and value"),
    ('{"a":1 "b":2}', "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries"),
    ("[1 2]", "Unexpected character ('2' (code 50)): was expecting comma to separate Array entries"),
    ("01", "Invalid numeric value: Leading zeroes not allowed"),
    ("1x", "Unexpected character ('x' (code 120)): Expected space separating root-level values"),
    ("truex", f"Unrecognized token 'truex': was expecting {VALUES}"),
    ('"a\nb"', "Illegal unquoted character ((CTRL-CHAR, code 10)): has to be escaped using backslash to be "
               "included in string value"),
    ('"\\q"', "Unrecognized character escape 'q' (code 113)"),
    ("@", f"Unexpected character ('@' (code 64)): expected a valid value {VALUES}"),
    ("{", None), ("[}", None), ("{} x", None), ('{"a": [1, {"b": null}]}', None),
])
def test_parser_reasons(text: str, expected: str | None) -> None:
    assert reason(text) == expected


def test_status_filter_enum_is_listed_in_aws_order(sfn_client_no_validation: Any, make_machine: Any) -> None:
    machine = make_machine(PASS)
    code, message = _error(sfn_client_no_validation.list_executions, stateMachineArn=machine,
                           statusFilter="succeeded")
    assert (code, message) == (
        "ValidationException", "1 validation error detected: Value 'succeeded' at 'statusFilter' failed to satisfy "
        "constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, "
        "RUNNING]")


def test_a_logging_change_makes_a_new_revision(sfn: Any, unique: str, log_group: tuple[str, str]) -> None:  # noqa: F811
    _, group_arn = log_group
    machine = sfn.create_state_machine(name=f"rev-log-{unique}", definition=json.dumps(PASS), roleArn=ROLE,
                                       loggingConfiguration=logging("ALL", group_arn, True))["stateMachineArn"]
    try:
        assert "revisionId" not in sfn.describe_state_machine(stateMachineArn=machine)
        sfn.update_state_machine(stateMachineArn=machine, loggingConfiguration=logging("FATAL", group_arn, True))
        first = sfn.describe_state_machine(stateMachineArn=machine)["revisionId"]
        sfn.update_state_machine(stateMachineArn=machine, loggingConfiguration=logging("FATAL", group_arn, True))
        assert sfn.describe_state_machine(stateMachineArn=machine)["revisionId"] == first
        sfn.update_state_machine(stateMachineArn=machine, loggingConfiguration=logging("FATAL", group_arn, False))
        assert sfn.describe_state_machine(stateMachineArn=machine)["revisionId"] != first
    finally:
        sfn.delete_state_machine(stateMachineArn=machine)


def test_express_sync_is_billed_by_its_duration_in_100_ms_steps(sfn: Any, make_machine: Any) -> None:
    quick = make_machine(PASS, type_="EXPRESS")
    assert sfn.start_sync_execution(stateMachineArn=quick)["billingDetails"] == {
        "billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": 100}
    waiting = make_machine({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}},
                           type_="EXPRESS")
    answer = sfn.start_sync_execution(stateMachineArn=waiting)
    billed = answer["billingDetails"]["billedDurationInMilliseconds"]
    ran = (answer["stopDate"] - answer["startDate"]).total_seconds() * 1000
    assert billed >= 1000 and billed % 100 == 0 and billed >= ran


def test_test_state_needs_a_role_for_a_task_without_a_mock(sfn: Any) -> None:
    task = json.dumps({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                       "Parameters": {"FunctionName": "f"}, "End": True})
    assert _error(sfn.test_state, definition=task, input="{}") == (
        "ValidationException", "RoleArn must be specified when testing a Task state")
    mocked = sfn.test_state(definition=task, input="{}", mock={"result": '{"Payload": 1}', "fieldValidationMode": "NONE"})
    assert mocked["status"] == "SUCCEEDED"


def test_a_given_context_has_a_task_only_for_a_state_that_waits_for_one(sfn: Any) -> None:
    context = json.dumps({"State": {"Name": "S"}, "Task": {"Token": "abcd123"}})
    invoke = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f"},
              "ResultPath": "$.ctx", "End": True}
    assert _error(sfn.test_state, definition=json.dumps(invoke), input="{}", context=context,
                  mock={"result": "{}", "fieldValidationMode": "NONE"}) == (
        "ValidationException", "Invalid Context object provided: Context object contains 'Task' when state is not a "
                               "Task state with a '.sync' or '.waitForTaskToken' service integration pattern")
    synced = dict(invoke, Resource="arn:aws:states:::states:startExecution.sync:2",
                  Parameters={"StateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:m"})
    answer = sfn.test_state(definition=json.dumps(synced), input="{}", context=context,
                            mock={"result": "{}", "fieldValidationMode": "NONE"})
    assert answer["status"] == "SUCCEEDED"
