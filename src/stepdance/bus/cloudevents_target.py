"""A target that receives its events as CloudEvents: the ``CloudEvents`` member of a PutTargets target, a
stepdance extension (EventBridge has no such member; boto3's model refuses it, the Python client takes it)::

    {"Id": "shipping", "Arn": "https://shipping.example/events",
     "CloudEvents": {"Mode": "binary",
                     "Filters": [{"Attribute": "subject", "Value": "orders/*", "Operator": "match-path-pattern"}],
                     "RetryEveryFailure": true,
                     "Backoff": {"MinimumSeconds": 10, "MaximumSeconds": 600},
                     "DeadLetterTopic": "projects/p/topics/dead"}}

``Mode`` is the HTTP binding's content mode (``binary``: ``ce-*`` headers and the data as the body;
``structured``: one ``application/cloudevents+json`` document). ``Filters`` are conditions on the CloudEvent's
attributes that every delivered event meets (an event that fails one is not this target's, as if the rule had
not matched it); ``RetryEveryFailure`` retries every failed answer, as a Pub/Sub push subscription does, where
an HTTP target otherwise sends a 4xx other than 401, 407, 409 and 429 to the dead-letter queue at once;
``Backoff`` replaces the bus's jittered back-off with Pub/Sub's exponential one; ``DeadLetterTopic`` names a
Pub/Sub topic a dead letter is also published to, where a process serves Pub/Sub over the bus.

The bus-wide setting ``STEPDANCE_CLOUDEVENTS=binary|structured`` makes every HTTP target without its own
member receive CloudEvents in that mode. Pure: parsing, matching and building the event.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stepdance.bus.cloudevents import CloudEvent, CloudEventError, from_bus_event
from stepdance.bus.cloudevents_paths import path_matches, pattern_error
from stepdance.bus.errors import ValidationException, constraint

MEMBER = "CloudEvents"
MODES = ("binary", "structured")
PATH_PATTERN = "match-path-pattern"
MAX_BACKOFF = 600.0
_FIELDS = frozenset({"Mode", "Filters", "RetryEveryFailure", "Backoff", "DeadLetterTopic"})


@dataclass(frozen=True, slots=True)
class AttributeFilter:
    attribute: str
    value: str
    path_pattern: bool = False

    def matches(self, event: CloudEvent) -> bool:
        found = event.attribute(self.attribute)
        if found is None:
            return False
        return path_matches(self.value, found) if self.path_pattern else found == self.value


@dataclass(frozen=True, slots=True)
class ExponentialBackoff:
    """Pub/Sub's retry policy: ``minimum * 2 ** (attempt - 1)`` seconds, at most ``maximum``; no jitter."""

    minimum: float
    maximum: float

    def delay(self, attempt: int) -> float:
        return float(min(self.maximum, self.minimum * 2.0 ** min(max(0, attempt - 1), 64)))


@dataclass(frozen=True, slots=True)
class CloudEventsDelivery:
    """How a target gets its events as CloudEvents."""

    mode: str = "binary"
    filters: tuple[AttributeFilter, ...] = ()
    retry_every_failure: bool = False
    backoff: ExponentialBackoff | None = None
    dead_letter_topic: str | None = None

    def wants(self, event: CloudEvent) -> bool:
        return all(each.matches(event) for each in self.filters)

    @classmethod
    def parse(cls, given: Any, where: str = "cloudEvents") -> CloudEventsDelivery:
        """From the target's ``CloudEvents`` member; ValidationException naming the field otherwise."""
        if not isinstance(given, Mapping):
            raise constraint(given, where, "Member must be an object")
        unknown = sorted(set(given) - _FIELDS)
        if unknown:
            raise constraint(
                unknown[0], where, f"Member must have only the fields {', '.join(sorted(_FIELDS))}"
            )
        mode = given.get("Mode", "binary")
        if mode not in MODES:
            raise constraint(
                mode, f"{where}.mode", f"Member must satisfy enum value set: [{', '.join(MODES)}]"
            )
        retry_all = given.get("RetryEveryFailure", False)
        if not isinstance(retry_all, bool):
            raise constraint(retry_all, f"{where}.retryEveryFailure", "Member must be a boolean")
        topic = given.get("DeadLetterTopic")
        if topic is not None and (not isinstance(topic, str) or not topic):
            raise constraint(topic, f"{where}.deadLetterTopic", "Member must be a non-empty string")
        return cls(
            mode=mode,
            filters=_filters(given.get("Filters", []), f"{where}.filters"),
            retry_every_failure=retry_all,
            backoff=_backoff(given.get("Backoff"), f"{where}.backoff"),
            dead_letter_topic=topic,
        )


def _filters(given: Any, where: str) -> tuple[AttributeFilter, ...]:
    if not isinstance(given, list):
        raise constraint(given, where, "Member must be a list")
    found = []
    for index, each in enumerate(given):
        at = f"{where}.{index + 1}.member"
        if not isinstance(each, Mapping):
            raise constraint(each, at, "Member must be an object")
        attribute, value, operator = each.get("Attribute"), each.get("Value"), each.get("Operator")
        if not isinstance(attribute, str) or not attribute:
            raise constraint(attribute, f"{at}.attribute", "Member must be a CloudEvents attribute name")
        if not isinstance(value, str):
            raise constraint(value, f"{at}.value", "Member must be a string")
        if operator not in (None, PATH_PATTERN):
            raise constraint(
                operator, f"{at}.operator", f"Member must satisfy enum value set: [{PATH_PATTERN}]"
            )
        if operator is not None and (reason := pattern_error(value)):
            raise ValidationException(f"{at}.value: {reason}")
        found.append(AttributeFilter(attribute.lower(), value, operator is not None))
    return tuple(found)


def _backoff(given: Any, where: str) -> ExponentialBackoff | None:
    if given is None:
        return None
    if not isinstance(given, Mapping):
        raise constraint(given, where, "Member must be an object")
    low, high = given.get("MinimumSeconds", 10.0), given.get("MaximumSeconds", MAX_BACKOFF)
    for name, value in (("minimumSeconds", low), ("maximumSeconds", high)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise constraint(value, f"{where}.{name}", "Member must be a number")
        if not 0 <= value <= MAX_BACKOFF:
            raise constraint(value, f"{where}.{name}", f"Member must be from 0 to {MAX_BACKOFF:g}")
    if high < low:
        raise constraint(
            high, f"{where}.maximumSeconds", f"Member must not be less than minimumSeconds {low}"
        )
    return ExponentialBackoff(float(low), float(high))


def event_of(
    event: Mapping[str, Any], headers: Mapping[str, str], bus: str, input_text: str | None, whole: bool
) -> CloudEvent:
    """The CloudEvent a target receives for a bus ``event``: ``data`` is the detail, or the target's input
    when its input settings made one of their own (``whole`` is False)."""
    cloud = from_bus_event(event, headers, eventbus=bus)
    if whole:
        return cloud
    data: Any = None
    if input_text is not None:
        try:
            data = json.loads(input_text)
        except ValueError:  # a text template: its text, as text
            return _replaced(cloud, input_text, "text/plain; charset=utf-8")
    return _replaced(cloud, data, cloud.datacontenttype)


def _replaced(cloud: CloudEvent, data: Any, content_type: str | None) -> CloudEvent:
    try:
        return CloudEvent(
            id=cloud.id,
            source=cloud.source,
            type=cloud.type,
            time=cloud.time,
            datacontenttype=content_type,
            subject=cloud.subject,
            data=data,
            extensions=cloud.extensions,
        )
    except CloudEventError:  # cannot happen for JSON data or text; keep the detail rather than fail
        return cloud
