"""Targets that receive CloudEvents: both HTTP content modes, filters on CloudEvents attributes, Pub/Sub-style
retries, the bus-wide setting, a handler's view, and the checks PutTargets makes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stepdance.bus import Bus, Catalog, Client
from stepdance.bus.catalog import DeadLetter
from stepdance.bus.cloudevents import CloudEvent, from_http
from stepdance.bus.cloudevents_target import CloudEventsDelivery, ExponentialBackoff
from stepdance.bus.definitions import Target
from stepdance.bus.errors import ValidationException
from stepdance.bus.transports import Transport
from stepdance.settings import Settings
from tests.bus.core_fixtures import Clock, entry, eventually, quick_bus
from tests.bus.test_targets import Endpoint, endpoint, http_rule

__all__ = ["endpoint"]
ORDER = {"orderId": "o-17", "amount": "10.00"}


async def _posted(endpoint: Endpoint, count: int = 1) -> CloudEvent:
    await eventually(lambda: len(endpoint.requests) >= count)
    headers, body = endpoint.requests[count - 1]
    return from_http(headers, body)


async def test_binary_mode_posts_attributes_as_headers_and_the_detail_as_the_body(
    events: Client, bus_name: str, endpoint: Endpoint
) -> None:
    await http_rule(events, bus_name, endpoint.url, CloudEvents={"Mode": "binary"})
    answer = await events.put_events(Entries=[entry(bus_name, ORDER)])
    event_id = answer["Entries"][0]["EventId"]
    cloud = await _posted(endpoint)
    headers, body = endpoint.requests[0]
    assert headers["ce-specversion"] == "1.0" and headers["content-type"] == "application/json"
    assert json.loads(body) == ORDER
    assert (cloud.id, cloud.source, cloud.type, cloud.subject) == (event_id, "shop", "order.placed", "o-17")
    assert cloud.time is not None and cloud.time.endswith("Z")
    assert cloud.extensions["correlationid"] == event_id
    assert cloud.extensions["eventbus"] == bus_name
    assert cloud.extensions["traceparent"].startswith("00-")
    # the W3C header is this delivery's span, a child of the publisher's (the extension)
    assert headers["traceparent"].split("-")[1] == cloud.extensions["traceparent"].split("-")[1]
    assert headers["traceparent"] != cloud.extensions["traceparent"]


async def test_structured_mode_posts_one_cloudevents_document(
    events: Client, bus_name: str, endpoint: Endpoint
) -> None:
    await http_rule(events, bus_name, endpoint.url, CloudEvents={"Mode": "structured"})
    await events.put_events(Entries=[entry(bus_name, ORDER)])
    cloud = await _posted(endpoint)
    headers, body = endpoint.requests[0]
    assert headers["content-type"].startswith("application/cloudevents+json")
    document = json.loads(body)
    assert document["specversion"] == "1.0" and document["data"] == ORDER
    assert document["datacontenttype"] == "application/json"
    assert cloud.data == ORDER and cloud.type == "order.placed"


async def test_the_data_is_what_the_targets_input_settings_make(
    events: Client, bus_name: str, endpoint: Endpoint
) -> None:
    await http_rule(events, bus_name, endpoint.url, InputPath="$.detail.amount", CloudEvents={})
    await events.put_events(Entries=[entry(bus_name, ORDER)])
    cloud = await _posted(endpoint)
    assert cloud.data == "10.00" and cloud.subject == "o-17"


async def test_filters_on_attributes_pick_the_events_a_target_gets(
    events: Client, bus_name: str, endpoint: Endpoint
) -> None:
    filters = [
        {"Attribute": "subject", "Value": "o-1*", "Operator": "match-path-pattern"},
        {"Attribute": "eventBus", "Value": bus_name},  # an extension, named as Eventarc spells them
    ]
    await http_rule(events, bus_name, endpoint.url, CloudEvents={"Filters": filters})
    await events.put_events(
        Entries=[
            entry(bus_name, {"orderId": "x-1"}),
            entry(bus_name, {"nothing": "here"}),
            entry(bus_name, {"orderId": "o-17"}),
        ]
    )
    cloud = await _posted(endpoint)
    assert cloud.subject == "o-17"
    await events.put_events(Entries=[entry(bus_name, {"orderId": "o-18"})])
    assert (await _posted(endpoint, 2)).subject == "o-18"
    assert len(endpoint.requests) == 2  # neither x-1 nor the event without a subject came
    assert (await events.list_dead_letters())["DeadLetters"] == []


async def test_every_failure_is_retried_when_asked_as_a_push_subscription_would(
    events: Client, bus_name: str, endpoint: Endpoint
) -> None:
    endpoint.statuses = [400, 404]
    await http_rule(
        events,
        bus_name,
        endpoint.url,
        CloudEvents={"RetryEveryFailure": True, "Backoff": {"MinimumSeconds": 0, "MaximumSeconds": 0}},
    )
    await events.put_events(Entries=[entry(bus_name, ORDER)])
    assert (await _posted(endpoint, 3)).subject == "o-17"
    assert (await events.list_dead_letters())["DeadLetters"] == []


async def test_without_it_a_4xx_goes_to_the_dead_letter_queue_at_once(
    events: Client, bus_name: str, endpoint: Endpoint
) -> None:
    endpoint.statuses = [400]
    await http_rule(events, bus_name, endpoint.url, CloudEvents={"Mode": "structured"})
    await events.put_events(Entries=[entry(bus_name, ORDER)])
    letters = await eventually(lambda: _letters(events))
    assert letters[0]["ErrorCode"] == "HTTP400" and letters[0]["Attempts"] == 1
    assert len(endpoint.requests) == 1


async def test_attempts_run_out_into_the_dead_letter_queue_and_its_hooks(
    bus: Bus, events: Client, bus_name: str, endpoint: Endpoint
) -> None:
    endpoint.statuses = [500, 500, 500]
    hooked: list[tuple[DeadLetter, Target]] = []

    async def hook(letter: DeadLetter, target: Target) -> None:
        hooked.append((letter, target))

    async def broken(letter: DeadLetter, target: Target) -> None:
        raise RuntimeError("a hook's failure loses nothing")

    bus.dead_letter_hooks.extend([broken, hook])
    await http_rule(
        events,
        bus_name,
        endpoint.url,
        RetryPolicy={"MaximumRetryAttempts": 2},
        CloudEvents={"Backoff": {"MinimumSeconds": 0.001, "MaximumSeconds": 0.002}},
    )
    await events.put_events(Entries=[entry(bus_name, ORDER)])
    letters = await eventually(lambda: _letters(events))
    assert letters[0]["ErrorCode"] == "HTTP500" and letters[0]["Attempts"] == 3
    await eventually(lambda: hooked)
    letter, target = hooked[0]
    assert letter.attempts == 3 and target.cloudevents is not None and target.id == "h"


def test_pub_subs_backoff_doubles_from_the_minimum_to_the_maximum() -> None:
    backoff = ExponentialBackoff(10, 60)
    assert [backoff.delay(n) for n in range(1, 6)] == [10, 20, 40, 60, 60]
    assert ExponentialBackoff(0.5, 600).delay(10_000) == 600


async def test_a_handler_reads_the_event_as_a_cloudevent(events: Client, bus: Bus, bus_name: str) -> None:
    seen: list[CloudEvent] = []
    bus.register("reader", lambda _event, context: seen.append(context.cloudevent()))
    arn = "arn:aws:lambda:us-east-1:123456789012:function:reader"
    await http_rule(events, bus_name, arn)
    answer = await events.put_events(Entries=[entry(bus_name, ORDER)])
    await eventually(lambda: seen)
    assert seen[0].id == answer["Entries"][0]["EventId"] and seen[0].data == ORDER


@pytest.mark.parametrize(
    ("member", "where"),
    [
        ({"Mode": "batched"}, "targets.1.member.cloudEvents.mode"),
        ({"Filters": [{"Attribute": "subject"}]}, "targets.1.member.cloudEvents.filters.1.member.value"),
        ({"Filters": [{"Attribute": "subject", "Value": "a", "Operator": "prefix"}]}, ".operator"),
        ({"Backoff": {"MinimumSeconds": 700}}, "cloudEvents.backoff.minimumSeconds"),
        ({"Backoff": {"MinimumSeconds": 20, "MaximumSeconds": 10}}, "cloudEvents.backoff.maximumSeconds"),
        ({"RetryEveryFailure": "yes"}, "cloudEvents.retryEveryFailure"),
        ({"Colour": "blue"}, "cloudEvents"),
        ("binary", "cloudEvents"),
    ],
)
async def test_a_bad_cloudevents_member_is_refused_naming_the_field_and_nothing_is_stored(
    events: Client, bus_name: str, member: Any, where: str
) -> None:
    await http_rule(events, bus_name, "http://127.0.0.1:9/kept")
    with pytest.raises(ValidationException, match=where.replace(".", r"\.")):
        await events.put_targets(
            Rule="hook",
            EventBusName=bus_name,
            Targets=[{"Id": "h", "Arn": "http://127.0.0.1:9/new", "CloudEvents": member}],
        )
    kept = (await events.list_targets_by_rule(Rule="hook", EventBusName=bus_name))["Targets"]
    assert kept == [{"Id": "h", "Arn": "http://127.0.0.1:9/kept"}]


async def test_only_http_targets_take_the_member(events: Client, bus_name: str) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:reader"
    with pytest.raises(ValidationException, match="http"):
        await http_rule(events, bus_name, arn, CloudEvents={})


async def test_the_bus_wide_setting_makes_every_http_target_receive_cloudevents(
    catalog: Catalog, transport: Transport, clock: Clock, endpoint: Endpoint
) -> None:
    async with quick_bus(catalog, transport, clock, Settings(cloudevents="structured")) as bus:
        events = Client(bus)
        await events.create_event_bus(Name="plain")
        await http_rule(events, "plain", endpoint.url)
        await events.put_events(Entries=[entry("plain", ORDER)])
        cloud = await _posted(endpoint)
    assert endpoint.requests[0][0]["content-type"].startswith("application/cloudevents+json")
    assert cloud.subject == "o-17" and cloud.extensions["eventbus"] == "plain"


def test_the_setting_comes_from_the_environment_and_a_wrong_value_is_named() -> None:
    assert Settings.from_env({"STEPDANCE_CLOUDEVENTS": "Binary"}).cloudevents == "binary"
    assert Settings.from_env({"STEPDANCE_CLOUDEVENTS": "off"}).cloudevents == ""
    assert Settings.from_env({}).to_env().get("STEPDANCE_CLOUDEVENTS") is None
    assert Settings(cloudevents="binary").to_env()["STEPDANCE_CLOUDEVENTS"] == "binary"
    with pytest.raises(ValueError, match="STEPDANCE_CLOUDEVENTS is binary, structured or off, not 'json'"):
        Settings.from_env({"STEPDANCE_CLOUDEVENTS": "json"})


def test_the_member_parses_to_its_defaults() -> None:
    parsed = CloudEventsDelivery.parse({})
    assert parsed == CloudEventsDelivery("binary", (), False, None, None)


async def _letters(events: Client) -> list[dict[str, Any]]:
    return list((await events.list_dead_letters())["DeadLetters"])
