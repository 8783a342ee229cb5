"""Raw query-protocol requests, as a hand-written client (signing with SigV4) would send them."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

from tests.conftest import ServerProcess
from tests.signing import signed_headers

NS = {"sqs": "http://queue.amazonaws.com/doc/2012-11-05/"}


def post(server: ServerProcess, form: dict[str, str], path: str = "/") -> tuple[int, ET.Element]:
    body = urllib.parse.urlencode(form).encode()
    headers = signed_headers("POST", server.url + path, body, {"Content-Type": "application/x-www-form-urlencoded"}, "sqs")
    request = urllib.request.Request(server.url + path, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, ET.fromstring(response.read())
    except urllib.error.HTTPError as error:
        return error.code, ET.fromstring(error.read())


def test_a_signed_form_post_creates_a_queue_and_answers_xml(server: ServerProcess, unique: str) -> None:
    status, root = post(server, {"Action": "CreateQueue", "QueueName": f"raw-{unique}",
                                 "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "40"})
    assert status == 200
    assert root.tag == "{http://queue.amazonaws.com/doc/2012-11-05/}CreateQueueResponse"
    url = root.find("sqs:CreateQueueResult/sqs:QueueUrl", NS).text
    assert url.endswith(f"/000000000000/raw-{unique}")
    assert root.find("sqs:ResponseMetadata/sqs:RequestId", NS).text


def test_posting_to_the_queue_url_path_addresses_that_queue(server: ServerProcess, unique: str) -> None:
    post(server, {"Action": "CreateQueue", "QueueName": f"path-{unique}"})
    path = f"/000000000000/path-{unique}"
    status, root = post(server, {"Action": "SendMessage", "MessageBody": "via path",
                                 "MessageAttribute.1.Name": "k", "MessageAttribute.1.Value.DataType": "String",
                                 "MessageAttribute.1.Value.StringValue": "v"}, path)
    assert status == 200 and root.find("sqs:SendMessageResult/sqs:MessageId", NS) is not None
    status, root = post(server, {"Action": "ReceiveMessage", "MessageAttributeName.1": "All",
                                 "AttributeName.1": "All"}, path)
    message = root.find("sqs:ReceiveMessageResult/sqs:Message", NS)
    assert message.find("sqs:Body", NS).text == "via path"
    names = [a.find("sqs:Name", NS).text for a in message.findall("sqs:Attribute", NS)]
    assert "SentTimestamp" in names
    attribute = message.find("sqs:MessageAttribute", NS)
    assert attribute.find("sqs:Name", NS).text == "k"
    assert attribute.find("sqs:Value/sqs:StringValue", NS).text == "v"


def test_errors_are_xml_with_the_legacy_code(server: ServerProcess, unique: str) -> None:
    status, root = post(server, {"Action": "GetQueueUrl", "QueueName": f"none-{unique}"})
    assert status == 400
    assert root.find("sqs:Error/sqs:Code", NS).text == "AWS.SimpleQueueService.NonExistentQueue"
    assert root.find("sqs:Error/sqs:Type", NS).text == "Sender"


def test_an_unknown_action_is_invalid_action(server: ServerProcess) -> None:
    status, root = post(server, {"Action": "FlyToTheMoon", "QueueUrl": "http://x/000000000000/q"})
    assert status == 400
    assert root.find("sqs:Error/sqs:Code", NS).text == "InvalidAction"


def test_a_missing_parameter_is_named(server: ServerProcess) -> None:
    status, root = post(server, {"Action": "CreateQueue"})
    assert status == 400
    assert root.find("sqs:Error/sqs:Code", NS).text == "MissingParameter"
    assert "QueueName" in root.find("sqs:Error/sqs:Message", NS).text


def test_move_tasks_over_the_query_protocol(server: ServerProcess, unique: str) -> None:
    _, root = post(server, {"Action": "CreateQueue", "QueueName": f"mdlq-{unique}"})
    dlq_arn = f"arn:aws:sqs:us-east-1:000000000000:mdlq-{unique}"
    policy = '{"deadLetterTargetArn": "%s", "maxReceiveCount": 1}' % dlq_arn
    post(server, {"Action": "CreateQueue", "QueueName": f"msrc-{unique}", "Attribute.1.Name": "RedrivePolicy",
                  "Attribute.1.Value": policy})
    status, root = post(server, {"Action": "StartMessageMoveTask", "SourceArn": dlq_arn})
    assert status == 200 and root.find("sqs:StartMessageMoveTaskResult/sqs:TaskHandle", NS).text
    status, root = post(server, {"Action": "ListMessageMoveTasks", "SourceArn": dlq_arn, "MaxResults": "10"})
    entries = root.findall("sqs:ListMessageMoveTasksResult/sqs:ListMessageMoveTasksResultEntry", NS)
    assert status == 200 and len(entries) == 1
    assert entries[0].find("sqs:SourceArn", NS).text == dlq_arn


def test_a_queues_url_answers_only_actions_on_queues(server: ServerProcess, unique: str) -> None:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName=f"ep-{unique}")["QueueUrl"]
    path = url.split(str(server.port), 1)[1]
    status, root = post(server, {"Action": "CreateQueue", "QueueName": f"other-{unique}"}, path=path)
    assert status == 400 and root.find(".//{*}Code").text == "InvalidAction"
    assert root.find(".//{*}Message").text == "The action CreateQueue is not valid for this endpoint."
    status, root = post(server, {"Action": "GetQueueUrl", "QueueName": f"ep-{unique}"}, path=path)
    assert status == 200 and root.find(".//{*}QueueUrl").text == url
    status, root = post(server, {"Action": "ReceiveMessage"}, path=path)
    assert status == 200 and root.find(".//{*}ReceiveMessageResult") is not None


def test_the_query_api_answers_json_when_asked(server: ServerProcess, unique: str) -> None:
    body = urllib.parse.urlencode({"Action": "ListQueues", "QueueNamePrefix": f"json-{unique}"}).encode()
    server.client("sqs").create_queue(QueueName=f"json-{unique}")
    headers = signed_headers("POST", server.url + "/", body, {"Content-Type": "application/x-www-form-urlencoded",
                                                               "Accept": "application/json"}, "sqs")
    request = urllib.request.Request(server.url + "/", data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        document = json.loads(response.read())
    urls = document["ListQueuesResponse"]["ListQueuesResult"]["QueueUrls"]
    assert [u.rsplit("/", 1)[1] for u in urls] == [f"json-{unique}"]
