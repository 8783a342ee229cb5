"""A Lambda-backed workflow: the optimized `lambda:invoke` integration and a plain function ARN,
with a handler error caught by the state machine."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from tests.stepfunctions.conftest import run_to_end

CODE = """
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"doubled": event["n"] * 2}
"""


def _zip(code: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", code)
    return buffer.getvalue()


def test_a_lambda_backed_workflow(server: Any, sfn: Any, make_machine: Any, unique: str) -> None:
    lam = server.client("lambda")
    name = f"sfn-fn-{unique}"
    function_arn = lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                                       Role="arn:aws:iam::000000000000:role/lambda-role",
                                       Code={"ZipFile": _zip(CODE)})["FunctionArn"]
    try:
        machine = make_machine({"StartAt": "Invoke", "States": {
            "Invoke": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                       "Parameters": {"FunctionName": name, "Payload.$": "$"},
                       "ResultSelector": {"result.$": "$.Payload"}, "Next": "Plain"},
            "Plain": {"Type": "Task", "Resource": function_arn, "Parameters": {"n.$": "$.result.doubled"},
                      "Catch": [{"ErrorEquals": ["ValueError"], "Next": "Caught"}], "End": True},
            "Caught": {"Type": "Pass", "Result": "caught", "End": True}}})
        done = run_to_end(sfn, machine, {"n": 4}, timeout=60)
        assert done["status"] == "SUCCEEDED", done
        assert json.loads(done["output"]) == {"doubled": 16}
        events = sfn.get_execution_history(executionArn=done["executionArn"])["events"]
        types = [e["type"] for e in events]
        # AWS: the optimized integration records Task* events, a plain function ARN LambdaFunction* ones
        assert types[2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]
        assert types[7:10] == ["LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded"]
        assert events[7]["lambdaFunctionScheduledEventDetails"]["resource"] == function_arn
        invoked = json.loads(events[4]["taskSucceededEventDetails"]["output"])
        assert invoked["StatusCode"] == 200 and invoked["ExecutedVersion"] == "$LATEST"
        headers = invoked["SdkHttpMetadata"]["HttpHeaders"]
        assert headers["Content-Type"] == "application/json" and headers["X-Amz-Executed-Version"] == "$LATEST"
        assert invoked["SdkHttpMetadata"]["AllHttpHeaders"]["Content-Length"] == [headers["Content-Length"]]
        assert invoked["SdkResponseMetadata"] == {"RequestId": headers["x-amzn-RequestId"]}
        failed = run_to_end(sfn, machine, {"n": 1, "fail": True}, timeout=60)
        assert failed["status"] == "FAILED"
        assert failed["error"] == "ValueError"
        failure = sfn.get_execution_history(executionArn=failed["executionArn"], reverseOrder=True)["events"][1]
        assert failure["type"] == "TaskFailed"  # the optimized integration's state failed first
        assert failure["taskFailedEventDetails"]["error"] == "ValueError"
    finally:
        lam.delete_function(FunctionName=name)
