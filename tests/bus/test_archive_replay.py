"""Archives keep a bus's events (matching their pattern, for their retention); a replay re-delivers a time
window of them to the bus's rules, or to chosen rules, with ``replay-name`` set."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from stepdance.bus import Bus, Client, archiver, handler_arn
from stepdance.bus.errors import ResourceAlreadyExistsException, ValidationException
from tests.bus.core_fixtures import SETTINGS, Clock, entry, eventually


async def archive(events: Client, bus_name: str, name: str = "all", **fields: Any) -> str:
    source = (await events.describe_event_bus(Name=bus_name))["Arn"]
    created = await events.create_archive(ArchiveName=name, EventSourceArn=source, **fields)
    return str(created["ArchiveArn"])


async def archived(events: Client, name: str, count: int) -> dict[str, Any] | None:
    described = await events.describe_archive(ArchiveName=name)
    return described if described["EventCount"] >= count else None


async def test_an_archive_keeps_the_events_its_pattern_matches(
    events: Client, bus_name: str, clock: Clock
) -> None:
    await archive(
        events, bus_name, "big", EventPattern=json.dumps({"detail": {"big": [True]}}), RetentionDays=7
    )
    await events.put_events(Entries=[entry(bus_name, {"big": True}), entry(bus_name, {"big": False})])
    await events.put_events(Entries=[entry(bus_name, {"big": True})])
    described = await eventually(lambda: archived(events, "big", 2))
    assert described["EventCount"] == 2 and described["SizeBytes"] > 0
    assert described["RetentionDays"] == 7 and described["State"] == "ENABLED"
    await asyncio.sleep(0.2)
    assert (await events.describe_archive(ArchiveName="big"))["EventCount"] == 2
    with pytest.raises(ResourceAlreadyExistsException):
        await archive(events, bus_name, "big")


async def test_retention_drops_old_events(bus: Bus, events: Client, bus_name: str, clock: Clock) -> None:
    await archive(events, bus_name, "week", RetentionDays=7)
    await archive(events, bus_name, "forever", RetentionDays=0)
    await events.put_events(Entries=[entry(bus_name)])
    await eventually(lambda: archived(events, "week", 1))
    await eventually(lambda: archived(events, "forever", 1))
    clock.now += 8 * 86_400
    assert await archiver.purge(bus) == 1
    assert (await events.describe_archive(ArchiveName="week"))["EventCount"] == 0
    assert (await events.describe_archive(ArchiveName="forever"))["EventCount"] == 1


async def test_a_replay_redelivers_a_window_with_its_name(
    bus: Bus, events: Client, bus_name: str, clock: Clock
) -> None:
    got: dict[str, asyncio.Queue[dict[str, Any]]] = {"a": asyncio.Queue(), "b": asyncio.Queue()}
    for rule in ("a", "b"):
        bus.register(rule, got[rule].put_nowait)
        await events.put_rule(Name=rule, EventBusName=bus_name, EventPattern=json.dumps({"source": ["shop"]}))
        target = {"Id": "t", "Arn": handler_arn(SETTINGS, rule)}
        await events.put_targets(Rule=rule, EventBusName=bus_name, Targets=[target])
    archive_arn = await archive(events, bus_name)
    start = clock.now
    for n in range(3):
        await events.put_events(Entries=[entry(bus_name, {"n": n})])
        clock.now += 10
    await eventually(lambda: archived(events, "all", 3))
    for rule in ("a", "b"):
        assert [(await got[rule].get())["detail"]["n"] for _ in range(3)] == [0, 1, 2]

    rule_a = (await events.describe_rule(Name="a", EventBusName=bus_name))["Arn"]
    destination = {"Arn": (await events.describe_event_bus(Name=bus_name))["Arn"], "FilterArns": [rule_a]}
    started = await events.start_replay(
        ReplayName="again",
        EventSourceArn=archive_arn,
        EventStartTime=start + 5,
        EventEndTime=start + 30,
        Destination=destination,
    )
    assert started["State"] == "STARTING"
    replayed = [await asyncio.wait_for(got["a"].get(), 10) for _ in range(2)]
    assert [e["detail"]["n"] for e in replayed] == [1, 2]
    assert all(e["replay-name"] == "again" for e in replayed)
    done = await eventually(lambda: _finished(events, "again"))
    assert done["State"] == "COMPLETED" and done["Destination"] == destination
    await asyncio.sleep(0.2)
    assert got["b"].empty()  # not among the replay's rules
    assert (await events.describe_archive(ArchiveName="all"))["EventCount"] == 3  # replays are not archived


async def _finished(events: Client, name: str) -> dict[str, Any] | None:
    described = await events.describe_replay(ReplayName=name)
    return described if described["State"] in ("COMPLETED", "FAILED", "CANCELLED") else None


async def test_replay_checks(events: Client, bus_name: str, clock: Clock) -> None:
    archive_arn = await archive(events, bus_name)
    own = {"Arn": (await events.describe_event_bus(Name=bus_name))["Arn"]}
    other = {"Arn": (await events.describe_event_bus())["Arn"]}
    with pytest.raises(ValidationException, match="Cross event bus replay is not permitted"):
        await events.start_replay(
            ReplayName="x", EventSourceArn=archive_arn, EventStartTime=1, EventEndTime=2, Destination=other
        )
    with pytest.raises(ValidationException, match="EventStartTime must be before EventEndTime"):
        await events.start_replay(
            ReplayName="x", EventSourceArn=archive_arn, EventStartTime=2, EventEndTime=1, Destination=own
        )
