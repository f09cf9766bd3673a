"""What the exported functions run, on SQLite files, publishing with boto3 to ``stepdance serve`` in AWS's place."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stepdance.export import lambda_runtime, write
from stepdance.export.lambda_runtime import Runtime, TaskError
from stepdance.order.designs import choreography_subscriptions as chor
from stepdance.order.designs import hybrid
from stepdance.order.designs.tasks import CHARGE
from stepdance.order.model import DECLINED_CARD
from tests.api.served import Served, serving
from tests.order.helpers import order


class RecordingEvents:
    """A boto3 ``events`` client pointed at a real ``stepdance serve`` (AWS's stand-in here), keeping the
    entries it put."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.entries: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        answer: dict[str, Any] = self.client.put_events(Entries=Entries)
        assert answer["FailedEntryCount"] == 0 and all(e.get("EventId") for e in answer["Entries"])
        self.entries += Entries
        return answer


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("eventbridge")) as server:
        yield server


@pytest.fixture
def events(served: Served) -> RecordingEvents:
    return RecordingEvents(served.client("events"))


@pytest.fixture
def runtime(tmp_path: Path, events: RecordingEvents) -> Iterator[Runtime]:
    found = Runtime(
        f"sqlite:///{tmp_path}",
        tmp_path,
        event_bus=chor.DEFAULT_EVENT_BUS,
        channel=f"file://{tmp_path}/messages.jsonl",
        events=events,
    )
    yield found
    found.close()


def envelope(event_id: str, source: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    """An event as EventBridge hands it to a Lambda target."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": "2024-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def test_a_task_returns_the_service_result(runtime: Runtime) -> None:
    charged = runtime.run_task(CHARGE, order("o-1").to_json())
    assert (charged["orderId"], charged["status"]) == ("o-1", "charged")


def test_a_task_failure_is_raised_under_its_asl_error_name(runtime: Runtime) -> None:
    with pytest.raises(TaskError) as raised:
        runtime.run_task(CHARGE, order("o-1", card=DECLINED_CARD).to_json())
    assert type(raised.value).__name__ == "PaymentDeclined"  # what Retry and Catch match


def test_a_reaction_publishes_its_facts_once(runtime: Runtime, events: RecordingEvents) -> None:
    placed = envelope("ev-1", chor.ORDERS_SOURCE, chor.ORDER_PLACED, {"order": order("o-1").to_json()})
    runtime.react("payment", placed)
    runtime.react("payment", placed)  # EventBridge delivers at least once
    ((entry),) = events.entries
    assert (entry["Source"], entry["DetailType"]) == (chor.PAYMENT_SOURCE, chor.PAYMENT_CHARGED)
    assert entry["EventBusName"] == chor.DEFAULT_EVENT_BUS
    assert json.loads(entry["Detail"])["charge"]["orderId"] == "o-1"


def test_placing_an_order_publishes_order_placed(runtime: Runtime, events: RecordingEvents) -> None:
    record = runtime.place_order(order("o-1").to_json())
    assert record is not None and record["status"] == "pending"
    assert [e["DetailType"] for e in events.entries] == [chor.ORDER_PLACED]


def test_the_hybrid_notification_is_sent_once_per_event(runtime: Runtime, tmp_path: Path) -> None:
    detail = {"orderId": "o-1", "email": "ann@example.com", "status": "completed"}
    completed = envelope("ev-1", hybrid.SOURCE, hybrid.COMPLETED, detail)
    runtime.notify(completed)
    runtime.notify(completed)
    sent = [json.loads(line) for line in (tmp_path / "messages.jsonl").read_text().splitlines()]
    assert [(m["orderId"], m["kind"]) for m in sent] == [("o-1", "confirmed")]


def test_the_generated_handler_module_runs_the_task(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written = write("orchestrated", tmp_path / "aws")
    monkeypatch.setenv(lambda_runtime.ENV_SERVICES, f"sqlite:///{tmp_path / 'db'}")
    monkeypatch.setenv(lambda_runtime.ENV_DATA_DIR, str(tmp_path / "data"))
    path = written.template.parent / "functions" / "payment_charge.py"
    spec = importlib.util.spec_from_file_location("payment_charge", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        assert module.handler(order("o-1").to_json(), None)["status"] == "charged"
    finally:
        lambda_runtime.reset()


def test_without_a_shared_database_the_runtime_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="STEPDANCE_SERVICES"):
        Runtime.from_env({"STEPDANCE_DATA_DIR": str(tmp_path)})
