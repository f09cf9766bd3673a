"""The optimized EventBridge integration (``arn:aws:states:::events:putEvents``) over the real bus."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from stepdance.bus import Bus, handler_arn
from stepdance.bus import Client as EventsClient
from stepdance.engine import Client, Engine
from stepdance.engine.arns import state_machine_of
from stepdance.engine.events import PUT_EVENTS, request_entries
from stepdance.settings import Settings
from stepdance.store import open_store
from tests.bus.core_fixtures import bus, bus_name, catalog, clock, events, settings, transport, transport_kind
from tests.engine.machines import chain, machine, run, task

__all__ = ["bus", "bus_name", "catalog", "clock", "events", "settings", "transport", "transport_kind"]

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:saga:o-1"


@pytest.fixture
async def engine(settings: Settings, events: EventsClient) -> AsyncIterator[Engine]:
    store = open_store("memory://")
    running = Engine(store, settings, events=events)
    await running.start()
    yield running
    await running.stop()
    store.close()


@pytest.fixture
def client(engine: Engine) -> Client:
    return Client(engine)


def publish(bus: str, detail: Any, **fields: Any) -> dict[str, Any]:
    entry = {"Source": "shop", "DetailType": "OrderCompleted", "Detail": detail, "EventBusName": bus}
    return task(PUT_EVENTS, Parameters={"Entries": [{**entry, **fields}]}, ResultPath="$.published")


async def received(bus: Bus, events: EventsClient, bus_name: str) -> asyncio.Queue[dict[str, Any]]:
    """Every event of ``bus_name``, as a rule's handler target gets it."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    bus.register("collect", queue.put_nowait)
    await events.put_rule(Name="all", EventBusName=bus_name, EventPattern='{"source": ["shop"]}')
    target = {"Id": "collect", "Arn": handler_arn(bus.settings, "collect")}
    await events.put_targets(Rule="all", EventBusName=bus_name, Targets=[target])
    return queue


async def test_a_detail_object_is_sent_as_json_and_the_result_is_the_put_events_response(
    bus: Bus, events: EventsClient, bus_name: str, client: Client, engine: Engine
) -> None:
    queue = await received(bus, events, bus_name)
    definition = chain(("Publish", publish(bus_name, {"orderId.$": "$.orderId", "total": 12.50})))
    described = await run(client, engine, await machine(client, definition), {"orderId": "o-1"})

    assert described["status"] == "SUCCEEDED"
    result = json.loads(described["output"])["published"]
    assert result["FailedEntryCount"] == 0
    (entry,) = result["Entries"]
    event = await asyncio.wait_for(queue.get(), 10)
    assert event["id"] == entry["EventId"]
    assert event["detail"] == {"orderId": "o-1", "total": 12.5}
    assert event["detail-type"] == "OrderCompleted"
    arn = described["executionArn"]
    assert event["resources"] == [arn, state_machine_of(arn)]


async def test_a_detail_string_is_sent_as_written_and_resources_are_kept_before_the_arns() -> None:
    payload = {"Entries": [{"Source": "s", "DetailType": "d", "Detail": '{"a": 1}', "Resources": ["r"]}]}
    (entry,) = request_entries(payload, EXECUTION)
    assert entry["Detail"] == '{"a": 1}'
    assert entry["Resources"] == ["r", EXECUTION, "arn:aws:states:us-east-1:123456789012:stateMachine:saga"]


async def test_a_failed_entry_fails_the_task_with_eventbridge_failed_entry(
    client: Client, engine: Engine
) -> None:
    caught = {"ErrorEquals": ["EventBridge.FailedEntry"], "ResultPath": "$.error", "Next": "Gave up"}
    definition = chain(
        ("Publish", {**publish("no-such-bus", {"a": 1}), "Catch": [caught]}),
        ("Gave up", {"Type": "Pass"}),
    )
    described = await run(client, engine, await machine(client, definition))

    error = json.loads(described["output"])["error"]
    assert error["Error"] == "EventBridge.FailedEntry"
    response = json.loads(error["Cause"])
    assert response["FailedEntryCount"] == 1
    assert response["Entries"] == [
        {"ErrorCode": "ResourceNotFoundException", "ErrorMessage": "Event bus no-such-bus does not exist."}
    ]


async def test_a_refused_call_fails_the_task_with_the_client_error_prefixed(
    client: Client, engine: Engine, bus_name: str
) -> None:
    entry = {"Source": "shop", "DetailType": "d", "Detail": {}, "EventBusName": bus_name}
    definition = chain(("Publish", task(PUT_EVENTS, Parameters={"Entries": [entry] * 11})))
    described = await run(client, engine, await machine(client, definition))

    assert described["status"] == "FAILED"
    assert described["error"] == "EventBridge.ValidationException"
    assert "less than or equal to 10" in described["cause"]


async def test_parameters_without_entries_fail_the_task(client: Client, engine: Engine) -> None:
    definition = chain(("Publish", task(PUT_EVENTS, Parameters={"Entry": []})))
    described = await run(client, engine, await machine(client, definition))

    assert (described["status"], described["error"]) == ("FAILED", "EventBridge.ValidationException")


async def test_without_an_events_client_the_resource_has_no_handler() -> None:
    store = open_store("memory://")
    async with Engine(store, Settings()) as engine:
        client = Client(engine)
        definition = chain(("Publish", publish("default", {})))
        described = await run(client, engine, await machine(client, definition))
    store.close()
    assert (described["status"], described["error"]) == ("FAILED", "States.TaskFailed")
    assert PUT_EVENTS in described["cause"]
