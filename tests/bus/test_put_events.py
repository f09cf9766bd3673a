"""PutEvents: each entry accepted or refused on its own with AWS's codes, the envelope, the size limits."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime

import pytest

from stepdance.bus import Bus, Client
from stepdance.bus.envelope import entry_size
from stepdance.bus.errors import ValidationException
from stepdance.bus.transports import Transport
from tests.bus.core_fixtures import entry


async def test_a_bad_entry_fails_alone_and_the_others_are_accepted(events: Client) -> None:
    answer = await events.put_events(
        Entries=[
            entry(detail={"n": 1}),
            {"DetailType": "x", "Detail": "{}"},
            {"Source": "shop", "Detail": "{}"},
            {"Source": "shop", "DetailType": "x"},
            entry(Detail="[1, 2]"),
            entry(Detail="{not json"),
            entry(EventBusName="nowhere"),
            entry(Source="aws.ec2"),
            entry(detail={"n": 2}),
        ]
    )
    assert answer["FailedEntryCount"] == 7
    results = answer["Entries"]
    assert set(results[0]) == {"EventId"} and set(results[8]) == {"EventId"}
    assert results[1] == {
        "ErrorCode": "InvalidArgument",
        "ErrorMessage": "Parameter Source is not valid. Reason: Source is a required argument.",
    }
    assert (
        results[2]["ErrorMessage"]
        == "Parameter DetailType is not valid. Reason: DetailType is a required argument."
    )
    assert (
        results[3]["ErrorMessage"] == "Parameter Detail is not valid. Reason: Detail is a required argument."
    )
    assert (
        results[4] == results[5] == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    )
    assert results[6] == {
        "ErrorCode": "ResourceNotFoundException",
        "ErrorMessage": "Event bus nowhere does not exist.",
    }
    assert results[7]["ErrorCode"] == "NotAuthorizedForSourceException"


async def test_entry_size_is_counted_as_aws_counts_it() -> None:
    plain = {"Source": "ab", "DetailType": "cd", "Detail": '{"é":1}', "Resources": ["r1", "r2"]}
    assert entry_size(plain) == 2 + 2 + 8 + 4  # "é" is two bytes
    assert entry_size({**plain, "Time": datetime(2024, 1, 1, tzinfo=UTC)}) == 16 + 14


async def test_an_oversized_entry_fails_alone(bus: Bus, events: Client) -> None:
    bus.max_entry_bytes = 1000
    big = entry(detail={"blob": "x" * 1000})
    answer = await events.put_events(Entries=[big, entry()])
    assert answer["FailedEntryCount"] == 1
    assert answer["Entries"][0]["ErrorCode"] == "InvalidArgument"
    assert "over the limit of 1000" in answer["Entries"][0]["ErrorMessage"]
    assert "EventId" in answer["Entries"][1]


async def test_the_limit_is_configurable_up_to_a_mebibyte(bus: Bus, events: Client) -> None:
    detail = {"blob": "x" * 300_000}
    refused = await events.put_events(Entries=[entry(detail=detail)])
    assert refused["FailedEntryCount"] == 1
    bus.max_entry_bytes = 1024 * 1024
    accepted = await events.put_events(Entries=[entry(detail=detail)])
    assert accepted["FailedEntryCount"] == 0


async def test_entries_that_together_pass_the_limit_are_refused_as_aws_refuses_the_request(
    bus: Bus, events: Client
) -> None:
    bus.max_entry_bytes = 1000
    half = entry(detail={"blob": "x" * 600})
    with pytest.raises(
        ValidationException, match=re.escape("Total size of the entries in the request is over the limit.")
    ):
        await events.put_events(Entries=[half, half])


@pytest.mark.parametrize("count", [0, 11])
async def test_a_call_takes_one_to_ten_entries(events: Client, count: int) -> None:
    with pytest.raises(ValidationException, match="at 'entries' failed to satisfy constraint"):
        await events.put_events(Entries=[entry()] * count)


async def test_the_envelope_is_eventbridge_s(events: Client, transport: Transport, bus_name: str) -> None:
    from stepdance.bus import names

    subscription = await transport.subscribe(names.topic(bus_name), "probe")
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    detail = '{"total": 12.50, "items": [1, 2]}'
    answer = await events.put_events(
        Entries=[entry(bus_name, Detail=detail, Time=when, Resources=["arn:aws:shop:order/1"])]
    )
    deliveries = await subscription.fetch(1, 5.0)
    await subscription.close()
    body = deliveries[0].message.body.decode()
    event = json.loads(body)
    assert event == {
        "version": "0",
        "id": answer["Entries"][0]["EventId"],
        "detail-type": "order.placed",
        "source": "shop",
        "account": "123456789012",
        "time": "2024-05-06T07:08:09Z",
        "region": "us-east-1",
        "resources": ["arn:aws:shop:order/1"],
        "detail": {"total": 12.5, "items": [1, 2]},
    }
    assert body.endswith('"detail":{"total": 12.50, "items": [1, 2]}}')  # the Detail text as written
    assert deliveries[0].message.headers["correlation-id"] == event["id"]
    assert deliveries[0].message.headers["traceparent"].startswith("00-")


async def test_an_event_bus_may_be_named_by_its_arn(events: Client, bus_name: str) -> None:
    arn = (await events.describe_event_bus(Name=bus_name))["Arn"]
    answer = await events.put_events(Entries=[entry(arn)])
    assert answer["FailedEntryCount"] == 0


async def test_a_bus_created_by_another_process_is_found_at_once(
    bus: Bus, events: Client, catalog: object
) -> None:
    from stepdance.bus.catalog import BusRecord

    bus.refresh_seconds = 3600.0
    await bus.refresh()
    await asyncio.to_thread(bus.catalog.create_bus, BusRecord("elsewhere", None, 1.0, 1.0))
    answer = await events.put_events(Entries=[entry("elsewhere")])
    assert answer["FailedEntryCount"] == 0
