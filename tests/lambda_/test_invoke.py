"""Synchronous invokes on real workers over the Runtime API: payloads, errors, timeouts, logs."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

ECHO = '''
import os
def handler(event, context):
    print("got", event)
    return {"event": event, "name": context.function_name, "trace": os.environ.get("_X_AMZN_TRACE_ID"),
            "remaining": context.get_remaining_time_in_millis(), "request_id": context.aws_request_id,
            "env": os.environ.get("GREETING")}
'''


def test_a_python_handler_answers_a_synchronous_invoke(lam: Any, make_function: Any) -> None:
    name = make_function(ECHO, Environment={"Variables": {"GREETING": "hi"}})
    answer = lam.invoke(FunctionName=name, Payload=json.dumps({"a": 1}), LogType="Tail")
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert answer["ExecutedVersion"] == "$LATEST"
    body = json.loads(answer["Payload"].read())
    assert body["event"] == {"a": 1} and body["name"] == name and body["env"] == "hi"
    assert body["trace"].startswith("Root=1-")
    assert 0 < body["remaining"] <= 3000
    log = base64.b64decode(answer["LogResult"]).decode()
    assert f"START RequestId: {body['request_id']} Version: $LATEST" in log
    assert "got {'a': 1}" in log and f"END RequestId: {body['request_id']}" in log
    assert "REPORT RequestId:" in log and "Init Duration" in log
    again = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    assert "Init Duration" not in base64.b64decode(again["LogResult"]).decode()  # warm


def test_a_handler_exception_is_an_unhandled_function_error(lam: Any, make_function: Any) -> None:
    name = make_function("def handler(event, context):\n    raise ValueError('boom')\n")
    answer = lam.invoke(FunctionName=name, Payload=b"{}")
    assert answer["StatusCode"] == 200 and answer["FunctionError"] == "Unhandled"
    body = json.loads(answer["Payload"].read())
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "boom"
    assert isinstance(body["stackTrace"], list)


def test_an_import_error_reports_the_runtimes_init_error(lam: Any, make_function: Any) -> None:
    name = make_function("import not_a_module\n")
    answer = lam.invoke(FunctionName=name, Payload=b"{}")
    assert answer["FunctionError"] == "Unhandled"
    body = json.loads(answer["Payload"].read())
    assert body["errorType"] == "Runtime.ImportModuleError"


def test_a_slow_handler_times_out_and_its_worker_is_replaced(lam: Any, make_function: Any) -> None:
    name = make_function("import time\ndef handler(event, context):\n    if event.get('sleep'):\n"
                         "        time.sleep(5)\n    return 'ok'\n", Timeout=1)
    answer = lam.invoke(FunctionName=name, Payload=b'{"sleep": true}', LogType="Tail")
    assert answer["FunctionError"] == "Unhandled"
    body = json.loads(answer["Payload"].read())
    assert body["errorType"] == "Sandbox.Timedout"
    assert body["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert "Task timed out after 1.00 seconds" in base64.b64decode(answer["LogResult"]).decode()
    assert json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read()) == "ok"


def test_dry_run_checks_the_function_without_running_it(lam: Any, make_function: Any) -> None:
    name = make_function(ECHO)
    assert lam.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204


def test_invoking_a_missing_function_is_resource_not_found(lam: Any, unique: str) -> None:
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName=f"missing-{unique}", Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert caught.value.response["Error"]["Message"].startswith("Function not found: arn:aws:lambda:us-east-1:")


def test_a_payload_that_is_not_json_is_rejected(lam: Any, make_function: Any) -> None:
    name = make_function(ECHO)
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName=name, Payload=b"not json")
    assert caught.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_reserved_concurrency_zero_throttles(lam: Any, make_function: Any) -> None:
    name = make_function(ECHO)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert caught.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 0


@pytest.mark.skipif(__import__("shutil").which("node") is None, reason="Node.js is not installed on this host")
def test_a_nodejs_handler_runs_through_the_same_runtime_api(lam: Any, unique: str) -> None:
    from tests.lambda_.conftest import ROLE, make_zip

    code = "exports.handler = async (event, context) => ({ doubled: event.n * 2, name: context.functionName });\n"
    name = f"node-{unique}"
    lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                        Code={"ZipFile": make_zip({"index.js": code})})
    try:
        answer = lam.invoke(FunctionName=name, Payload=b'{"n": 21}')
        assert json.loads(answer["Payload"].read()) == {"doubled": 42, "name": name}
    finally:
        lam.delete_function(FunctionName=name)


def test_a_provided_runtime_runs_the_zips_bootstrap(lam: Any, unique: str) -> None:
    from tests.lambda_.conftest import ROLE, make_zip

    bootstrap = ("#!/bin/sh\nset -e\nwhile true; do\n"
                 "  H=$(mktemp); BODY=$(curl -sS -D $H http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next)\n"
                 "  ID=$(grep -i lambda-runtime-aws-request-id $H | tr -d '\\r' | cut -d' ' -f2)\n"
                 "  curl -sS -X POST -d \"{\\\"echo\\\": $BODY}\" "
                 "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/$ID/response >/dev/null\n"
                 "done\n")
    name = f"sh-{unique}"
    lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="none",
                        Code={"ZipFile": make_zip({"bootstrap": bootstrap}, {"bootstrap": 0o755})})
    try:
        answer = lam.invoke(FunctionName=name, Payload=b'{"k": 1}')
        assert json.loads(answer["Payload"].read()) == {"echo": {"k": 1}}
    finally:
        lam.delete_function(FunctionName=name)
