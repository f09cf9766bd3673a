"""Eventarc triggers on the bus: CloudEvents delivered to a real HTTP receiver in both content modes, filters,
Pub/Sub-style retries, dead letters in the bus's queue and on a Pub/Sub topic read with Google's client, and
the trigger kept in the catalog."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from stepdance.bus import Bus, Client
from stepdance.bus.catalog import Catalog
from stepdance.bus.cloudevents import CloudEvent, from_http
from stepdance.bus.transports import Transport
from stepdance.gcp.eventarc import TriggerError, parse_trigger
from stepdance.gcp.eventarc_triggers import (
    TriggerExists,
    TriggerNotFound,
    Triggers,
    pubsub_message,
    rule_name,
    rule_pattern,
)
from tests.bus.core_fixtures import (
    bus,
    bus_name,
    catalog,
    clean_shared_servers,
    clock,
    entry,
    events,
    eventually,
    settings,
    transport,
    transport_kind,
)
from tests.bus.test_targets import Endpoint, endpoint
from tests.bus.transports.backends import CORE_BACKENDS

__all__ = [
    "bus",
    "bus_name",
    "catalog",
    "clean_shared_servers",
    "clock",
    "endpoint",
    "events",
    "settings",
    "transport",
    "transport_kind",
]
pytestmark = pytest.mark.timeout(60)
# delivery is the bus's: the same behaviour on every transport it runs on
every_transport = pytest.mark.parametrize("transport_kind", CORE_BACKENDS, indirect=True)
FAST = {"maxAttempts": 3, "minBackoff": "0s", "maxBackoff": "0.01s"}


def trigger(name: str, url: str, bus: str, *filters: tuple[str, str], **fields: Any) -> dict[str, Any]:
    made: dict[str, Any] = {
        "name": f"projects/shop/locations/us-central1/triggers/{name}",
        "eventFilters": [{"attribute": "type", "value": "order.placed"}]
        + [{"attribute": a, "value": v} for a, v in filters],
        "destination": {"httpEndpoint": {"uri": url}},
        "channel": f"projects/shop/locations/us-central1/channels/{bus}",
        "retryPolicy": FAST,
    }
    made.update(fields)
    return made


@pytest.fixture
def triggers(bus: Bus) -> Triggers:
    return Triggers(bus)


async def _received(endpoint: Endpoint, count: int = 1) -> list[CloudEvent]:
    await eventually(lambda: len(endpoint.requests) >= count)
    return [from_http(headers, body) for headers, body in endpoint.requests]


@every_transport
async def test_a_trigger_delivers_matching_events_as_binary_cloudevents(
    triggers: Triggers, events: Client, bus_name: str, endpoint: Endpoint
) -> None:
    await triggers.create(trigger("ship", endpoint.url, bus_name, ("source", "shop")))
    answer = await events.put_events(
        Entries=[
            entry(bus_name, {"orderId": "o-1"}, DetailType="order.cancelled"),  # another type
            entry(bus_name, {"orderId": "o-2"}, Source="warehouse"),  # another source
            entry(bus_name, {"orderId": "o-3"}),
        ]
    )
    (cloud,) = await _received(endpoint)
    headers, body = endpoint.requests[0]
    assert headers["ce-id"] == answer["Entries"][2]["EventId"] == cloud.id
    assert headers["ce-type"] == "order.placed" and headers["ce-subject"] == "o-3"
    assert json.loads(body) == {"orderId": "o-3"}
    assert cloud.extensions["eventbus"] == bus_name and cloud.extensions["correlationid"] == cloud.id


@every_transport
async def test_structured_mode_and_path_patterns_on_the_subject(
    triggers: Triggers, events: Client, bus_name: str, endpoint: Endpoint
) -> None:
    made = trigger("audit", endpoint.url, bus_name, contentMode="structured")
    made["eventFilters"].append({"attribute": "subject", "value": "eu-*", "operator": "match-path-pattern"})
    await triggers.create(made)
    await events.put_events(
        Entries=[entry(bus_name, {"orderId": "us-1"}), entry(bus_name, {"order": {"orderId": "eu-2"}})]
    )
    (cloud,) = await _received(endpoint)
    assert endpoint.requests[0][0]["content-type"].startswith("application/cloudevents+json")
    assert cloud.subject == "eu-2" and cloud.data == {"order": {"orderId": "eu-2"}}


@every_transport
async def test_every_failed_answer_is_retried_until_the_receiver_takes_it(
    triggers: Triggers, events: Client, bus_name: str, endpoint: Endpoint
) -> None:
    endpoint.statuses = [400, 503]
    await triggers.create(trigger("ship", endpoint.url, bus_name))
    await events.put_events(Entries=[entry(bus_name, {"orderId": "o-1"})])
    received = await _received(endpoint, 3)
    assert {c.id for c in received} == {received[0].id}
    assert (await events.list_dead_letters())["DeadLetters"] == []


@every_transport
async def test_after_max_attempts_the_event_is_a_dead_letter_and_a_redrive_delivers_it(
    triggers: Triggers, events: Client, bus_name: str, endpoint: Endpoint
) -> None:
    endpoint.statuses = [500] * 10
    await triggers.create(trigger("ship", endpoint.url, bus_name))
    await events.put_events(Entries=[entry(bus_name, {"orderId": "o-1"})])
    letters = await eventually(lambda: _letters(events))
    assert letters[0]["Attempts"] == 3 and letters[0]["ErrorCode"] == "HTTP500"
    assert letters[0]["Rule"] == rule_name("ship") and len(endpoint.requests) == 3
    # the receiver is back: a redrive delivers the same CloudEvent, once
    endpoint.statuses = []
    await events.redrive_dead_letters(Ids=[letters[0]["Id"]])
    received = await _received(endpoint, 4)
    assert len({c.id for c in received}) == 1 and received[-1].subject == "o-1"
    assert await _letters(events) == []


@pytest.fixture
async def pubsub(catalog: Catalog, transport: Transport) -> AsyncIterator[str]:
    pytest.importorskip("google.cloud.pubsub_v1", reason="google-cloud-pubsub is not installed")
    from stepdance.gcp.pubsub_grpc import start_pubsub_server

    server = await start_pubsub_server(catalog, transport)
    previous = os.environ.get("PUBSUB_EMULATOR_HOST")
    os.environ["PUBSUB_EMULATOR_HOST"] = f"127.0.0.1:{server.port}"
    try:
        yield f"p{uuid.uuid4().hex[:8]}"
    finally:
        if previous is None:
            os.environ.pop("PUBSUB_EMULATOR_HOST", None)
        else:
            os.environ["PUBSUB_EMULATOR_HOST"] = previous
        await server.stop(0)


@every_transport
async def test_a_dead_letter_is_published_to_the_triggers_pub_sub_topic(
    triggers: Triggers, events: Client, bus_name: str, endpoint: Endpoint, pubsub: str
) -> None:
    from google.cloud import pubsub_v1

    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    topic, sub = f"projects/{pubsub}/topics/undelivered", f"projects/{pubsub}/subscriptions/ops"

    def prepare() -> None:
        publisher.create_topic(name=topic)
        subscriber.create_subscription(name=sub, topic=topic)

    await asyncio.to_thread(prepare)
    endpoint.statuses = [500] * 10
    await triggers.create(trigger("ship", endpoint.url, bus_name, deadLetterTopic=topic))
    answer = await events.put_events(Entries=[entry(bus_name, {"orderId": "o-9"})])

    def pull() -> Any:
        while True:
            got = subscriber.pull(subscription=sub, max_messages=1, timeout=20).received_messages
            if got:
                subscriber.acknowledge(subscription=sub, ack_ids=[got[0].ack_id])
                return got[0].message

    message = await asyncio.wait_for(asyncio.to_thread(pull), 40)
    attributes = dict(message.attributes)
    assert attributes["ce-id"] == answer["Entries"][0]["EventId"]
    assert attributes["ce-type"] == "order.placed" and attributes["ce-subject"] == "o-9"
    assert attributes["content-type"] == "application/json"
    assert attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == "3"
    assert attributes["stepdance-error"].startswith("HTTP500")
    assert attributes["stepdance-trigger"].endswith("/triggers/ship")
    assert json.loads(message.data) == {"orderId": "o-9"}
    assert len((await events.list_dead_letters())["DeadLetters"]) == 1  # and kept in the bus's queue


async def test_a_dead_letter_topic_must_exist(triggers: Triggers, bus_name: str, events: Client) -> None:
    with pytest.raises(TriggerError, match=r"^/deadLetterTopic: there is no Pub/Sub topic"):
        await triggers.create(trigger("ship", "http://127.0.0.1:9/", bus_name, deadLetterTopic="nowhere"))
    assert await triggers.list_triggers() == []


async def test_triggers_are_kept_listed_replaced_and_deleted(
    triggers: Triggers, bus: Bus, bus_name: str, events: Client
) -> None:
    first = await triggers.create(trigger("ship", "http://127.0.0.1:9/a", bus_name))
    with pytest.raises(TriggerExists):
        await triggers.create(trigger("ship", "http://127.0.0.1:9/b", bus_name))
    assert (await triggers.get("ship")).destination == "http://127.0.0.1:9/a"
    replaced = await triggers.create(trigger("ship", "http://127.0.0.1:9/b", bus_name), replace=True)
    await triggers.create(trigger("bill", "http://127.0.0.1:9/c", "default"))
    # another process's view: a new Triggers over the same catalog reads them back as they were made
    again = Triggers(bus)
    assert [t.id for t in await again.list_triggers()] == ["bill", "ship"]
    assert await again.get(first.name) == replaced
    rules = (await events.list_rules(EventBusName=bus_name))["Rules"]
    assert [r["Name"] for r in rules] == ["eventarc-ship"]
    assert json.loads(rules[0]["EventPattern"]) == {"detail-type": ["order.placed"]}
    assert (await again.delete("ship")).id == "ship"
    with pytest.raises(TriggerNotFound):
        await again.get("ship")
    assert (await events.list_rules(EventBusName=bus_name))["Rules"] == []
    assert [t.id for t in await again.list_triggers()] == ["bill"]


async def test_apply_checks_every_trigger_before_it_creates_any(triggers: Triggers, bus_name: str) -> None:
    good = trigger("ship", "http://127.0.0.1:9/a", bus_name)
    with pytest.raises(TriggerError, match=r"^/1/channel: there is no event bus 'nowhere'"):
        await triggers.apply([good, trigger("bill", "http://127.0.0.1:9/b", "nowhere")])
    with pytest.raises(TriggerError, match=r"^/1/name: trigger 'ship' is also at /0"):
        await triggers.apply([good, good])
    with pytest.raises(TriggerError, match=r"^/0/eventFilters: a filter on 'type' is required"):
        await triggers.apply([{**good, "eventFilters": []}])
    assert await triggers.list_triggers() == []
    assert [t.id for t in await triggers.apply([good])] == ["ship"]


def test_long_trigger_ids_get_rule_names_that_fit_and_differ() -> None:
    long = "a" * 63
    assert len(rule_name(long)) == 64 and rule_name(long) != rule_name("a" * 62 + "b")
    assert rule_name("ship") == "eventarc-ship"


def test_the_rules_pattern_holds_the_exact_type_and_source() -> None:
    made = trigger("x", "http://h/", "b", ("source", "shop"), ("subject", "o-1"))
    assert json.loads(rule_pattern(parse_trigger(made))) == {
        "detail-type": ["order.placed"],
        "source": ["shop"],
    }


def test_pub_sub_binding_puts_attributes_in_ce_attributes() -> None:
    cloud = CloudEvent(
        id="e-1",
        source="shop",
        type="t",
        datacontenttype="application/json",
        data={"a": 1},
        extensions={"correlationid": "c-1"},
    )
    message = pubsub_message(cloud, {"x": "é" * 1000})
    assert message.attributes["ce-id"] == "e-1" and message.attributes["ce-correlationid"] == "c-1"
    assert "ce-datacontenttype" not in message.attributes
    assert message.attributes["content-type"] == "application/json"
    assert len(message.attributes["x"].encode()) <= 1024
    assert json.loads(message.data) == {"a": 1}


async def _letters(events: Client) -> list[dict[str, Any]]:
    return list((await events.list_dead_letters())["DeadLetters"])
