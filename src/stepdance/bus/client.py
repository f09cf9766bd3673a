"""An EventBridge client over the bus: boto3's ``events`` method names, keyword arguments and shapes.

Methods are ``async`` (``await client.put_rule(Name=..., EventPattern=...)``); they return what boto3 returns
(PascalCase keys, datetimes) and raise the errors AWS raises (:mod:`stepdance.bus.errors`). Archives and
replays come from :class:`~stepdance.bus.client_archives.ArchiveCalls`, the dead-letter queue (not an
EventBridge API: EventBridge sends dead letters to SQS) from :class:`~stepdance.bus.client_dlq.DeadLetterCalls`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from stepdance.bus import names, shapes
from stepdance.bus.catalog import BusRecord, RuleRecord
from stepdance.bus.client_archives import ArchiveCalls
from stepdance.bus.client_dlq import DeadLetterCalls
from stepdance.bus.cloudevents_target import MEMBER as CLOUDEVENTS
from stepdance.bus.cloudevents_target import CloudEventsDelivery
from stepdance.bus.errors import (
    InvalidEventPatternException,
    LimitExceededException,
    ResourceAlreadyExistsException,
    ValidationException,
    bus_not_found,
    constraint,
    rule_not_found,
)
from stepdance.bus.patterns import InvalidEvent, InvalidEventPattern, compile_pattern, test_event_pattern
from stepdance.bus.retry import RetryPolicy
from stepdance.bus.targets import kind_of
from stepdance.bus.transform import TargetInput

RULE_STATES = ("ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
MAX_TARGETS_PER_RULE = 5
MAX_TARGETS_PER_CALL = 10


def check_pattern(pattern: str) -> str:
    try:
        compile_pattern(pattern)
    except InvalidEventPattern as error:
        raise InvalidEventPatternException(error.message) from None
    return pattern


class Client(ArchiveCalls, DeadLetterCalls):
    # ------------------------------------------------------------------ events

    async def put_events(self, *, Entries: Sequence[Mapping[str, Any]], **_: Any) -> dict[str, Any]:
        return await self.bus.put_events(Entries)

    async def test_event_pattern(self, *, EventPattern: str, Event: str) -> dict[str, Any]:
        try:
            return {"Result": test_event_pattern(Event, EventPattern)}
        except InvalidEvent as error:
            raise ValidationException(error.message) from None
        except InvalidEventPattern as error:
            raise InvalidEventPatternException(error.message) from None

    # ------------------------------------------------------------------ buses

    async def create_event_bus(
        self, *, Name: str, Description: str | None = None, **_: Any
    ) -> dict[str, Any]:
        names.check(Name, "name", names.BUS_NAME, 256)
        if Name.startswith("aws."):
            raise ValidationException(f"Event bus name must not start with 'aws.': {Name}")
        now = self.bus.clock()
        if not await self._store(self.catalog.create_bus, BusRecord(Name, Description, now, now)):
            raise ResourceAlreadyExistsException(f"Event bus {Name} already exists.")
        self.bus.changed()
        return {
            "EventBusArn": names.bus_arn(self.settings, Name),
            **({"Description": Description} if Description else {}),
        }

    async def describe_event_bus(self, *, Name: str | None = None) -> dict[str, Any]:
        bus = names.bus_name(Name)
        record = await self._store(self.catalog.get_bus, bus)
        if record is None:
            raise bus_not_found(bus)
        return shapes.bus(self.settings, record)

    async def list_event_buses(
        self, *, NamePrefix: str | None = None, NextToken: str | None = None, Limit: int | None = None
    ) -> dict[str, Any]:
        size = shapes.limit(Limit)
        found = await self._store(
            self.catalog.list_buses, NamePrefix or "", shapes.decode_token(NextToken), size + 1
        )
        buses = [shapes.bus(self.settings, b) for b in found]
        return shapes.paged("EventBuses", buses, size, found[min(size, len(found)) - 1].name if found else "")

    async def delete_event_bus(self, *, Name: str) -> dict[str, Any]:
        bus = names.bus_name(Name)
        if bus == names.DEFAULT_BUS:
            raise ValidationException("Cannot delete event bus default.")
        if await self._store(self.catalog.list_rules, bus, "", None, 1):
            raise ValidationException(f"Event bus {bus} has rules; delete them first.")
        await self._store(self.catalog.delete_bus, bus)
        self.bus.changed()
        return {}

    # ------------------------------------------------------------------ rules

    async def put_rule(
        self,
        *,
        Name: str,
        EventPattern: str | None = None,
        ScheduleExpression: str | None = None,
        State: str = "ENABLED",
        Description: str | None = None,
        EventBusName: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        names.check(Name, "name", names.SIMPLE_NAME, 64)
        bus = names.bus_name(EventBusName)
        if State not in RULE_STATES:
            raise constraint(
                State, "state", f"Member must satisfy enum value set: [{', '.join(RULE_STATES)}]"
            )
        if ScheduleExpression is not None:
            raise ValidationException("Scheduled rules (ScheduleExpression) are not supported by this bus.")
        if not EventPattern:
            raise ValidationException("Parameter(s) EventPattern or ScheduleExpression must be specified.")
        check_pattern(EventPattern)
        await self._require_bus(bus)
        now = self.bus.clock()
        await self._store(
            self.catalog.put_rule, RuleRecord(bus, Name, EventPattern, State, Description, now, now)
        )
        self.bus.changed()
        return {"RuleArn": names.rule_arn(self.settings, bus, Name)}

    async def describe_rule(self, *, Name: str, EventBusName: str | None = None) -> dict[str, Any]:
        bus = names.bus_name(EventBusName)
        record = await self._store(self.catalog.get_rule, bus, Name)
        if record is None:
            raise rule_not_found(Name, bus)
        return shapes.rule(self.settings, record)

    async def list_rules(
        self,
        *,
        NamePrefix: str | None = None,
        EventBusName: str | None = None,
        NextToken: str | None = None,
        Limit: int | None = None,
    ) -> dict[str, Any]:
        bus, size = names.bus_name(EventBusName), shapes.limit(Limit)
        await self._require_bus(bus)
        found = await self._store(
            self.catalog.list_rules, bus, NamePrefix or "", shapes.decode_token(NextToken), size + 1
        )
        rules = [shapes.rule(self.settings, r) for r in found]
        return shapes.paged("Rules", rules, size, found[min(size, len(found)) - 1].name if found else "")

    async def enable_rule(self, *, Name: str, EventBusName: str | None = None) -> dict[str, Any]:
        return await self._set_state(Name, EventBusName, "ENABLED")

    async def disable_rule(self, *, Name: str, EventBusName: str | None = None) -> dict[str, Any]:
        return await self._set_state(Name, EventBusName, "DISABLED")

    async def _set_state(self, name: str, bus_name: str | None, state: str) -> dict[str, Any]:
        bus = names.bus_name(bus_name)
        if not await self._store(self.catalog.set_rule_state, bus, name, state, self.bus.clock()):
            raise rule_not_found(name, bus)
        self.bus.changed()
        return {}

    async def delete_rule(
        self, *, Name: str, EventBusName: str | None = None, Force: bool = False
    ) -> dict[str, Any]:
        bus = names.bus_name(EventBusName)
        if await self._store(self.catalog.list_targets, bus, Name):
            raise ValidationException("Rule can't be deleted since it has targets.")
        await self._store(self.catalog.delete_rule, bus, Name)
        self.bus.changed()
        return {}

    # ------------------------------------------------------------------ targets

    async def put_targets(
        self, *, Rule: str, Targets: Sequence[Mapping[str, Any]], EventBusName: str | None = None
    ) -> dict[str, Any]:
        bus = names.bus_name(EventBusName)
        if not 1 <= len(Targets) <= MAX_TARGETS_PER_CALL:
            raise constraint(
                Targets, "targets", f"Member must have length between 1 and {MAX_TARGETS_PER_CALL}"
            )
        given = [_target_shape(target, index) for index, target in enumerate(Targets)]
        await self._require_rule(bus, Rule)
        existing = {t.id for t in await self._store(self.catalog.list_targets, bus, Rule)}
        if len(existing | {t["Id"] for t in given}) > MAX_TARGETS_PER_RULE:
            raise LimitExceededException("The requested resource exceeds the maximum number allowed.")
        await self._store(self.catalog.put_targets, bus, Rule, given)
        for target in given:  # from now on every event of the bus is kept for the target, served or not
            await self.bus.ensure_group(bus, names.target_group(Rule, target["Id"]))
        self.bus.changed()
        return {"FailedEntryCount": 0, "FailedEntries": []}

    async def list_targets_by_rule(
        self,
        *,
        Rule: str,
        EventBusName: str | None = None,
        NextToken: str | None = None,
        Limit: int | None = None,
    ) -> dict[str, Any]:
        bus = names.bus_name(EventBusName)
        await self._require_rule(bus, Rule)
        targets = [t.shape for t in await self._store(self.catalog.list_targets, bus, Rule)]
        return {"Targets": targets}

    async def remove_targets(
        self, *, Rule: str, Ids: Sequence[str], EventBusName: str | None = None, Force: bool = False
    ) -> dict[str, Any]:
        bus = names.bus_name(EventBusName)
        await self._require_rule(bus, Rule)
        await self._store(self.catalog.remove_targets, bus, Rule, list(Ids))
        self.bus.changed()
        return {"FailedEntryCount": 0, "FailedEntries": []}


def _target_shape(target: Mapping[str, Any], index: int) -> dict[str, Any]:
    """The target as stored, after EventBridge's checks (and ours: an ARN the bus can deliver to)."""
    shape = {k: v for k, v in target.items() if v is not None}
    names.check(shape.get("Id", ""), f"targets.{index + 1}.member.id", names.SIMPLE_NAME, 64)
    arn = shape.get("Arn", "")
    names.check(arn, f"targets.{index + 1}.member.arn", r".+", 1600)
    if kind_of(arn) is None:
        raise ValidationException(
            f"Target {shape['Id']} has an Arn this bus cannot deliver to: {arn} (use a Lambda function ARN for a"
            " registered handler, an http(s) URL, or a state machine ARN)."
        )
    TargetInput.parse(shape)
    RetryPolicy.parse(shape.get("RetryPolicy"), f"targets.{index + 1}.member.retryPolicy")
    if CLOUDEVENTS in shape:
        CloudEventsDelivery.parse(shape[CLOUDEVENTS], f"targets.{index + 1}.member.cloudEvents")
        if kind_of(arn) != "http":
            raise ValidationException(
                f"Target {shape['Id']}: CloudEvents applies to http(s) targets only (a handler reads the"
                " CloudEvent from its context's cloudevent())."
            )
    json.dumps(shape)  # stored as JSON: refuse what cannot be
    return shape
