"""Buses, rules and targets through the boto3-shaped client: shapes, checks and AWS's errors."""

from __future__ import annotations

import json
import re

import pytest

from stepdance.bus import Client, handler_arn
from stepdance.bus.errors import (
    InvalidEventPatternException,
    LimitExceededException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
    ValidationException,
)
from tests.bus.core_fixtures import SETTINGS

PATTERN = json.dumps({"source": ["shop"]})
HANDLER = handler_arn(SETTINGS, "reserve")


async def test_the_default_bus_always_exists_and_cannot_be_deleted(events: Client) -> None:
    described = await events.describe_event_bus()
    assert described["Name"] == "default"
    assert described["Arn"] == "arn:aws:events:us-east-1:123456789012:event-bus/default"
    with pytest.raises(ValidationException, match=re.escape("Cannot delete event bus default.")):
        await events.delete_event_bus(Name="default")
    with pytest.raises(ResourceAlreadyExistsException, match=re.escape("Event bus default already exists.")):
        await events.create_event_bus(Name="default")


async def test_buses_are_created_listed_and_deleted(events: Client) -> None:
    created = await events.create_event_bus(Name="orders", Description="the shop's")
    assert created["EventBusArn"] == "arn:aws:events:us-east-1:123456789012:event-bus/orders"
    await events.create_event_bus(Name="orders-archive")
    listed = await events.list_event_buses(NamePrefix="orders", Limit=1)
    assert [b["Name"] for b in listed["EventBuses"]] == ["orders"]
    rest = await events.list_event_buses(NamePrefix="orders", NextToken=listed["NextToken"])
    assert [b["Name"] for b in rest["EventBuses"]] == ["orders-archive"] and "NextToken" not in rest
    await events.delete_event_bus(Name="orders")
    with pytest.raises(ResourceNotFoundException, match=re.escape("Event bus orders does not exist.")):
        await events.describe_event_bus(Name="orders")


async def test_a_bus_with_rules_is_not_deleted(events: Client, bus_name: str) -> None:
    await events.put_rule(Name="r", EventPattern=PATTERN, EventBusName=bus_name)
    with pytest.raises(ValidationException):
        await events.delete_event_bus(Name=bus_name)


async def test_put_rule_describe_list_update(events: Client, bus_name: str) -> None:
    made = await events.put_rule(Name="paid", EventPattern=PATTERN, EventBusName=bus_name, Description="d")
    assert made["RuleArn"] == f"arn:aws:events:us-east-1:123456789012:rule/{bus_name}/paid"
    described = await events.describe_rule(Name="paid", EventBusName=bus_name)
    assert described == {
        "Name": "paid",
        "Arn": made["RuleArn"],
        "EventPattern": PATTERN,
        "State": "ENABLED",
        "Description": "d",
        "EventBusName": bus_name,
        "CreatedBy": "123456789012",
    }
    await events.put_rule(Name="paid", EventPattern=PATTERN, EventBusName=bus_name, State="DISABLED")
    assert (await events.describe_rule(Name="paid", EventBusName=bus_name))["State"] == "DISABLED"
    await events.enable_rule(Name="paid", EventBusName=bus_name)
    listed = await events.list_rules(EventBusName=bus_name)
    assert [(r["Name"], r["State"]) for r in listed["Rules"]] == [("paid", "ENABLED")]


async def test_a_rule_on_the_default_bus_has_the_short_arn(events: Client) -> None:
    made = await events.put_rule(Name="paid", EventPattern=PATTERN)
    assert made["RuleArn"] == "arn:aws:events:us-east-1:123456789012:rule/paid"


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ('{"source": "shop"}', 'Event pattern is not valid. Reason: "source" must be an object or an array'),
        ("{", "Event pattern is not valid. Reason: "),
    ],
)
async def test_an_invalid_pattern_is_refused_with_the_matcher_s_words(
    events: Client, pattern: str, message: str
) -> None:
    with pytest.raises(InvalidEventPatternException) as refused:
        await events.put_rule(Name="bad", EventPattern=pattern)
    assert refused.value.message.startswith(message)
    assert refused.value.response["Error"]["Code"] == "InvalidEventPatternException"


async def test_rule_checks(events: Client) -> None:
    with pytest.raises(ValidationException, match="EventPattern or ScheduleExpression must be specified"):
        await events.put_rule(Name="empty")
    with pytest.raises(ValidationException, match="Member must satisfy regular expression pattern"):
        await events.put_rule(Name="bad name", EventPattern=PATTERN)
    with pytest.raises(ValidationException, match="Member must satisfy enum value set"):
        await events.put_rule(Name="r", EventPattern=PATTERN, State="ON")
    with pytest.raises(ResourceNotFoundException, match=re.escape("Event bus nowhere does not exist.")):
        await events.put_rule(Name="r", EventPattern=PATTERN, EventBusName="nowhere")
    with pytest.raises(
        ResourceNotFoundException, match=re.escape("Rule ghost does not exist on EventBus default.")
    ):
        await events.describe_rule(Name="ghost")


async def test_targets_are_put_listed_and_removed(events: Client, bus_name: str) -> None:
    await events.put_rule(Name="paid", EventPattern=PATTERN, EventBusName=bus_name)
    target = {"Id": "reserve", "Arn": HANDLER, "RetryPolicy": {"MaximumRetryAttempts": 3}}
    answer = await events.put_targets(Rule="paid", EventBusName=bus_name, Targets=[target])
    assert answer == {"FailedEntryCount": 0, "FailedEntries": []}
    assert (await events.list_targets_by_rule(Rule="paid", EventBusName=bus_name))["Targets"] == [target]
    with pytest.raises(ValidationException, match=re.escape("Rule can't be deleted since it has targets.")):
        await events.delete_rule(Name="paid", EventBusName=bus_name)
    await events.remove_targets(Rule="paid", EventBusName=bus_name, Ids=["reserve"])
    await events.delete_rule(Name="paid", EventBusName=bus_name)
    assert (await events.list_rules(EventBusName=bus_name))["Rules"] == []


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            {"Id": "t", "Arn": HANDLER, "Input": "{}", "InputPath": "$.detail"},
            "Only one of Input, InputPath, or InputTransformer must be provided for target t.",
        ),
        (
            {"Id": "t", "Arn": HANDLER, "InputTransformer": {"InputTemplate": '"<nope>"'}},
            "InputTemplate for target t contains invalid placeholder nope.",
        ),
        ({"Id": "t", "Arn": HANDLER, "Input": "{not json"}, "Input is not valid JSON"),
        ({"Id": "t", "Arn": HANDLER, "InputPath": "detail"}, "InputPath is not a valid JSON path"),
        (
            {"Id": "t", "Arn": HANDLER, "RetryPolicy": {"MaximumRetryAttempts": 186}},
            "Member must have value less than or equal to 185",
        ),
        (
            {"Id": "t", "Arn": HANDLER, "RetryPolicy": {"MaximumEventAgeInSeconds": 59}},
            "Member must have value greater than or equal to 60",
        ),
        ({"Id": "t", "Arn": "arn:aws:sqs:us-east-1:123456789012:q"}, "cannot deliver to"),
    ],
)
async def test_target_checks(events: Client, target: dict[str, object], message: str) -> None:
    await events.put_rule(Name="r", EventPattern=PATTERN)
    with pytest.raises(ValidationException) as refused:
        await events.put_targets(Rule="r", Targets=[target])
    assert message in refused.value.message


async def test_a_rule_takes_five_targets(events: Client) -> None:
    await events.put_rule(Name="r", EventPattern=PATTERN)
    await events.put_targets(Rule="r", Targets=[{"Id": str(i), "Arn": HANDLER} for i in range(5)])
    with pytest.raises(LimitExceededException):
        await events.put_targets(Rule="r", Targets=[{"Id": "6", "Arn": HANDLER}])


async def test_targets_of_a_missing_rule(events: Client) -> None:
    with pytest.raises(
        ResourceNotFoundException, match=re.escape("Rule ghost does not exist on EventBus default.")
    ):
        await events.put_targets(Rule="ghost", Targets=[{"Id": "t", "Arn": HANDLER}])


async def test_test_event_pattern(events: Client) -> None:
    event = {
        "id": "1",
        "account": "1",
        "source": "shop",
        "time": "2024-01-01T00:00:00Z",
        "region": "us-east-1",
        "detail-type": "x",
        "resources": [],
        "detail": {},
    }
    assert await events.test_event_pattern(EventPattern=PATTERN, Event=json.dumps(event)) == {"Result": True}
    with pytest.raises(ValidationException, match=re.escape("Parameter Event is not valid.")):
        await events.test_event_pattern(EventPattern=PATTERN, Event="{}")
