"""Lambda as AWS's Step Functions invokes it: a plain function ARN gets the state's input as JSON
(a string input too), and the optimized integration with LogType Tail shows the log's tail."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any

from tests.stepfunctions.conftest import run_to_end

ECHO = """
def handler(event, context):
    print("echoing")
    return event
"""


def _function(server: Any, name: str) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", ECHO)
    return str(server.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Handler="app.handler",
        Role="arn:aws:iam::000000000000:role/lambda-role", Code={"ZipFile": buffer.getvalue()})["FunctionArn"])


def test_a_function_arn_gets_a_string_input_as_json(server: Any, sfn: Any, make_machine: Any, unique: str) -> None:
    function_arn = _function(server, f"echo-{unique}")
    machine = make_machine({"StartAt": "Echo", "States": {"Echo": {"Type": "Task", "Resource": function_arn,
                                                                     "End": True}}})
    done = run_to_end(sfn, machine, "HelloWorld", timeout=60)
    assert (done["status"], done.get("output")) == ("SUCCEEDED", '"HelloWorld"'), done


def test_log_type_tail_shows_the_log_result(server: Any, sfn: Any, make_machine: Any, unique: str) -> None:
    name = f"echo-{unique}"
    _function(server, name)
    machine = make_machine({"StartAt": "Invoke", "States": {"Invoke": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": name, "Payload": {}, "LogType": "Tail"}, "End": True}}})
    done = run_to_end(sfn, machine, {}, timeout=60)
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    assert "echoing" in base64.b64decode(output["LogResult"]).decode()
    http = output["SdkHttpMetadata"]
    assert http["HttpHeaders"]["X-Amz-Log-Result"] == output["LogResult"]
    assert http["AllHttpHeaders"]["X-Amz-Log-Result"] == [output["LogResult"]]
