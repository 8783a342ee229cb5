"""The console's overview and SQS pages against boto3-created queues on a live server."""

from __future__ import annotations

import html
import urllib.parse

from tests.conftest import ServerProcess
from tests.console.helpers import MOUNT, dead_letter_setup, depth, get, page, poison, post, wait_for
from tests.signing import signed_headers


def test_a_browser_opening_the_root_is_sent_to_the_console(server: ServerProcess) -> None:
    status, _, headers = get(server, "/", {"accept": "text/html,application/xhtml+xml"}, follow=False)
    assert status == 302 and headers["location"] == f"{MOUNT}/"
    status, body, _ = get(server, "/", {"accept": "text/html"})
    assert status == 200 and "<h1>Overview</h1>" in body


def test_api_requests_to_the_root_are_not_redirected(server: ServerProcess) -> None:
    url = f"{server.url}/?Action=ListTopics&Version=2010-03-31"
    status, body, _ = get(server, "/?Action=ListTopics&Version=2010-03-31",
                          signed_headers("GET", url, None, {"accept": "text/html"}, "sns"), follow=False)
    assert status == 200 and "ListTopicsResponse" in body
    status, _, _ = get(server, "/", {"accept": "application/json"}, follow=False)
    assert status != 302  # an SDK-shaped request (no HTML wanted) reaches the API side


def test_the_overview_shows_a_badge_on_a_dead_letter_queue_holding_messages(server: ServerProcess, unique: str) -> None:
    sqs, url, dlq_url, dlq_arn = dead_letter_setup(server, f"badge-{unique}")
    poison(sqs, url, '{"order": "poison"}')
    assert depth(sqs, dlq_url) == 1
    body = page(server, "", region="us-east-1")
    item = body[body.index(f'data-queue-arn="{dlq_arn}"'):]
    item = item[:item.index("</li>")]
    assert "dlq-badge" in item and "1 message" in item and "oldest sent" in item


def test_peeking_at_a_queue_does_not_receive_its_messages(server: ServerProcess, unique: str) -> None:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName=f"peek-{unique}")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=f"hello {unique}")
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for _ in range(3):
        assert f"hello {unique}" in page(server, "sqs/queue", arn=arn)
    received = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert received[0]["Attributes"]["ApproximateReceiveCount"] == "1"  # the console's looks were not receives


def test_the_queue_list_pages_and_searches(server: ServerProcess, unique: str) -> None:
    sqs = server.client("sqs")
    for i in range(60):
        sqs.create_queue(QueueName=f"list-{unique}-{i:03d}")
    first = page(server, "sqs", q=f"list-{unique}")
    assert first.count(f"list-{unique}-") >= 50 and "1–50 of 60" in first
    second = page(server, "sqs", q=f"list-{unique}", page="2")
    assert f"list-{unique}-059" in second and f"list-{unique}-000" not in second
    assert f"list-{unique}-007" in page(server, "sqs", q=f"{unique}-007")


def test_send_purge_and_redrive_from_the_queue_page(server: ServerProcess, unique: str) -> None:
    sqs, url, dlq_url, dlq_arn = dead_letter_setup(server, f"redrive-{unique}")
    poison(sqs, url, "bad one")
    assert depth(sqs, dlq_url) == 1 and depth(sqs, url) == 0
    status, _, headers = post(server, "sqs/redrive", {"arn": dlq_arn})
    assert status == 303 and "notice=Redrive+started" in headers["location"]
    wait_for(lambda: depth(sqs, dlq_url) == 0 and depth(sqs, url) == 1, what="the redrive to finish")
    assert "COMPLETED" in wait_for(lambda: "COMPLETED" in page(server, "sqs/queue", arn=dlq_arn)
                                   and page(server, "sqs/queue", arn=dlq_arn), what="the task to show as completed")
    queue_arn = dlq_arn.replace("-dlq", "")
    status, _, headers = post(server, "sqs/send", {"arn": queue_arn, "body": "typed in the console"})
    assert status == 303 and "Message+sent" in headers["location"]
    assert depth(sqs, url) == 2
    status, _, headers = post(server, "sqs/purge", {"arn": queue_arn})
    assert status == 303 and depth(sqs, url) == 0
    status, _, headers = post(server, "sqs/purge", {"arn": queue_arn})  # AWS allows one purge a minute
    assert "PurgeQueueInProgress" in urllib.parse.unquote_plus(headers["location"])


def test_console_actions_refuse_cross_site_requests_and_gets(server: ServerProcess, unique: str) -> None:
    sqs, url, _, _ = dead_letter_setup(server, f"xsite-{unique}")
    arn = f"arn:aws:sqs:us-east-1:000000000000:xsite-{unique}"
    status, _, _ = post(server, "sqs/send", {"arn": arn, "body": "x"}, {"origin": "https://evil.example"})
    assert status == 403
    status, _, _ = post(server, "sqs/send", {"arn": arn, "body": "x"}, {"sec-fetch-site": "cross-site"})
    assert status == 403
    status, _, _ = get(server, f"{MOUNT}/sqs/send?arn={urllib.parse.quote(arn)}&body=x")
    assert status == 405  # state changes are POSTs only
    assert depth(sqs, url) == 0


def test_an_unknown_queue_shows_the_aws_error(server: ServerProcess) -> None:
    status, body, _ = get(server, f"{MOUNT}/sqs/queue?arn=arn:aws:sqs:us-east-1:000000000000:nope")
    assert status == 400 and "QueueDoesNotExist" in html.unescape(body)


def test_live_fragments_stream_over_server_sent_events(server: ServerProcess, unique: str) -> None:
    import urllib.request

    sqs, url, dlq_url, dlq_arn = dead_letter_setup(server, f"live-{unique}")
    src = f"{MOUNT}/sqs/queue/live?arn={urllib.parse.quote(dlq_arn)}"
    request = urllib.request.Request(f"{server.url}{MOUNT}/live?src={urllib.parse.quote(src)}")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["content-type"] == "text/event-stream"
        assert response.readline() == b"retry: 1000\n"
        response.readline()
        assert response.readline() == b"event: fragment\n"
        data = response.readline().decode()
    assert data.startswith("data: ") and "depth-visible" in data
