"""`--auth sigv4`: signatures are verified against configured keys, each key acts in its own account."""

from __future__ import annotations

import datetime as dt
import io
import json
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.auth
import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from eventyard.protocol.sigv4 import ChunkSigner, signing_key
from tests.conftest import CLIENT_CONFIG, ServerProcess
from tests.signing import signed_headers

ALPHA = ("AKIDALPHAEXAMPLE0001", "alpha/secret+key", "111111111111")
BETA = ("AKIDBETAEXAMPLE00002", "beta-secret-key", "222222222222")


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    keys_file = tmp_path_factory.mktemp("keys") / "keys.json"
    keys_file.write_text(json.dumps([{"AccessKeyId": BETA[0], "SecretAccessKey": BETA[1], "AccountId": BETA[2]}]))
    process = ServerProcess(tmp_path_factory.mktemp("auth") / "data", env={
        "EVENTYARD_AUTH": "sigv4", "EVENTYARD_ACCESS_KEYS": f"{ALPHA[0]}:{ALPHA[1]}:{ALPHA[2]}",
        "EVENTYARD_ACCESS_KEYS_FILE": str(keys_file)}).start()
    yield process
    process.stop()


def client(server: ServerProcess, service: str, key: tuple[str, str, str] = ALPHA, secret: str | None = None,
           region: str = "us-east-1") -> Any:
    return boto3.client(service, endpoint_url=server.url, region_name=region, aws_access_key_id=key[0],
                        aws_secret_access_key=secret or key[1], config=CLIENT_CONFIG)


def answer(request: urllib.request.Request | str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def error_of(call: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response
    return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"], error["Error"].get("Message", "")


# -- who may call ---------------------------------------------------------------------------------
def test_configured_keys_work_through_every_protocol(auth_server: ServerProcess, unique: str) -> None:
    url = client(auth_server, "sqs").create_queue(QueueName=f"ok-{unique}")["QueueUrl"]
    assert url.endswith(f"/{ALPHA[2]}/ok-{unique}")
    legacy = auth_server.legacy_sqs_client(access_key=ALPHA[0], secret_key=ALPHA[1])
    assert url in legacy.list_queues(QueueNamePrefix=f"ok-{unique}")["QueueUrls"]
    assert client(auth_server, "sns").create_topic(Name=f"ok-{unique}")["TopicArn"].startswith(
        f"arn:aws:sns:us-east-1:{ALPHA[2]}:")
    assert "Functions" in client(auth_server, "lambda").list_functions()
    assert "StreamNames" in client(auth_server, "kinesis", BETA).list_streams()
    assert "Schedules" in client(auth_server, "scheduler", BETA).list_schedules()


@pytest.mark.parametrize("service,call,code,status", [
    ("sqs", lambda c: c.list_queues(), "SignatureDoesNotMatch", 403),
    ("sns", lambda c: c.list_topics(), "SignatureDoesNotMatch", 403),
    ("lambda", lambda c: c.list_functions(), "InvalidSignatureException", 403),
    ("kinesis", lambda c: c.list_streams(), "InvalidSignatureException", 400),
    ("stepfunctions", lambda c: c.list_state_machines(), "InvalidSignatureException", 400),
])
def test_a_wrong_secret_answers_the_services_signature_error(auth_server: ServerProcess, service: str, call: Any,
                                                             code: str, status: int) -> None:
    got_code, got_status, message = error_of(lambda: call(client(auth_server, service, secret="not-the-secret")))
    assert (got_code, got_status) == (code, status)
    assert message.startswith("The request signature we calculated does not match the signature you provided.")


@pytest.mark.parametrize("service,call,code,status", [
    ("sqs", lambda c: c.list_queues(), "InvalidClientTokenId", 403),
    ("sns", lambda c: c.list_topics(), "InvalidClientTokenId", 403),
    ("lambda", lambda c: c.list_functions(), "UnrecognizedClientException", 403),
    ("events", lambda c: c.list_event_buses(), "UnrecognizedClientException", 400),
    ("logs", lambda c: c.describe_log_groups(), "UnrecognizedClientException", 400),
])
def test_an_unknown_access_key_answers_the_services_invalid_token_error(auth_server: ServerProcess, service: str,
                                                                         call: Any, code: str, status: int) -> None:
    stranger = ("AKIDUNKNOWN000000000", "whatever", "")
    assert error_of(lambda: call(client(auth_server, service, stranger))) == (
        code, status, "The security token included in the request is invalid.")


def test_a_stale_signature_is_refused_as_expired(auth_server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    sqs, sns = client(auth_server, "sqs"), client(auth_server, "sns")
    an_hour_ago = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=1)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: an_hour_ago)
    for call in (sqs.list_queues, sns.list_topics):
        code, status, message = error_of(call)
        assert (code, status) == ("SignatureDoesNotMatch", 403)
        assert message.startswith(f"Signature expired: {an_hour_ago:%Y%m%dT%H%M%SZ} is now earlier than ")
        assert message.endswith(" - 5 min.)")


def test_a_presigned_url_works_and_a_tampered_one_does_not(auth_server: ServerProcess, unique: str) -> None:
    sns = client(auth_server, "sns")
    arn = sns.create_topic(Name=f"presigned-{unique}")["TopicArn"]
    url = sns.generate_presigned_url("get_topic_attributes", Params={"TopicArn": arn}, ExpiresIn=300)
    # botocore presigns query operations for their modeled method, POST (with the parameters in the URL).
    status, body = answer(urllib.request.Request(url, data=b"", method="POST"))
    assert status == 200 and arn in body.decode()
    status, body = answer(urllib.request.Request(url.replace("GetTopicAttributes", "DeleteTopic"), data=b"",
                                                 method="POST"))
    assert status == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in body
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["TopicArn"] == arn


def test_an_unsigned_request_is_still_missing_authentication(auth_server: ServerProcess) -> None:
    request = urllib.request.Request(auth_server.url + "/", data=b"{}", method="POST", headers={
        "X-Amz-Target": "AmazonSQS.ListQueues", "Content-Type": "application/x-amz-json-1.0"})
    assert answer(request)[0] == 403


def test_a_signature_scoped_to_another_service_is_refused(auth_server: ServerProcess) -> None:
    body = b"{}"
    headers = signed_headers("POST", auth_server.url + "/", body, {
        "X-Amz-Target": "AmazonSQS.ListQueues", "Content-Type": "application/x-amz-json-1.0"}, "sns",
        credentials=Credentials(ALPHA[0], ALPHA[1]))
    request = urllib.request.Request(auth_server.url + "/", data=body, method="POST", headers=headers)
    status, answered = answer(request)
    assert status == 403
    assert json.loads(answered)["message"] == "Credential should be scoped to correct service: 'sqs'. "


def test_a_signed_aws_chunked_body_is_verified_and_unwrapped(auth_server: ServerProcess, unique: str) -> None:
    document = json.dumps({"QueueName": f"chunked-{unique}"}).encode()
    url = auth_server.url + "/"
    headers = {"X-Amz-Target": "AmazonSQS.CreateQueue", "Content-Type": "application/x-amz-json-1.0",
               "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "Content-Encoding": "aws-chunked",
               "X-Amz-Decoded-Content-Length": str(len(document))}
    seeded = signed_headers("POST", url, None, headers, "sqs", credentials=Credentials(ALPHA[0], ALPHA[1]))
    body = _chunk_signed(document, seeded, ALPHA[1])
    status, answered = answer(urllib.request.Request(url, data=body, method="POST", headers=seeded))
    assert status == 200 and json.loads(answered)["QueueUrl"].endswith(f"/chunked-{unique}")
    forged = body.replace(b"chunked-", b"CHUNKED-")
    assert answer(urllib.request.Request(url, data=forged, method="POST", headers=seeded))[0] == 403


def _chunk_signed(payload: bytes, headers: dict[str, str], secret: str) -> bytes:
    """An aws-chunked body: the payload in two chunks, each signed after the seed (the header signature)."""
    authorization = headers["Authorization"]
    scope = authorization.split("Credential=")[1].split(",")[0].split("/", 1)[1]
    date, region, service, _ = scope.split("/")
    signer = ChunkSigner(signing_key(secret, date, region, service), headers["X-Amz-Date"], scope,
                         authorization.rsplit("Signature=", 1)[1])
    previous, out = signer.seed, b""
    for chunk in (payload[:10], payload[10:], b""):
        previous = signer.chunk(previous, chunk)
        out += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + chunk + (b"\r\n" if chunk else b"\r\n")
    return out


# -- accounts --------------------------------------------------------------------------------------
def test_each_key_acts_in_its_own_account_and_accounts_do_not_see_each_other(auth_server: ServerProcess,
                                                                              unique: str) -> None:
    name = f"shared-{unique}"
    alpha_sqs, beta_sqs = client(auth_server, "sqs"), client(auth_server, "sqs", BETA)
    alpha_url = alpha_sqs.create_queue(QueueName=name)["QueueUrl"]
    alpha_sqs.send_message(QueueUrl=alpha_url, MessageBody="alpha's")
    assert not beta_sqs.list_queues(QueueNamePrefix=name).get("QueueUrls")
    assert error_of(lambda: beta_sqs.get_queue_url(QueueName=name))[0] == "AWS.SimpleQueueService.NonExistentQueue"
    beta_url = beta_sqs.create_queue(QueueName=name)["QueueUrl"]
    assert beta_url != alpha_url and f"/{BETA[2]}/" in beta_url
    assert not beta_sqs.receive_message(QueueUrl=beta_url).get("Messages")

    for service, create, listing in _per_account_resources(name):
        made = create(client(auth_server, service))
        assert ALPHA[2] in made, (service, made)
        assert not any(name in str(item) for item in listing(client(auth_server, service, BETA))), service


def _per_account_resources(name: str) -> list[tuple[str, Any, Any]]:
    role = "arn:aws:iam::111111111111:role/r"
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    return [
        ("sns", lambda c: c.create_topic(Name=name)["TopicArn"], lambda c: c.list_topics()["Topics"]),
        ("events", lambda c: c.create_event_bus(Name=name)["EventBusArn"], lambda c: c.list_event_buses()["EventBuses"]),
        ("kinesis", lambda c: (c.create_stream(StreamName=name, ShardCount=1),
                               c.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"])[1],
         lambda c: c.list_streams()["StreamNames"]),
        ("stepfunctions", lambda c: c.create_state_machine(name=name, definition=definition, roleArn=role)[
            "stateMachineArn"], lambda c: c.list_state_machines()["stateMachines"]),
        ("logs", lambda c: (c.create_log_group(logGroupName=name),
                            c.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["arn"])[1],
         lambda c: c.describe_log_groups()["logGroups"]),
        ("lambda", lambda c: c.create_function(FunctionName=name, Runtime="python3.12", Handler="h.handler", Role=role,
                                               Code={"ZipFile": _handler_zip()})["FunctionArn"],
         lambda c: c.list_functions()["Functions"]),
        ("scheduler", lambda c: c.create_schedule_group(Name=name)["ScheduleGroupArn"],
         lambda c: c.list_schedule_groups()["ScheduleGroups"]),
    ]


def _handler_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("h.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


# -- Eventyard's own endpoints -------------------------------------------------------------------------
def admin(server: ServerProcess, method: str, path: str, key: tuple[str, str, str] | None) -> tuple[int, bytes]:
    headers = signed_headers(method, server.url + path, None, {}, "eventyard",
                             credentials=Credentials(key[0], key[1])) if key else {}
    return answer(urllib.request.Request(server.url + path, method=method, headers=headers))


def test_admin_endpoints_follow_the_auth_setting(auth_server: ServerProcess) -> None:
    assert admin(auth_server, "GET", "/_eventyard/health", None)[0] == 200
    for method, path in (("DELETE", "/_eventyard/sns/deliveries"), ("GET", "/_eventyard/sns/deliveries"),
                         ("GET", "/_eventyard/clock")):
        status, body = admin(auth_server, method, path, None)
        assert status == 403, (method, path)
        assert json.loads(body)["__type"] == "MissingAuthenticationTokenException"
        assert admin(auth_server, method, path, ("AKIDUNKNOWN000000000", "x", ""))[0] in {400, 403}
        assert admin(auth_server, method, path, ALPHA)[0] == 200, (method, path)


def test_the_server_refuses_to_start_with_unreadable_access_keys(tmp_path: Path) -> None:
    process = ServerProcess(tmp_path / "data", env={"EVENTYARD_AUTH": "sigv4", "EVENTYARD_ACCESS_KEYS": "AKIDONLY"})
    with pytest.raises(RuntimeError, match="must be ACCESS_KEY_ID:SECRET"):
        process.start()
    process.stop()
