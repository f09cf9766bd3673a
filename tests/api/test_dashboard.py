"""The dashboard's pages and actions over HTTP (the browser walks them in test_dashboard_browser.py): what
each page shows, that user data is escaped, that actions ask first and need the page's token."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from stepdance.faults.servers import free_port
from tests.api.served import Served, eventually, serving

ROLE = "arn:aws:iam::123456789012:role/test"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("dashboard")) as served:
        yield served


@pytest.fixture(scope="module")
def web(server: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30, follow_redirects=True) as client:
        yield client


def token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has a form with the dashboard's token"
    return found.group(1)


def page_with(web: httpx.Client, path: str, text: str, seconds: float = 30.0) -> str:
    """The page at ``path`` once it shows ``text``."""

    def shown() -> str | None:
        page = web.get(path).text
        return page if text in page else None

    found: str = eventually(shown, seconds=seconds)
    return found


def saga(server: Served) -> str:
    machines = server.client("stepfunctions").list_state_machines()["stateMachines"]
    return next(m["stateMachineArn"] for m in machines if m["name"] == "stepdance-order-saga")


def test_every_page_answers_and_names_what_is_missing(server: Served, web: httpx.Client) -> None:
    for path in (
        "/",
        "/dashboard/executions",
        "/dashboard/orders",
        "/dashboard/dlq",
        "/dashboard/scenarios",
        "/dashboard/demo",
        "/dashboard/executions?design=choreographed",
    ):
        answer = web.get(path)
        assert answer.status_code == 200, path
        assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert "no execution" in web.get("/dashboard/execution?arn=nothing").text
    assert web.get("/dashboard/order?id=nobody").status_code == 404
    report = web.get("/dashboard/report")
    assert report.status_code == 404 and "stepdance report" in report.text
    assert web.get("/dashboard/static/dashboard.js").headers["content-type"].startswith("text/javascript")


def test_an_execution_shows_its_graph_states_and_timeline(server: Served, web: httpx.Client) -> None:
    order_id = f"dash-{uuid.uuid4().hex[:6]}"
    sfn = server.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=saga(server), name=order_id, input=json.dumps({"orderId": order_id})
    )["executionArn"]
    eventually(lambda: sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED")
    listed = web.get("/dashboard/executions?machine=stepdance-order-saga&status=SUCCEEDED").text
    assert order_id in listed
    page = web.get(f"/dashboard/execution?arn={quote(arn)}").text
    assert "<svg" in page and "ChargePayment" in page and "class='node taken'" in page
    assert page.count('class="status succeeded"') >= 6  # a row per state entered
    assert f"/dashboard/order?id={order_id}" in page
    order = web.get(f"/dashboard/order?id={order_id}").text
    assert "completed" in order and "payment ledger" in order


def test_user_data_is_escaped_everywhere_it_is_shown(server: Served, web: httpx.Client) -> None:
    nasty = "o-<script>alert(1)</script>"
    events = server.client("events")
    events.put_events(
        Entries=[
            {
                "Source": "orders",
                "DetailType": "OrderCreated",
                "Detail": json.dumps({"orderId": nasty, "customer": "<img src=x onerror=alert(2)>"}),
                "EventBusName": "default",
            }
        ]
    )
    eventually(lambda: server.orders_record(nasty))
    for path in ("/dashboard/orders", f"/dashboard/order?id={quote(nasty)}"):
        page = web.get(path).text
        assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<img src=x" not in page


def test_a_dead_letter_is_listed_inspected_and_redriven_after_confirming(
    server: Served, web: httpx.Client
) -> None:
    events = server.client("events")
    bus = f"dash-{uuid.uuid4().hex[:6]}"
    events.create_event_bus(Name=bus)
    events.put_rule(Name="to-nowhere", EventBusName=bus, EventPattern=json.dumps({"source": ["shop"]}))
    # an HTTP target where nothing listens: the attempt fails, and with no retries the event is dead-lettered
    nowhere = f"http://127.0.0.1:{free_port()}/nobody"
    events.put_targets(
        Rule="to-nowhere",
        EventBusName=bus,
        Targets=[{"Id": "t", "Arn": nowhere, "RetryPolicy": {"MaximumRetryAttempts": 0}}],
    )
    detail = {"note": "<b>bold</b>"}
    events.put_events(
        Entries=[{"Source": "shop", "DetailType": "Sale", "Detail": json.dumps(detail), "EventBusName": bus}]
    )
    listing = page_with(web, "/dashboard/dlq", bus)
    letter_id = re.search(rf'dead-letter\?id=([^"]+)"[^<]*</a></td>\s*<td>{bus} ', listing)
    assert letter_id is not None
    shown = web.get(f"/dashboard/dead-letter?id={letter_id.group(1)}").text
    assert "&lt;b&gt;bold&lt;/b&gt;" in shown and "<b>bold</b>" not in shown
    form = {"csrf": token(shown), "id": letter_id.group(1)}
    asked = web.post("/dashboard/actions/redrive-letters", data=form)
    assert asked.status_code == 200 and "Send 1 dead letter(s) back" in asked.text
    assert letter_id.group(1) in web.get("/dashboard/dlq").text  # asking did nothing
    done = web.post("/dashboard/actions/redrive-letters", data={**form, "confirmed": "yes"})
    assert "1 sent back to their targets" in done.text


def test_an_action_without_the_page_token_or_from_another_site_is_refused(
    server: Served, web: httpx.Client
) -> None:
    waits = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}})
    sfn = server.client("stepfunctions")
    machine = sfn.create_state_machine(name=f"wait-{uuid.uuid4().hex[:6]}", definition=waits, roleArn=ROLE)
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"]
    page = web.get(f"/dashboard/execution?arn={quote(arn)}").text
    stop = {"arn": arn, "confirmed": "yes"}
    assert web.post("/dashboard/actions/stop", data={**stop, "csrf": "guess"}).status_code == 403
    forged = web.post(
        "/dashboard/actions/stop",
        data={**stop, "csrf": token(page)},
        headers={"Origin": "http://evil.example"},
    )
    assert forged.status_code == 403
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    done = web.post("/dashboard/actions/stop", data={**stop, "csrf": token(page)})
    assert done.status_code == 200 and "Stopped" in done.text
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"


def test_the_live_stream_sends_the_fragment_and_ends_with_the_execution(
    server: Served, web: httpx.Client
) -> None:
    sfn = server.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"live-{uuid.uuid4().hex[:6]}",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=ROLE,
    )
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"]
    eventually(lambda: sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED")
    seen: list[str] = []
    with web.stream("GET", f"/dashboard/execution/live?arn={quote(arn)}") as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        for line in answer.iter_lines():
            seen.append(line)
            if line == "event: end":
                break
    assert any('id="execution-status">SUCCEEDED' in line for line in seen)


def test_the_demo_workload_starts_after_confirming_and_reports_each_design(
    server: Served, web: httpx.Client
) -> None:
    form: dict[str, Any] = {"csrf": token(web.get("/dashboard/demo").text), "orders": "3"}
    assert "Place 3 demo orders" in web.post("/dashboard/actions/demo", data=form).text
    refused = web.post("/dashboard/actions/demo", data={**form, "orders": "many", "confirmed": "yes"})
    assert refused.status_code == 400 and "whole number" in refused.text
    started = web.post("/dashboard/actions/demo", data={**form, "confirmed": "yes"})
    assert "Placing 3 orders on each design" in started.text
    finished = page_with(web, "/dashboard/demo", "Finished", seconds=60)
    for design in ("orchestrated", "choreographed", "hybrid"):
        assert re.search(rf"<td>{design}</td><td>\d+</td><td>\d+</td><td>0</td>", finished)


def test_a_failed_execution_is_redriven_from_its_page(server: Served, web: httpx.Client) -> None:
    sfn = server.client("stepfunctions", read_timeout=70)
    activity = sfn.create_activity(name=f"act-{uuid.uuid4().hex[:6]}")["activityArn"]
    definition = {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": activity, "End": True}}}
    machine = sfn.create_state_machine(
        name=f"redrive-{uuid.uuid4().hex[:6]}", definition=json.dumps(definition), roleArn=ROLE
    )
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"]
    task = sfn.get_activity_task(activityArn=activity)
    sfn.send_task_failure(taskToken=task["taskToken"], error="Broken", cause="<i>the worker</i> gave up")
    eventually(lambda: sfn.describe_execution(executionArn=arn)["status"] == "FAILED")
    page = web.get(f"/dashboard/execution?arn={quote(arn)}").text
    assert "&lt;i&gt;the worker&lt;/i&gt; gave up" in page and "<i>the worker" not in page
    assert 'action="/dashboard/actions/redrive"' in page and 'class="status failed"' in page
    form = {"csrf": token(page), "arn": arn}
    assert "from the state where it stopped?" in web.post("/dashboard/actions/redrive", data=form).text
    done = web.post("/dashboard/actions/redrive", data={**form, "confirmed": "yes"})
    assert done.status_code == 200 and "Redriven" in done.text
    described = sfn.describe_execution(executionArn=arn)
    assert described["status"] == "RUNNING" and described["redriveCount"] == 1
    again = web.post("/dashboard/actions/redrive", data={**form, "confirmed": "yes"})
    assert again.status_code == 400 and "ExecutionNotRedrivable" in again.text  # shown, not a crash
    sfn.stop_execution(executionArn=arn)


def test_state_names_of_a_users_machine_are_escaped_in_the_graph_and_tables(
    server: Served, web: httpx.Client
) -> None:
    evil = "<img src=x onerror=alert(3)>"
    definition = {"StartAt": evil, "States": {evil: {"Type": "Pass", "End": True}}}
    sfn = server.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"names-{uuid.uuid4().hex[:6]}", definition=json.dumps(definition), roleArn=ROLE
    )
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"]
    eventually(lambda: sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED")
    page = web.get(f"/dashboard/execution?arn={quote(arn)}").text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(3)&gt;" in page


def test_a_long_execution_shows_its_latest_states_and_events(server: Served, web: httpx.Client) -> None:
    item = {"StartAt": "Touch", "States": {"Touch": {"Type": "Pass", "End": True}}}
    definition = {"StartAt": "Each", "States": {"Each": {"Type": "Map", "ItemProcessor": item, "End": True}}}
    sfn = server.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"long-{uuid.uuid4().hex[:6]}", definition=json.dumps(definition), roleArn=ROLE
    )
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input=json.dumps(list(range(600))))[
        "executionArn"
    ]
    eventually(lambda: sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED")
    page = web.get(f"/dashboard/execution?arn={quote(arn)}").text
    assert "(the latest 500 shown)" in page and "earlier ones are in the history" in page
    assert page.count("<tr class=") == 500  # one per state row shown
