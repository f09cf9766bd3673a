"""The dashboard in a real browser: Playwright driving Debian's headless Chromium (``.ci/run`` installs it)
against a running ``stepdance serve``. It opens every page, follows an order whose payment kept failing to
its dead letter, redrives it and sees the order complete without reloading, and saves a screenshot of each
step under ``.artifacts/dashboard/`` (``STEPDANCE_TEST_ARTIFACTS`` elsewhere)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.served import Served, eventually, serving

CHROMIUM = os.environ.get("STEPDANCE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = (
    Path(os.environ.get("STEPDANCE_TEST_ARTIFACTS", Path(__file__).parents[2] / ".artifacts")) / "dashboard"
)
# no network beyond the page: the machine's network is closed, and the dashboard must not need it
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# the payment service is down for the first seconds: an order placed then has its charge fail all five
# attempts (1 + the payment target's 4 retries, 50 times faster than usual) and is dead-lettered
DOWN_SECONDS = 4.0
FAULTS = f"""name: payment-down-at-first
designs: [choreographed]
workload: {{orders: 1}}
faults:
  - kind: error
    target: payment.charge
    mode: transient
    when: {{window: [0, {DOWN_SECONDS}]}}
"""

pytestmark = pytest.mark.slow
expect: Any = None  # playwright's, once the browser fixture found it installed


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM} (Debian package chromium; .ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    global expect
    expect = sync_api.expect
    expect.set_options(timeout=30_000)  # as the pages' own default: a loaded CI machine is slow to redeliver
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp("browser")
    faults = data_dir / "faults.yaml"
    faults.write_text(FAULTS, encoding="utf-8")
    # a report to show: the standard workload only (tests/cli/test_demo.py covers one with scenarios)
    report = subprocess.run(
        [
            sys.executable,
            "-m",
            "stepdance.cli",
            "report",
            "--out",
            str(data_dir / "data" / "report"),
            "--scenarios",
            "none",
            "--orders",
            "20",
        ],
        env={**os.environ, "STEPDANCE_DATA_DIR": str(data_dir / "report-runs")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert report.returncode == 0, report.stderr
    with serving(data_dir / "data", "--faults", str(faults), env={"STEPDANCE_RETRY_SCALE": "0.02"}) as served:
        served.armed = time.monotonic()  # it arms the faults just before it says it listens
        yield served


@pytest.fixture(scope="module")
def shots() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture
def page(browser: Any, server: Served, shots: Path) -> Iterator[Any]:
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    opened.on("requestfailed", lambda r: None if _left(r) else problems.append(f"{r.url}: {r.failure}"))
    opened.set_default_timeout(30_000)
    yield opened
    context.close()
    assert problems == [], problems  # no script error, no request refused (nothing fetched from elsewhere)


def _left(request: Any) -> bool:
    """A live stream the browser closed by leaving its page: not a failure."""
    return "/live" in request.url and "ERR_ABORTED" in str(request.failure)


def snap(page: Any, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def test_a_failed_order_is_followed_to_its_dead_letter_redriven_and_completes(
    page: Any, server: Served, shots: Path
) -> None:
    server.client("events").put_events(
        Entries=[
            {
                "Source": "orders",
                "DetailType": "OrderCreated",
                "Detail": json.dumps({"orderId": "web-1"}),
                "EventBusName": "default",
            }
        ]
    )
    eventually(lambda: server.orders_record("web-1"))  # the bus hands the event to the orders service
    page.goto("/dashboard/orders")
    page.get_by_role("link", name="web-1").click()
    # the order's page is live: its dead letter appears once the payment target gives up, without a reload
    page.locator("#order-letters").wait_for()
    assert page.locator("#order-status").inner_text() == "pending"
    snap(page, shots, "1-order-dead-lettered")
    page.locator("#order-letters a").first.click()
    page.locator("#event").wait_for()
    assert (
        "ServiceUnavailable" in page.content() and '"orderId": "web-1"' in page.locator("#event").inner_text()
    )
    snap(page, shots, "2-dead-letter")
    page.get_by_role("button", name="Redrive").click()
    assert "Send 1 dead letter(s) back" in page.locator("#question").inner_text()
    snap(page, shots, "3-confirm")
    # the operator redrives once the cause is fixed: here, once the payment service's outage is over
    page.wait_for_timeout(max(0.0, server.armed + DOWN_SECONDS + 0.5 - time.monotonic()) * 1000)
    page.locator("#confirm").click()
    assert "1 sent back" in page.locator("#result").inner_text()
    snap(page, shots, "4-redriven")
    page.get_by_role("link", name="order web-1").click()
    expect(page.locator("#order-status")).to_have_text("completed")
    assert page.locator("#order-letters").count() == 0
    snap(page, shots, "5-order-completed")


def test_every_page_opens_and_a_running_execution_updates_live(
    page: Any, server: Served, shots: Path
) -> None:
    sfn = server.client("stepfunctions")
    waits = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 2, "Next": "P"}, "P": {"Type": "Pass", "End": True}},
    }
    machine = sfn.create_state_machine(
        name="waits", definition=json.dumps(waits), roleArn="arn:aws:iam::123456789012:role/t"
    )
    sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="live-one")
    page.goto("/dashboard/executions?machine=waits")
    snap(page, shots, "6-executions")
    page.get_by_role("link", name="live-one").click()
    assert page.locator("#execution-status").inner_text() == "RUNNING"
    expect(page.locator("#execution-status")).to_have_text("SUCCEEDED")  # the page was not reloaded
    assert page.locator("#states tr.succeeded").count() == 2
    snap(page, shots, "7-execution-live")
    for name, path in (
        ("8-dead-letters", "/dashboard/dlq"),
        ("9-scenarios", "/dashboard/scenarios"),
        ("10-report", "/dashboard/report"),
        ("11-orders", "/dashboard/orders"),
    ):
        assert page.goto(path).ok, path
        snap(page, shots, name)
    page.goto("/dashboard/report")
    assert "Recommendation" in page.content() or "recommendation" in page.content()


def test_the_demo_workload_is_started_after_confirming(page: Any, shots: Path) -> None:
    page.goto("/dashboard/demo")
    page.fill("input[name=orders]", "5")
    page.get_by_role("button", name="Start").click()
    page.locator("#confirm").click()
    assert "Placing 5 orders" in page.locator("#result").inner_text()
    page.get_by_role("link", name="follow it").click()
    expect(page.locator("#demo-state")).to_contain_text("Finished", timeout=60_000)
    assert page.locator("#demo-results tr").count() == 5  # the header and a row per design
    snap(page, shots, "12-demo")
