"""Operations whose model has a `hostPrefix` (`sync-` StartSyncExecution and TestState, `stream-` for
Logs' GetLogObject and StartLiveTail): SDKs send them to `<prefix><endpoint host>`. The server answers
them whatever the Host, as long as the rest of the name is one it serves; clients that cannot
resolve the prefixed name turn the prefix off (boto3 `inject_host_prefix=False`)."""

from __future__ import annotations

import http.client
import json
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.conftest import ServerProcess
from tests.signing import signed_headers

ROLE = "arn:aws:iam::000000000000:role/r"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": True}, "End": True}}})


def raw_call(server: ServerProcess, host: str, service: str, target: str, document: dict[str, Any],
             content_type: str = "application/x-amz-json-1.0") -> tuple[int, dict[str, Any]]:
    """A signed JSON call sent to the server with `host` as its Host header, as an SDK that injected
    the prefix would send it."""
    body = json.dumps(document).encode()
    headers = signed_headers("POST", f"http://{host}/", body, {"Content-Type": content_type, "X-Amz-Target": target},
                             service)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("POST", "/", body=body, headers={**headers, "Host": host})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


@pytest.fixture
def express_machine(server: ServerProcess, unique: str) -> str:
    return str(server.client("stepfunctions").create_state_machine(
        name=f"sync-{unique}", definition=PASS, roleArn=ROLE, type="EXPRESS")["stateMachineArn"])


@pytest.mark.parametrize("host_name", ["sync-localhost", "sync-127.0.0.1"])
def test_a_sync_prefixed_host_is_answered(server: ServerProcess, express_machine: str, host_name: str) -> None:
    status, answer = raw_call(server, f"{host_name}:{server.port}", "states", "AWSStepFunctions.StartSyncExecution",
                              {"stateMachineArn": express_machine, "input": "{}"})
    assert (status, answer["status"], json.loads(answer["output"])) == (200, "SUCCEEDED", {"ok": True})


def test_a_prefix_in_front_of_a_foreign_name_is_still_refused(server: ServerProcess, express_machine: str) -> None:
    status, _ = raw_call(server, "sync-evil.example", "states", "AWSStepFunctions.StartSyncExecution",
                         {"stateMachineArn": express_machine, "input": "{}"})
    assert status == 403


def test_logs_stream_prefixed_operations_reach_the_logs_service(server: ServerProcess) -> None:
    status, answer = raw_call(server, f"stream-localhost:{server.port}", "logs", "Logs_20140328.StartLiveTail",
                              {"logGroupIdentifiers": ["arn:aws:logs:us-east-1:000000000000:log-group:g"]},
                              "application/x-amz-json-1.1")
    # Logs itself answers (it does not implement live tail: its error for an operation it lacks), not the door.
    assert status == 400 and answer["__type"].endswith("OperationException")


def test_boto3_without_host_prefix_injection_runs_sync_operations(server: ServerProcess, express_machine: str) -> None:
    sfn = boto3.client("stepfunctions", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                       aws_secret_access_key="secret", config=Config(inject_host_prefix=False,
                                                                    retries={"max_attempts": 1}))
    assert sfn.start_sync_execution(stateMachineArn=express_machine, input="{}")["status"] == "SUCCEEDED"
    tested = sfn.test_state(definition=json.dumps({"Type": "Pass", "Result": 1, "End": True}), roleArn=ROLE)
    assert (tested["status"], tested["output"]) == ("SUCCEEDED", "1")
