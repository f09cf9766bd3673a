"""Delivery end to end on a real transport: rules route events to handler targets, failures are retried
with back-off then dead-lettered, dead letters are redriven, poison messages do not stop a consumer.
The main cases run on every transport (the shared servers' tests skip, naming the server, when it is down)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from stepdance.bus import Bus, Client, DeliveryContext, TargetFailure, handler_arn, names
from stepdance.bus.transports import Message
from tests.bus.core_fixtures import BACKENDS, SETTINGS, Clock, entry, eventually

on_every_transport = pytest.mark.parametrize("transport_kind", BACKENDS, indirect=True)


async def subscribe(
    events: Client, bus_name: str, rule: str, pattern: dict[str, Any], target_id: str = "t", **target: Any
) -> None:
    await events.put_rule(Name=rule, EventBusName=bus_name, EventPattern=json.dumps(pattern))
    arn = handler_arn(SETTINGS, f"{rule}-{target_id}")
    await events.put_targets(
        Rule=rule, EventBusName=bus_name, Targets=[{"Id": target_id, "Arn": arn, **target}]
    )


async def dead_letters(events: Client, **filters: Any) -> list[dict[str, Any]]:
    return list((await events.list_dead_letters(**filters))["DeadLetters"])


@on_every_transport
async def test_a_rule_delivers_what_its_pattern_matches(bus: Bus, events: Client, bus_name: str) -> None:
    got: asyncio.Queue[tuple[Any, DeliveryContext]] = asyncio.Queue()
    bus.register("big-t", lambda event, context: got.put_nowait((event, context)))
    await subscribe(events, bus_name, "big", {"detail": {"total": [{"numeric": [">", 100]}]}})
    answer = await events.put_events(
        Entries=[
            entry(bus_name, {"total": 5}),
            entry(bus_name, {"total": 500}),
            entry(bus_name, {"total": 50}),
        ]
    )
    event, context = await asyncio.wait_for(got.get(), 10)
    assert event["id"] == answer["Entries"][1]["EventId"] and event["detail"] == {"total": 500}
    assert context.rule == "big" and context.attempt == 1
    assert context.headers["correlation-id"] == event["id"]
    await events.put_events(Entries=[entry(bus_name, {"total": 101})])
    event, _ = await asyncio.wait_for(got.get(), 10)
    assert event["detail"] == {"total": 101}  # the small ones never came
    assert got.empty()


async def test_every_target_gets_the_event_and_a_disabled_rule_none(
    bus: Bus, events: Client, bus_name: str
) -> None:
    got: asyncio.Queue[str] = asyncio.Queue()
    for name in ("a-t", "b-t", "off-t"):
        bus.register(name, lambda event, name=name: got.put_nowait(name))
    for rule in ("a", "b", "off"):
        await subscribe(events, bus_name, rule, {"source": ["shop"]})
    await events.disable_rule(Name="off", EventBusName=bus_name)
    await events.put_events(Entries=[entry(bus_name)])
    received = {await asyncio.wait_for(got.get(), 10), await asyncio.wait_for(got.get(), 10)}
    assert received == {"a-t", "b-t"}
    await events.put_events(Entries=[entry(bus_name, Source="other")])
    await events.put_events(Entries=[entry(bus_name)])
    assert {await asyncio.wait_for(got.get(), 10), await asyncio.wait_for(got.get(), 10)} == {"a-t", "b-t"}
    assert got.empty()


async def test_the_target_gets_the_transformed_input(bus: Bus, events: Client, bus_name: str) -> None:
    got: asyncio.Queue[Any] = asyncio.Queue()
    bus.register("paid-t", got.put_nowait)
    transformer = {
        "InputPathsMap": {"order": "$.detail.order", "total": "$.detail.total"},
        "InputTemplate": '{"order": <order>, "amount": <total>, "rule": <aws.events.rule-name>}',
    }
    await subscribe(events, bus_name, "paid", {"source": ["shop"]}, InputTransformer=transformer)
    await events.put_events(Entries=[entry(bus_name, {"order": "o-1", "total": 12.5})])
    assert await asyncio.wait_for(got.get(), 10) == {"order": "o-1", "amount": 12.5, "rule": "paid"}


class Recorder:
    """A back-off that records the attempts it was asked about and waits a millisecond."""

    def __init__(self) -> None:
        self.attempts: list[int] = []

    def delay(self, attempt: int) -> float:
        self.attempts.append(attempt)
        return 0.001


@on_every_transport
async def test_failures_are_retried_with_back_off_then_dead_lettered(
    bus: Bus, events: Client, bus_name: str
) -> None:
    calls: list[int] = []

    def failing(event: Any, context: DeliveryContext) -> None:
        calls.append(context.attempt)
        raise RuntimeError("stock service down")

    bus.backoff = Recorder()  # type: ignore[assignment]
    bus.register("r-t", failing)
    await subscribe(events, bus_name, "r", {"source": ["shop"]}, RetryPolicy={"MaximumRetryAttempts": 2})
    answer = await events.put_events(Entries=[entry(bus_name)])
    [letter] = await eventually(lambda: dead_letters(events, EventBusName=bus_name))
    assert calls == [1, 2, 3]
    assert bus.backoff.attempts == [1, 2]  # type: ignore[attr-defined]
    assert letter["EventId"] == answer["Entries"][0]["EventId"]
    assert letter["ErrorCode"] == "RuntimeError" and letter["ErrorMessage"] == "stock service down"
    assert letter["Attempts"] == 3 and letter["ExhaustedRetryCondition"] == "MaximumRetryAttempts"
    full = await events.describe_dead_letter(Id=letter["Id"])
    assert json.loads(full["Event"])["id"] == letter["EventId"]


async def test_a_failure_that_is_not_retriable_goes_to_the_dlq_at_once(
    bus: Bus, events: Client, bus_name: str
) -> None:
    calls: list[int] = []

    def refusing(event: Any) -> None:
        calls.append(1)
        raise TargetFailure("OrderUnknown", "no order o-9", retryable=False)

    bus.register("r-t", refusing)
    await subscribe(events, bus_name, "r", {"source": ["shop"]})
    await events.put_events(Entries=[entry(bus_name)])
    [letter] = await eventually(lambda: dead_letters(events, Rule="r"))
    assert (letter["ErrorCode"], letter["Attempts"], calls) == ("OrderUnknown", 1, [1])
    assert "ExhaustedRetryCondition" not in letter


async def test_an_event_older_than_its_maximum_age_is_dead_lettered(
    bus: Bus, events: Client, bus_name: str, clock: Clock
) -> None:
    def failing_slowly(event: Any) -> None:
        clock.now += 40  # each attempt takes 40 s of the event's 60 s
        raise RuntimeError("timeout")

    bus.register("r-t", failing_slowly)
    policy = {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 60}
    await subscribe(events, bus_name, "r", {"source": ["shop"]}, RetryPolicy=policy)
    await events.put_events(Entries=[entry(bus_name)])
    [letter] = await eventually(lambda: dead_letters(events, Rule="r"))
    assert letter["ExhaustedRetryCondition"] == "MaximumEventAgeInSeconds"
    assert letter["Attempts"] == 2


async def test_a_redriven_dead_letter_reaches_its_target_only(
    bus: Bus, events: Client, bus_name: str
) -> None:
    healthy = False
    got: asyncio.Queue[str] = asyncio.Queue()

    def flaky(event: Any) -> None:
        if not healthy:
            raise RuntimeError("down")
        got.put_nowait(event["id"])

    others: list[str] = []
    bus.register("r-t", flaky)
    bus.register("other-t", lambda event: others.append(event["id"]))
    await subscribe(events, bus_name, "r", {"source": ["shop"]}, RetryPolicy={"MaximumRetryAttempts": 0})
    await subscribe(events, bus_name, "other", {"source": ["shop"]})
    answer = await events.put_events(Entries=[entry(bus_name)])
    event_id = answer["Entries"][0]["EventId"]
    [letter] = await eventually(lambda: dead_letters(events, Rule="r"))
    await eventually(lambda: others == [event_id])
    healthy = True
    redriven = await events.redrive_dead_letters(Ids=[letter["Id"]])
    assert redriven == {"RedrivenCount": 1, "FailedEntries": []}
    assert await asyncio.wait_for(got.get(), 10) == event_id
    assert await dead_letters(events, Rule="r") == []
    await events.put_events(Entries=[entry(bus_name, Source="marker")])  # flushes the other target's group
    await asyncio.sleep(0.2)
    assert others == [event_id]  # the redrive was addressed to the failed target alone


async def test_redrive_skips_a_letter_whose_target_is_gone(bus: Bus, events: Client, bus_name: str) -> None:
    bus.register("r-t", lambda event: (_ for _ in ()).throw(RuntimeError("down")))
    await subscribe(events, bus_name, "r", {"source": ["shop"]}, RetryPolicy={"MaximumRetryAttempts": 0})
    await events.put_events(Entries=[entry(bus_name)])
    [letter] = await eventually(lambda: dead_letters(events, Rule="r"))
    await events.remove_targets(Rule="r", EventBusName=bus_name, Ids=["t"])
    redriven = await events.redrive_dead_letters(Rule="r")
    assert redriven["RedrivenCount"] == 0 and redriven["FailedEntries"][0]["Id"] == letter["Id"]
    assert len(await dead_letters(events, Rule="r")) == 1


@on_every_transport
async def test_a_poison_message_is_dead_lettered_and_the_next_one_delivered(
    bus: Bus, events: Client, bus_name: str
) -> None:
    got: asyncio.Queue[Any] = asyncio.Queue()
    bus.register("r-t", got.put_nowait)
    await subscribe(events, bus_name, "r", {"source": ["shop"]})
    poison = [Message(id="poison-1", body=b"{not json"), Message(id="poison-2", body=b'{"id": "x"}')]
    await bus.transport.publish(names.topic(bus_name), poison)
    await events.put_events(Entries=[entry(bus_name, {"n": 1})])
    assert (await asyncio.wait_for(got.get(), 10))["detail"] == {"n": 1}
    letters = await eventually(lambda: _at_least(2, dead_letters(events, Rule="r")))
    reasons = sorted(x["ErrorMessage"] for x in letters)
    assert all(x["ErrorCode"] == "MalformedEvent" for x in letters)
    assert reasons[0].startswith("the event has no version") and reasons[1].startswith(
        "the message is not JSON"
    )
    assert await events.describe_dead_letter(Id=letters[0]["Id"])


async def _at_least(count: int, pending: Any) -> list[dict[str, Any]] | None:
    found = await pending
    return found if len(found) >= count else None


async def test_a_removed_target_stops_receiving(bus: Bus, events: Client, bus_name: str) -> None:
    got: asyncio.Queue[Any] = asyncio.Queue()
    bus.register("r-t", got.put_nowait)
    await subscribe(events, bus_name, "r", {"source": ["shop"]})
    await events.put_events(Entries=[entry(bus_name)])
    await asyncio.wait_for(got.get(), 10)
    await events.remove_targets(Rule="r", EventBusName=bus_name, Ids=["t"])
    await eventually(lambda: ("target", bus_name, "r", "t") not in bus._tasks)
    await events.put_events(Entries=[entry(bus_name)])
    await asyncio.sleep(0.2)
    assert got.empty()


@on_every_transport
async def test_a_batch_handler_retries_only_the_event_that_failed(
    bus: Bus, events: Client, bus_name: str
) -> None:
    seen: list[tuple[str, int]] = []

    def handle(items: list[tuple[Any, DeliveryContext]]) -> list[Exception | None]:
        seen.extend((event["detail"]["n"], context.attempt) for event, context in items)
        return [
            RuntimeError("later") if e["detail"]["n"] == "b" and c.attempt == 1 else None for e, c in items
        ]

    bus.register_batch("r-t", handle)
    await subscribe(events, bus_name, "r", {"source": ["shop"]})
    await events.put_events(Entries=[entry(bus_name, {"n": n}) for n in "abc"])
    await eventually(lambda: ("b", 2) in seen)
    assert sorted(seen) == [("a", 1), ("b", 1), ("b", 2), ("c", 1)]
