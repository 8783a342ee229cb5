"""The interpreter on its own: every state type, both query languages, Retry/Catch, with a clock
that the engine moves instead of sleeping."""

from __future__ import annotations

import asyncio
from typing import Any

from eventyard.asl.errors import StatesError
from eventyard.asl.model import TaskRequest
from tests.asl.harness import ManualHost, run


def test_pass_state_processes_input_parameters_result_and_output_paths() -> None:
    result = run({"StartAt": "P", "States": {"P": {
        "Type": "Pass", "InputPath": "$.in", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)", "k": 1},
        "ResultPath": "$.in.out", "OutputPath": "$.in", "End": True}}}, {"in": {"n": 21}})
    assert result.status == "SUCCEEDED"
    assert result.output == {"n": 21, "out": {"doubled": 42, "k": 1}}


def test_choice_picks_the_first_matching_rule_with_and_or_not() -> None:
    definition = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [
            {"And": [{"Variable": "$.n", "NumericGreaterThan": 10}, {"Not": {"Variable": "$.s",
                                                                             "StringEquals": "x"}}],
             "Next": "Big"},
            {"Variable": "$.s", "StringMatches": "he*o", "Next": "Hello"}], "Default": "Other"},
        "Big": {"Type": "Pass", "Result": "big", "End": True},
        "Hello": {"Type": "Pass", "Result": "hello", "End": True},
        "Other": {"Type": "Pass", "Result": "other", "End": True}}}
    assert run(definition, {"n": 11, "s": "y"}).output == "big"
    assert run(definition, {"n": 1, "s": "hello"}).output == "hello"
    assert run(definition, {"n": 1, "s": "x"}).output == "other"


def test_choice_without_a_match_or_default_fails_with_no_choice_matched() -> None:
    result = run({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [
        {"Variable": "$.n", "NumericEquals": 1, "Next": "E"}]}, "E": {"Type": "Succeed"}}}, {"n": 2})
    assert result.error == "States.NoChoiceMatched"


def test_wait_moves_the_injected_clock_instead_of_sleeping() -> None:
    host = ManualHost()
    start = host.now()
    result = run({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}, {}, host)
    assert result.status == "SUCCEEDED"
    assert host.now() - start == 3600


def test_fail_state_reports_error_and_cause_from_paths() -> None:
    result = run({"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.e",
                                                   "CausePath": "States.Format('bad {}', $.c)"}}},
                 {"e": "Boom", "c": "thing"})
    assert (result.status, result.error, result.cause) == ("FAILED", "Boom", "bad thing")


def test_retry_backs_off_exponentially_then_catch_routes_the_error() -> None:
    host = ManualHost()
    calls = []

    async def flaky(request: TaskRequest) -> Any:
        calls.append(request.context["State"]["RetryCount"])
        raise StatesError("Custom.Error", "nope")

    host.tasks["arn:aws:lambda:us-east-1:000000000000:function:f"] = flaky
    result = run({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:f",
              "Retry": [{"ErrorEquals": ["Custom.Error"], "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Handled"}],
              "End": True},
        "Handled": {"Type": "Pass", "End": True}}}, {"x": 1}, host)
    assert host.sleeps == [1, 2, 4]
    assert calls == [0, 1, 2, 3]
    assert result.output == {"x": 1, "err": {"Error": "Custom.Error", "Cause": "nope"}}
    assert "LambdaFunctionFailed" in result.types  # AWS: a plain function ARN records LambdaFunction* events


def test_retry_max_delay_caps_the_backoff() -> None:
    host = ManualHost()

    async def failing(request: TaskRequest) -> Any:
        raise StatesError("E", None)

    host.tasks["arn:aws:states:::lambda:invoke"] = failing
    run({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "MaxAttempts": 4, "BackoffRate": 3,
                   "MaxDelaySeconds": 50}]}}}, {}, host)
    assert host.sleeps == [10, 30, 50, 50]


def test_task_timeout_raises_states_timeout() -> None:
    host = ManualHost()

    async def slow(request: TaskRequest) -> Any:
        await asyncio.sleep(3600)

    host.tasks["arn:aws:states:::lambda:invoke"] = slow
    result = run({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "TimeoutSeconds": 5, "End": True}}}, {}, host)
    assert result.error == "States.Timeout"
    assert "TaskTimedOut" in result.types


def test_a_caught_task_timeout_has_an_empty_cause() -> None:
    """AWS's recording: a Catch of a timed-out task outputs {"Error": "States.Timeout", "Cause": ""}."""
    host = ManualHost()

    async def slow(request: TaskRequest) -> Any:
        await asyncio.sleep(3600)

    host.tasks["arn:aws:states:::lambda:invoke"] = slow
    result = run({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "TimeoutSeconds": 5, "End": True,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}]},
        "Handled": {"Type": "Pass", "End": True}}}, {}, host)
    assert result.output == {"Error": "States.Timeout", "Cause": ""}


def test_parallel_with_a_failing_branch_fails_the_state_and_catch_handles_it() -> None:
    result = run({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "End": True}}},
            {"StartAt": "B", "States": {"B": {"Type": "Fail", "Error": "BranchFailed", "Cause": "b"}}}],
            "Catch": [{"ErrorEquals": ["BranchFailed"], "Next": "Recover"}], "End": True},
        "Recover": {"Type": "Pass", "End": True}}})
    assert result.output == {"Error": "BranchFailed", "Cause": "b"}
    assert "ParallelStateFailed" in result.types


def test_map_over_100_items_respects_max_concurrency() -> None:
    host = ManualHost()
    active = {"now": 0, "max": 0}

    async def work(request: TaskRequest) -> Any:
        active["now"] += 1
        active["max"] = max(active["max"], active["now"])
        await asyncio.sleep(0)
        active["now"] -= 1
        return request.parameters * 2

    host.tasks["arn:aws:states:::lambda:invoke"] = work
    result = run({"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 5, "End": True,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource":
                                                            "arn:aws:states:::lambda:invoke", "End": True}}}}}},
        {"items": list(range(100))}, host)
    assert result.output == [i * 2 for i in range(100)]
    assert 1 < active["max"] <= 5
    assert result.types.count("MapIterationSucceeded") == 100


def test_distributed_map_tolerates_failures_up_to_the_threshold() -> None:
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "ToleratedFailureCount": 1, "End": True,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "C",
                          "States": {"C": {"Type": "Choice", "Choices": [
                              {"Variable": "$", "NumericEquals": 0, "Next": "Bad"}], "Default": "Ok"},
                              "Bad": {"Type": "Fail", "Error": "Zero"}, "Ok": {"Type": "Succeed"}}}}}}
    assert run(definition, [0, 1, 2]).status == "SUCCEEDED"
    assert run(definition, [0, 0, 2]).error == "States.ExceedToleratedFailureThreshold"


def test_item_batcher_groups_items() -> None:
    result = run({"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemBatcher": {"MaxItemsPerBatch": 2}, "End": True,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}, "StartAt": "P",
                          "States": {"P": {"Type": "Pass", "End": True}}}}}}, [1, 2, 3])
    assert result.output == [{"Items": [1, 2]}, {"Items": [3]}]


def test_jsonata_and_jsonpath_versions_of_a_workflow_agree() -> None:
    jsonpath = {"StartAt": "Sum", "States": {"Sum": {
        "Type": "Pass", "Parameters": {"total.$": "States.MathAdd($.a, $.b)", "who.$": "$.name"},
        "Assign": {"seen.$": "$.who"}, "Next": "Out"},
        "Out": {"Type": "Pass", "Parameters": {"total.$": "$.total", "seen.$": "$seen"}, "End": True}}}
    jsonata = {"QueryLanguage": "JSONata", "StartAt": "Sum", "States": {"Sum": {
        "Type": "Pass", "Output": {"total": "{% $states.input.a + $states.input.b %}",
                                   "who": "{% $states.input.name %}"},
        "Assign": {"seen": "{% $states.input.name %}"}, "Next": "Out"},
        "Out": {"Type": "Pass", "Output": {"total": "{% $states.input.total %}", "seen": "{% $seen %}"},
                "End": True}}}
    data = {"a": 2, "b": 40, "name": "ada"}
    assert run(jsonpath, data).output == run(jsonata, data).output == {"total": 42, "seen": "ada"}


def test_jsonata_undefined_output_is_a_query_evaluation_error() -> None:
    result = run({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {
        "Type": "Pass", "Output": "{% $nothing %}", "End": True}}})
    assert result.error == "States.QueryEvaluationError"
    assert "returned nothing (undefined)" in (result.cause or "")


def test_missing_path_is_a_runtime_error_naming_the_field() -> None:
    result = run({"StartAt": "S", "States": {"S": {"Type": "Pass", "Parameters": {"v.$": "$.missing"},
                                                     "End": True}}}, {})
    assert result.error == "States.Runtime"
    assert "The JSONPath '$.missing' specified for the field 'v.$' could not be found" in (result.cause or "")


def test_history_events_follow_aws_types_and_ids() -> None:
    result = run({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"},
                                             "B": {"Type": "Succeed"}}})
    assert result.types == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "SucceedStateEntered",
                            "SucceedStateExited", "ExecutionSucceeded"]
    assert [e["id"] for e in result.events] == [1, 2, 3, 4, 5, 6]
    assert [e["previousEventId"] for e in result.events] == [0, 0, 2, 3, 4, 5]


def test_context_object_is_visible_to_paths() -> None:
    result = run({"StartAt": "S", "States": {"S": {"Type": "Pass", "Parameters": {
        "name.$": "$$.State.Name", "exec.$": "$$.Execution.Name"}, "End": True}}})
    assert result.output == {"name": "S", "exec": "e"}


LAMBDA_ARN = "arn:aws:lambda:us-east-1:000000000000:function:f"


def test_a_plain_lambda_arn_records_lambda_function_events() -> None:
    host = ManualHost()

    async def echo(request: TaskRequest) -> Any:
        return {"got": request.parameters}

    host.tasks[LAMBDA_ARN] = echo
    result = run({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA_ARN, "TimeoutSeconds": 5,
                                                    "End": True}}}, {"a": 1}, host)
    assert result.types == ["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted",
                            "LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    scheduled, started, succeeded = result.events[2:5]
    assert scheduled["lambdaFunctionScheduledEventDetails"] == {
        "input": '{"a":1}', "inputDetails": {"truncated": False}, "resource": LAMBDA_ARN, "timeoutInSeconds": 5}
    assert set(started) == {"id", "previousEventId", "timestamp", "type"}  # AWS: no details at all
    assert succeeded["lambdaFunctionSucceededEventDetails"] == {"output": '{"got":{"a":1}}',
                                                                "outputDetails": {"truncated": False}}


def test_a_failing_plain_lambda_arn_records_lambda_function_failed() -> None:
    host = ManualHost()

    async def boom(request: TaskRequest) -> Any:
        raise StatesError("Exception", "it broke")

    host.tasks[LAMBDA_ARN] = boom
    result = run({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA_ARN, "End": True}}}, {}, host)
    assert result.types[-2:] == ["LambdaFunctionFailed", "ExecutionFailed"]
    assert result.events[-2]["lambdaFunctionFailedEventDetails"] == {"error": "Exception", "cause": "it broke"}


def test_a_task_result_over_256_kib_fails_the_task_and_states_all_catches_it() -> None:
    host = ManualHost()

    async def large(request: TaskRequest) -> Any:
        return "é" * (128 * 1024 + 1)  # two bytes each in UTF-8

    host.tasks[LAMBDA_ARN] = large
    host.tasks["arn:aws:states:::lambda:invoke"] = large
    for resource, who in ((LAMBDA_ARN, LAMBDA_ARN), ("arn:aws:states:::lambda:invoke", "lambda")):
        result = run({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": resource, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}],
                  "End": True},
            "C": {"Type": "Pass", "End": True}}}, {}, host)
        cause = (f"The state/task '{who}' returned a result with a size exceeding the maximum number of bytes "
                 "service limit.")
        assert result.output == {"Error": "States.DataLimitExceeded", "Cause": cause}
        failed = result.events[4]
        assert failed["type"] in ("LambdaFunctionFailed", "TaskFailed")
        details = failed.get("lambdaFunctionFailedEventDetails") or failed["taskFailedEventDetails"]
        assert (details["error"], details["cause"]) == ("States.DataLimitExceeded", cause)


def _links(result: Any) -> list[tuple[int, int, str]]:
    return [(e["id"], e["previousEventId"], e["type"]) for e in result.events]


def test_a_parallel_state_ends_after_its_last_branch_event() -> None:
    branch = {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}
    result = run({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [branch, branch], "End": True}}})
    links = _links(result)
    # ParallelStateStarted is 3; the branches' four events are 4..7; AWS: the state's end follows 7
    assert links[7] == (8, 7, "ParallelStateSucceeded")
    assert links[8] == (9, 7, "ParallelStateExited")


def test_a_distributed_map_exits_after_its_map_run_started() -> None:
    result = run({"StartAt": "M", "States": {"M": {"Type": "Map", "End": True, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}}, [1, 2])
    assert _links(result)[2:7] == [(3, 2, "MapStateStarted"), (4, 3, "MapRunStarted"), (5, 4, "MapRunSucceeded"),
                                   (6, 5, "MapStateSucceeded"), (7, 4, "MapStateExited")]


def test_an_evaluation_failure_names_the_event_before_the_state_entry() -> None:
    failing = run({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": "{% $doesNotExist %}", "End": True}}})
    assert _links(failing) == [(1, 0, "ExecutionStarted"), (2, 0, "PassStateEntered"), (3, 0, "EvaluationFailed"),
                               (4, 3, "ExecutionFailed")]
    waiting = run({"QueryLanguage": "JSONata", "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": "{% 'x' %}", "End": True}}})
    assert _links(waiting)[1:3] == [(2, 0, "WaitStateEntered"), (3, 2, "EvaluationFailed")]


def test_context_timestamps_round_to_the_millisecond_as_the_api_does() -> None:
    from eventyard.asl.timestamps import format_epoch

    assert format_epoch(1.0006) == "1970-01-01T00:00:01.001Z"  # the API answers round(1.0006, 3) = 1.001
    assert format_epoch(59.9996) == "1970-01-01T00:01:00.000Z"
