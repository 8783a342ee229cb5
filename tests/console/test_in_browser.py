"""The console in a real browser (headless chromium): the DLQ investigation and one-click redrive,
a saga's execution in its colours, the pattern tester explaining a non-match, and 2,000 queues."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import ServerProcess
from tests.console.browser import browser  # noqa: F401 - the fixture
from tests.console.helpers import MOUNT, dead_letter_setup, depth, poison
from tests.console.test_service_pages import _saga

# The first browser test may install chromium (apt-get) in its set-up.
pytestmark = pytest.mark.timeout(900)
PATIENCE = 30  # seconds to wait for a page to change; generous, never a fixed sleep


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("console-browser") / "data").start()
    yield process
    process.stop()


def open_page(driver: Any, server: ServerProcess, path: str, **query: str) -> None:
    driver.get(f"{server.url}{MOUNT}/{path}" + (f"?{urllib.parse.urlencode(query)}" if query else ""))


def until(driver: Any, condition: Any, what: str) -> Any:
    return WebDriverWait(driver, PATIENCE, poll_frequency=0.1).until(condition, message=f"waiting for {what}")


def read(driver: Any, selector: str) -> str:
    """An element's text, read in one step (live parts of a page are replaced as they change)."""
    found = driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent.trim() : null;", selector)
    return "" if found is None else str(found)


def attribute(driver: Any, selector: str, name: str) -> str | None:
    found = driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;", selector, name)
    return None if found is None else str(found)


def click(driver: Any, selector: str) -> None:
    driver.execute_script("document.querySelector(arguments[0]).click();", selector)


def leave(driver: Any) -> None:
    """Close the page's event stream before the server stops (an open stream delays its shutdown)."""
    driver.get("about:blank")


def test_a_poison_message_is_found_in_its_dlq_and_redriven_with_one_click(browser: Any,  # noqa: F811
                                                                        console_server: ServerProcess) -> None:
    sqs, url, dlq_url, dlq_arn = dead_letter_setup(console_server, "payments")
    poison(sqs, url, json.dumps({"payment": "poison"}))
    assert depth(sqs, dlq_url) == 1 and depth(sqs, url) == 0

    open_page(browser, console_server, "")
    assert read(browser, f'li[data-queue-arn="{dlq_arn}"] .dlq-badge') == "1 message"
    assert "oldest sent" in read(browser, f'li[data-queue-arn="{dlq_arn}"]')
    click(browser, f'li[data-queue-arn="{dlq_arn}"] a')
    until(browser, lambda d: "payments-dlq" in read(d, "h1"), "the DLQ's page")
    assert '{"payment": "poison"}' in read(browser, "#messages")  # peeked, not received
    assert read(browser, "#depth-visible") == "1"

    click(browser, "#redrive")
    until(browser, lambda d: "Redrive started" in (read(d, ".notice") or ""), "the notice")
    # The page updates itself over server-sent events, without a reload, as the task moves the message.
    until(browser, lambda d: read(d, "#depth-visible") == "0", "the DLQ to empty")
    until(browser, lambda d: read(d, '.move-task[data-status="COMPLETED"]'), "the redrive to show as completed")
    assert depth(sqs, dlq_url) == 0 and depth(sqs, url) == 1  # boto3 agrees
    received = sqs.receive_message(QueueUrl=url)["Messages"]
    assert json.loads(received[0]["Body"]) == {"payment": "poison"}

    open_page(browser, console_server, "")
    assert attribute(browser, f'li[data-queue-arn="{dlq_arn}"]', "class") == "dlq empty"
    leave(browser)


def _colour(driver: Any, selector: str, prop: str) -> str:
    return str(driver.execute_script(
        "return getComputedStyle(document.querySelector(arguments[0]))[arguments[1]];", selector, prop))


def test_a_saga_shows_its_failed_state_and_compensation_path_in_colour(browser: Any,  # noqa: F811
                                                                     console_server: ServerProcess) -> None:
    execution = _saga(console_server, "trip")
    open_page(browser, console_server, "sfn/execution", arn=execution)
    graph = "#execution-graph svg.graph"
    until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, graph), "the graph")
    red, orange, green = "rgb(180, 35, 24)", "rgb(180, 83, 9)", "rgb(31, 122, 58)"
    assert _colour(browser, f'{graph} g[data-state="BookingFailed"] rect', "stroke") == red
    assert _colour(browser, f'{graph} g[data-state="Charge"] rect', "stroke") == orange  # caught
    assert _colour(browser, f'{graph} g[data-state="Release"] rect', "stroke") == green  # compensation ran
    assert _colour(browser, f'{graph} g[data-state="Reserve"] rect', "stroke") == green
    assert _colour(browser, f'{graph} g[data-state="Booked"] rect', "stroke") != green  # never reached
    catch_edge = f'{graph} path.edge.catch.taken[data-from="Charge"][data-to="Release"]'
    assert _colour(browser, catch_edge, "stroke") == orange
    assert _colour(browser, catch_edge, "strokeDasharray") != "none"
    assert "PaymentFailed" in read(browser, ".problem")
    history = read(browser, "#history")
    assert "TaskFailed" in history and "FailStateEntered" in history
    leave(browser)


def test_the_pattern_tester_explains_why_a_rule_does_not_match(browser: Any,  # noqa: F811
                                                              console_server: ServerProcess) -> None:
    events = console_server.client("events")
    events.put_rule(Name="paid-orders", EventPattern=json.dumps({"source": ["shop"], "detail": {"status": ["paid"]}}))
    events.put_rule(Name="shop-events", EventPattern=json.dumps({"source": ["shop"]}))
    open_page(browser, console_server, "events/bus", arn="arn:aws:events:us-east-1:000000000000:event-bus/default")
    box = browser.find_element(By.CSS_SELECTOR, "#event-test textarea")
    box.clear()
    box.send_keys(json.dumps({"source": "shop", "detail-type": "Order", "detail": {"status": "refunded"}}))
    browser.find_element(By.CSS_SELECTOR, "#event-test button").click()
    reason = until(browser, lambda d: read(d, '#test-results li[data-rule="paid-orders"] .reason'), "the explanation")
    assert reason == 'detail.status: detail.status is "refunded"; the pattern wants "paid"'
    assert attribute(browser, '#test-results li[data-rule="shop-events"]', "data-matches") == "true"
    assert browser.current_url.endswith("events/bus?arn=arn%3Aaws%3Aevents%3Aus-east-1%3A000000000000%3Aevent-bus%2Fdefault")
    leave(browser)


def test_a_region_with_two_thousand_queues_loads_in_under_a_second(browser: Any,  # noqa: F811
                                                                  console_server: ServerProcess,
                                                                  tmp_path: Path) -> None:
    region = "ap-southeast-2"
    sqs = console_server.client("sqs", region=region)
    for i in range(2000):
        sqs.create_queue(QueueName=f"tenant-{i:04d}")
    assert len(sqs.list_queues(MaxResults=1000)["QueueUrls"]) == 1000
    open_page(browser, console_server, "sqs", region=region)  # warm: templates compiled, connections open
    for path, query in (("sqs", {"region": region}), ("", {"region": region}),
                        ("sqs", {"region": region, "q": "tenant-19", "page": "2"})):
        open_page(browser, console_server, path, **query)
        loaded_ms = browser.execute_script(
            "const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime;")
        print(f"console page {path or 'overview'} {query}: loaded in {loaded_ms:.0f} ms")  # for the report
        assert 0 < loaded_ms < 1000, f"{path or 'overview'} {query} took {loaded_ms:.0f} ms"
    open_page(browser, console_server, "sqs", region=region)
    rows = browser.find_elements(By.CSS_SELECTOR, "#queues tbody tr")
    assert len(rows) == 50 and "1–50 of 2000" in read(browser, ".pager")
    search = browser.find_element(By.CSS_SELECTOR, "form.search input[type=search]")
    search.send_keys("tenant-1999")
    until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#queues tbody tr")) == 1, "the search to narrow")
    assert "tenant-1999" in read(browser, "#queues")
    leave(browser)
