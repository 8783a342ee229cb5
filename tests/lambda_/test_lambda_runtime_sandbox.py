"""What an execution environment is, as AWS records it: its role's own credentials, the sandbox's
resource limits, the response size limit, and the log events Lambda writes around an invocation."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.lambda_.conftest import eventually, log_messages

WHO_AM_I = """
import os, time, boto3
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"identity": boto3.client("sts").get_caller_identity(),
            "key": os.environ["AWS_ACCESS_KEY_ID"], "token": os.environ["AWS_SESSION_TOKEN"],
            "secret": os.environ["AWS_SECRET_ACCESS_KEY"], "stream": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]}
"""


def _call(lam: Any, name: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = lam.invoke(FunctionName=name, Payload=json.dumps(payload or {}).encode())
    body = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, body
    return body


def test_a_function_runs_as_a_session_of_its_execution_role(lam: Any, make_function: Any, unique: str) -> None:
    name = make_function(WHO_AM_I, name=f"who-{unique}", Timeout=10)
    body = _call(lam, name)
    assert body["identity"]["Arn"] == f"arn:aws:sts::000000000000:assumed-role/lambda-role/who-{unique}"
    assert body["key"].startswith("ASIA") and body["token"] != body["secret"]


def test_a_one_letter_function_names_its_session_with_a_suffix(lam: Any, make_function: Any) -> None:
    # session names are at least two characters: AWS names it `<name>@lambda_function`
    name = make_function(WHO_AM_I, name="q", Timeout=10)
    assert _call(lam, name)["identity"]["Arn"].endswith("assumed-role/lambda-role/q@lambda_function")


def test_each_environment_has_its_own_credentials(lam: Any, make_function: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    name = make_function(WHO_AM_I, Timeout=10)
    with ThreadPoolExecutor(2) as pool:  # both busy at once: two environments
        first, second = pool.map(lambda _: _call(lam, name, {"sleep": 1}), range(2))
    assert first["stream"] != second["stream"]
    assert first["key"] != second["key"] and first["token"] != second["token"]


LIMITS = """
import resource
def handler(event, context):
    return {n: resource.getrlimit(getattr(resource, n)) for n in ("RLIMIT_CORE", "RLIMIT_MEMLOCK", "RLIMIT_NOFILE")}
"""


def test_the_sandbox_has_aws_resource_limits(lam: Any, make_function: Any) -> None:
    limits = _call(lam, make_function(LIMITS))
    assert limits == {"RLIMIT_CORE": [10737418240, 10737418240], "RLIMIT_MEMLOCK": [65536, 65536],
                      "RLIMIT_NOFILE": [1024, 1024]}


BIG = """
def handler(event, context):
    print("generating bytes")
    return "a" * event["size"]
"""


def test_a_response_over_the_limit_is_a_function_error(lam: Any, make_function: Any) -> None:
    name = make_function(BIG, Timeout=10, MemorySize=512)
    for _ in range(2):  # the environment stays usable
        answer = lam.invoke(FunctionName=name, Payload=json.dumps({"size": 7 * 1024 * 1024}).encode())
        assert answer["FunctionError"] == "Unhandled"
        assert json.loads(answer["Payload"].read()) == {
            "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
            "errorType": "Function.ResponseSizeTooLarge"}
    # just under the limit: the string and its two quotes are 6291556 bytes
    fits = lam.invoke(FunctionName=name, Payload=json.dumps({"size": 6 * 1024 * 1024 + 98}).encode())
    assert "FunctionError" not in fits and len(fits["Payload"].read()) == 6291556


PRINTER = """
import logging
logging.getLogger().setLevel(logging.INFO)
def handler(event, context):
    print(event["text"])
    logging.info("one\\ntwo")
    raise ValueError("bad")
"""


def test_log_events_are_cut_as_aws_cuts_them(server: Any, lam: Any, make_function: Any) -> None:
    name = make_function(PRINTER)
    answer = lam.invoke(FunctionName=name, LogType="Tail", Payload=json.dumps({"text": "\nmulti\nline\n"}).encode())
    assert answer["FunctionError"] == "Unhandled"
    logs = server.client("logs")

    def events() -> list[str]:
        found = log_messages(logs, name)
        assert any(m.startswith("REPORT") for m in found)
        return found
    messages = eventually(events)
    assert messages[0].startswith("INIT_START Runtime Version: python:3.12.v") and messages[0].endswith("\n")
    assert messages[1].startswith("START RequestId: ") and messages[1].endswith(" Version: $LATEST\n")
    # every printed line is an event with its newline; empty lines make none
    assert messages[2:4] == ["multi\n", "line\n"]
    # a logging record and an uncaught error stay one event each, their newlines kept
    record = next(m for m in messages if m.startswith("[INFO]"))
    assert record.endswith("\tone\ntwo\n")
    error = next(m for m in messages if m.startswith("[ERROR]"))
    assert error.startswith("[ERROR] ValueError: bad\nTraceback (most recent call last):\n")
    assert messages[-2].startswith("END RequestId: ") and messages[-2].endswith("\n")
    assert messages[-1].startswith("REPORT RequestId: ") and messages[-1].endswith(" ms\t\n")
    # the tail is the invocation's own: from START on
    tail = base64.b64decode(answer["LogResult"]).decode()
    assert tail.startswith("START RequestId: ") and tail.endswith("\t\n")


ENVIRONMENT = """
import os
def handler(event, context):
    return {"env": dict(os.environ), "cwd": os.getcwd()}
"""


def test_the_environment_has_aws_reserved_variables_of_its_runtime(lam: Any, make_function: Any) -> None:
    found = _call(lam, make_function(ENVIRONMENT))
    env = found["env"]
    assert "NODE_PATH" not in env and env["PYTHONPATH"].split(":")[0] == env["LAMBDA_TASK_ROOT"]
    assert env["PWD"] == found["cwd"] == env["LAMBDA_TASK_ROOT"]
    assert env["AWS_XRAY_CONTEXT_MISSING"] == "LOG_ERROR"
    assert env["AWS_XRAY_DAEMON_ADDRESS"] == f"{env['_AWS_XRAY_DAEMON_ADDRESS']}:{env['_AWS_XRAY_DAEMON_PORT']}"
    assert "_LAMBDA_TELEMETRY_LOG_FD" not in env  # the runtime client takes it
