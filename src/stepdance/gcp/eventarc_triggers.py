"""Eventarc triggers running on the bus.

A trigger is a rule on its channel's event bus (the default bus without one) and one HTTP target whose
``CloudEvents`` member (:mod:`stepdance.bus.cloudevents_target`) makes the bus deliver CloudEvents:

- the rule's pattern is the trigger's ``type`` filter (``detail-type``), with its ``source`` filter when that
  one is exact, so the bus fetches for the trigger only what may match; every filter is checked again on the
  CloudEvent (path patterns, ``subject``, extensions) before delivery;
- the target retries every failed answer, as a Pub/Sub push subscription does, with the trigger's
  ``maxAttempts`` and exponential back-off from ``minBackoff`` to ``maxBackoff``; after the last attempt the
  event is a dead letter in the bus's queue (``stepdance dlq``, the dashboard, redrive), and, with a
  ``deadLetterTopic``, published to that Pub/Sub topic as a CloudEvent in Pub/Sub's binding (``ce-*``
  attributes, the data as the message's data) by the processes that run :class:`Triggers`.

The trigger's JSON is kept on its target, so it is what the catalog holds: a trigger outlives the process
that created it and any process running the bus delivers it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from stepdance.bus import Bus, Client
from stepdance.bus.catalog import DeadLetter
from stepdance.bus.cloudevents import ATTRIBUTES, CloudEvent, to_binary
from stepdance.bus.cloudevents_target import MEMBER as CLOUDEVENTS
from stepdance.bus.cloudevents_target import event_of
from stepdance.bus.definitions import Target
from stepdance.bus.envelope import parse_event
from stepdance.bus.errors import ResourceNotFoundException
from stepdance.bus.headers import carried
from stepdance.bus.names import DEFAULT_BUS
from stepdance.gcp.eventarc import Trigger, TriggerError, parse_trigger, trigger_id, trigger_json
from stepdance.gcp.pubsub_broker import DEAD_LETTER_COUNT, Broker, Published
from stepdance.gcp.pubsub_catalog import PubSubCatalog

RULE_PREFIX = "eventarc-"
TARGET_ID = "eventarc"
TRIGGER = "EventarcTrigger"  # the target's member holding the trigger's JSON
DEFAULT_PROJECT = "stepdance"
MAX_RULE_NAME = 64
MAX_ATTRIBUTE = 1024  # bytes in a Pub/Sub attribute's value
ERROR_ATTRIBUTE = "stepdance-error"
TRIGGER_ATTRIBUTE = "stepdance-trigger"


class TriggerNotFound(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"Trigger {name} not found.")
        self.name = name


class TriggerExists(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"Trigger {name} already exists.")
        self.name = name


def rule_name(trigger_id: str) -> str:
    """The rule of the trigger ``trigger_id``: a long id is cut and told apart by a digest (rule names
    hold 64 characters, trigger ids 63)."""
    name = RULE_PREFIX + trigger_id
    if len(name) <= MAX_RULE_NAME:
        return name
    digest = hashlib.sha256(trigger_id.encode()).hexdigest()[:8]
    return f"{name[: MAX_RULE_NAME - len(digest) - 1]}-{digest}"


def rule_pattern(trigger: Trigger) -> str:
    """The EventBridge pattern that fetches what the trigger may want: its type, and its exact source."""
    pattern: dict[str, list[str]] = {}
    for each in trigger.filters:
        if each.operator is None and each.attribute == "type":
            pattern["detail-type"] = [each.value]
        elif each.operator is None and each.attribute == "source":
            pattern["source"] = [each.value]
    return json.dumps(pattern, separators=(",", ":"))


def dead_letter_topic(trigger: Trigger) -> str | None:
    """The trigger's dead-letter topic as a resource name (a bare id is in the trigger's project)."""
    topic = trigger.dead_letter_topic
    if topic is None or topic.startswith("projects/"):
        return topic
    parts = trigger.name.split("/")
    project = parts[1] if len(parts) > 1 and parts[0] == "projects" else DEFAULT_PROJECT
    return f"projects/{project}/topics/{topic}"


def target_shape(trigger: Trigger) -> dict[str, Any]:
    """The bus target that delivers the trigger's events."""
    delivery: dict[str, Any] = {
        "Mode": trigger.content_mode,
        "Filters": [
            {"Attribute": f.attribute, "Value": f.value, **({"Operator": f.operator} if f.operator else {})}
            for f in trigger.filters
        ],
        "RetryEveryFailure": True,
        "Backoff": {"MinimumSeconds": trigger.retry.min_backoff, "MaximumSeconds": trigger.retry.max_backoff},
    }
    topic = dead_letter_topic(trigger)
    if topic is not None:
        delivery["DeadLetterTopic"] = topic
    return {
        "Id": TARGET_ID,
        "Arn": trigger.destination,
        "RetryPolicy": {"MaximumRetryAttempts": trigger.retry.max_attempts - 1},
        CLOUDEVENTS: delivery,
        TRIGGER: trigger_json(trigger),
    }


def pubsub_message(event: CloudEvent, extra: Mapping[str, str]) -> Published:
    """``event`` in CloudEvents' Pub/Sub binding (binary mode): ``ce-`` attributes, the data as data."""
    _, data = to_binary(event)
    attributes = {f"ce-{name}": value for name in ATTRIBUTES if (value := event.attribute(name)) is not None}
    attributes.pop("ce-datacontenttype", None)  # the binding carries it as content-type
    attributes.update({f"ce-{name}": value for name, value in event.extensions.items()})
    if event.datacontenttype is not None:
        attributes["content-type"] = event.datacontenttype
    attributes.update({key: _clip(value) for key, value in extra.items()})
    return Published(data=data, attributes=attributes)


def _clip(value: str) -> str:
    encoded = value.encode()
    return value if len(encoded) <= MAX_ATTRIBUTE else encoded[:MAX_ATTRIBUTE].decode(errors="ignore")


class Triggers:
    """Create, read, list and delete triggers on ``bus``; while it lives, a trigger's dead letters are also
    published to its dead-letter topic."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.events = Client(bus)
        self.pubsub = PubSubCatalog(bus.catalog)
        self._broker = Broker(bus.transport)
        bus.dead_letter_hooks.append(self._dead_letter)

    async def create(self, document: Any, *, replace: bool = False, where: str = "") -> Trigger:
        """The trigger ``document`` describes, now delivering. TriggerError (a JSON pointer) for a bad one,
        TriggerExists for a name in use unless ``replace``; nothing is changed on an error."""
        return await self._put(await self.checked(document, where), replace=replace)

    async def checked(self, document: Any, where: str = "") -> Trigger:
        """The trigger ``document`` describes, checked as :meth:`create` checks it, without creating it."""
        trigger = parse_trigger(document, where)
        await self.check(trigger, where)
        return trigger

    async def _put(self, trigger: Trigger, *, replace: bool) -> Trigger:
        found = await self._find(trigger.id)
        if found is not None and not replace:
            raise TriggerExists(trigger.name)
        if found is not None and found.event_bus != trigger.event_bus:
            await self._remove(found)
        name, bus = rule_name(trigger.id), trigger.event_bus
        await self.events.put_rule(
            Name=name,
            EventBusName=bus,
            EventPattern=rule_pattern(trigger),
            Description=f"Eventarc trigger {trigger.name}",
        )
        await self.events.put_targets(Rule=name, EventBusName=bus, Targets=[target_shape(trigger)])
        return trigger

    async def apply(self, documents: Sequence[Any], pointers: Sequence[str] | None = None) -> list[Trigger]:
        """Create or replace every trigger of ``documents``, once all of them are checked; ``pointers``: each
        one's JSON pointer in its file, for errors (``/0``, ``/1``... unless told)."""
        where = list(pointers) if pointers is not None else [f"/{i}" for i in range(len(documents))]
        parsed = [parse_trigger(document, at) for document, at in zip(documents, where, strict=True)]
        seen: dict[str, str] = {}
        for trigger, at in zip(parsed, where, strict=True):
            if trigger.id in seen:
                raise TriggerError(
                    f"{at}/name", f"trigger {trigger.id!r} is also at {seen[trigger.id] or '/'}"
                )
            seen[trigger.id] = at
            await self.check(trigger, at)
        return [await self._put(trigger, replace=True) for trigger in parsed]

    async def check(self, trigger: Trigger, where: str = "") -> None:
        """TriggerError unless ``trigger``'s event bus and dead-letter topic exist (``where``: its pointer)."""
        if trigger.event_bus == DEFAULT_BUS:  # always there, though a bus never started has not written it
            await self.bus.store(self.bus.catalog.ensure_bus, DEFAULT_BUS, self.bus.clock())
        elif trigger.event_bus not in await self._buses():
            raise TriggerError(f"{where}/channel", f"there is no event bus {trigger.event_bus!r}")
        topic = dead_letter_topic(trigger)
        if topic is not None and await self.bus.store(self.pubsub.get_topic, topic) is None:
            raise TriggerError(f"{where}/deadLetterTopic", f"there is no Pub/Sub topic {topic!r}")

    async def get(self, name: str) -> Trigger:
        found = await self._find(trigger_id(name))
        if found is None:
            raise TriggerNotFound(name)
        return found

    async def list_triggers(self) -> list[Trigger]:
        found = []
        for bus in await self._buses():
            for rule in await self._pages(
                self.events.list_rules, "Rules", EventBusName=bus, NamePrefix=RULE_PREFIX
            ):
                trigger = await self._trigger_of(bus, rule["Name"])
                if trigger is not None:
                    found.append(trigger)
        return sorted(found, key=lambda t: t.id)

    async def delete(self, name: str) -> Trigger:
        trigger = await self.get(name)
        await self._remove(trigger)
        return trigger

    async def _remove(self, trigger: Trigger) -> None:
        name, bus = rule_name(trigger.id), trigger.event_bus
        await self.events.remove_targets(Rule=name, EventBusName=bus, Ids=[TARGET_ID])
        await self.events.delete_rule(Name=name, EventBusName=bus)

    async def _find(self, trigger_id: str) -> Trigger | None:
        for bus in await self._buses():
            trigger = await self._trigger_of(bus, rule_name(trigger_id))
            if trigger is not None:
                return trigger
        return None

    async def _buses(self) -> list[str]:
        return [b["Name"] for b in await self._pages(self.events.list_event_buses, "EventBuses")]

    @staticmethod
    async def _pages(call: Any, key: str, **arguments: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token = None
        while True:
            page = await call(**arguments, Limit=100, **({"NextToken": token} if token else {}))
            found.extend(page[key])
            token = page.get("NextToken")
            if not token:
                return found

    async def _trigger_of(self, bus: str, rule: str) -> Trigger | None:
        try:
            targets = (await self.events.list_targets_by_rule(Rule=rule, EventBusName=bus))["Targets"]
        except ResourceNotFoundException:
            return None
        for target in targets:
            if target.get("Id") == TARGET_ID and isinstance(target.get(TRIGGER), Mapping):
                return parse_trigger(target[TRIGGER])
        return None

    async def _dead_letter(self, letter: DeadLetter, target: Target) -> None:
        delivery = target.cloudevents
        if delivery is None or delivery.dead_letter_topic is None:
            return
        event = parse_event(letter.body)
        if isinstance(event, str):  # a poison message: there is no event to publish
            return
        cloud = event_of(event, carried(letter.headers), target.bus, None, True)
        extra = {
            ERROR_ATTRIBUTE: f"{letter.error_code}: {letter.error_message}".rstrip(": "),
            DEAD_LETTER_COUNT: str(letter.attempts),
        }
        trigger = target.shape.get(TRIGGER)
        if isinstance(trigger, Mapping) and isinstance(trigger.get("name"), str):
            extra[TRIGGER_ATTRIBUTE] = trigger["name"]
        await self._broker.publish(delivery.dead_letter_topic, [pubsub_message(cloud, extra)])
