"""The EventBridge API over HTTP, driven by boto3 exactly as code written for AWS drives it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from stepdance.order import orders as orders_view
from tests.api.served import Served, eventually

ROLE = "arn:aws:iam::123456789012:role/test"
ECHO = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


def create_order(eventbridge: Any, order_id: str) -> Any:
    # what a user writes against AWS, unchanged
    return eventbridge.put_events(
        Entries=[
            {
                "Source": "orders",
                "DetailType": "OrderCreated",
                "Detail": json.dumps({"orderId": order_id}),
                "EventBusName": "default",
            }
        ]
    )


def order_record(served: Served, order_id: str) -> dict[str, Any] | None:
    return served.orders_record(order_id)


def test_an_order_created_event_starts_the_choreographed_saga(served: Served, events: Any) -> None:
    order_id = f"evt-{uuid.uuid4().hex[:8]}"
    answer = create_order(events, order_id)
    assert answer["FailedEntryCount"] == 0 and answer["Entries"][0]["EventId"]

    def decided() -> dict[str, Any] | None:
        record = order_record(served, order_id)
        return record if record is not None and record["status"] != orders_view.PENDING else None

    record = eventually(decided)
    assert record["status"] == orders_view.COMPLETED and record["design"] == "choreographed"


def test_the_same_order_created_twice_is_one_order(served: Served, events: Any) -> None:
    order_id = f"twice-{uuid.uuid4().hex[:8]}"
    create_order(events, order_id)
    create_order(events, order_id)  # a producer retrying after a timeout
    first = eventually(lambda: (r := order_record(served, order_id)) and r["status"] == "completed" and r)
    assert first["placedAt"] == order_record(served, order_id)["placedAt"]  # type: ignore[index]


def state_machine(served: Served) -> str:
    sfn = served.client("stepfunctions")
    name = f"target-{uuid.uuid4().hex[:8]}"
    return str(sfn.create_state_machine(name=name, definition=ECHO, roleArn=ROLE)["stateMachineArn"])


def executions(served: Served, arn: str) -> list[dict[str, Any]]:
    return list(served.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"])


def test_rules_and_targets_route_events_to_a_state_machine(served: Served, events: Any) -> None:
    bus = f"bus-{uuid.uuid4().hex[:6]}"
    assert events.create_event_bus(Name=bus)["EventBusArn"].endswith(f":event-bus/{bus}")
    assert events.describe_event_bus(Name=bus)["Name"] == bus
    assert bus in [b["Name"] for b in events.list_event_buses(NamePrefix="bus-")["EventBuses"]]
    pattern = {"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}}
    rule = events.put_rule(Name="big-orders", EventBusName=bus, EventPattern=json.dumps(pattern))
    assert rule["RuleArn"].endswith(f"rule/{bus}/big-orders")
    described = events.describe_rule(Name="big-orders", EventBusName=bus)
    assert json.loads(described["EventPattern"]) == pattern and described["State"] == "ENABLED"
    target = state_machine(served)
    added = events.put_targets(
        Rule="big-orders",
        EventBusName=bus,
        Targets=[{"Id": "audit", "Arn": target, "RoleArn": ROLE, "InputPath": "$.detail"}],
    )
    assert added["FailedEntryCount"] == 0
    assert [t["Id"] for t in events.list_targets_by_rule(Rule="big-orders", EventBusName=bus)["Targets"]] == [
        "audit"
    ]
    entries = [
        {"Source": "shop", "DetailType": "Sale", "Detail": json.dumps({"total": t}), "EventBusName": bus}
        for t in (50, 150, 250)
    ]
    assert events.put_events(Entries=entries)["FailedEntryCount"] == 0
    started = eventually(lambda: len(executions(served, target)) == 2 and executions(served, target))
    sfn = served.client("stepfunctions")
    inputs = sorted(
        json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"])["total"] for e in started
    )
    assert inputs == [150, 250]
    assert events.remove_targets(Rule="big-orders", EventBusName=bus, Ids=["audit"])["FailedEntryCount"] == 0
    events.delete_rule(Name="big-orders", EventBusName=bus)
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_rule(Name="big-orders", EventBusName=bus)


def test_rules_list_by_prefix_with_next_token(events: Any) -> None:
    bus = f"list-{uuid.uuid4().hex[:6]}"
    events.create_event_bus(Name=bus)
    for i in range(5):
        events.put_rule(Name=f"r{i}", EventBusName=bus, EventPattern=json.dumps({"source": [f"s{i}"]}))
    seen: list[str] = []
    token = None
    while True:
        page = events.list_rules(
            EventBusName=bus, NamePrefix="r", Limit=2, **({"NextToken": token} if token else {})
        )
        assert len(page["Rules"]) <= 2
        seen += [r["Name"] for r in page["Rules"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == [f"r{i}" for i in range(5)]


def test_test_event_pattern_matches_as_eventbridge_does(events: Any) -> None:
    event = {
        "id": "1",
        "source": "orders",
        "detail-type": "OrderCreated",
        "account": "123456789012",
        "time": "2026-12-07T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"orderId": "o-1", "total": 12},
    }
    yes = json.dumps({"detail": {"total": [{"numeric": [">=", 10]}]}})
    no = json.dumps({"detail": {"orderId": [{"prefix": "x-"}]}})
    assert events.test_event_pattern(EventPattern=yes, Event=json.dumps(event))["Result"] is True
    assert events.test_event_pattern(EventPattern=no, Event=json.dumps(event))["Result"] is False
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.test_event_pattern(EventPattern='{"source": "not-a-list"}', Event=json.dumps(event))


def test_an_archive_replays_its_events_to_the_rules(served: Served, events: Any) -> None:
    bus = f"arch-{uuid.uuid4().hex[:6]}"
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    archive = events.create_archive(ArchiveName=f"{bus}-all", EventSourceArn=bus_arn)
    target = state_machine(served)
    events.put_rule(Name="all", EventBusName=bus, EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="all", EventBusName=bus, Targets=[{"Id": "sm", "Arn": target, "RoleArn": ROLE}])
    before = datetime.now(UTC) - timedelta(seconds=5)
    entries = [{"Source": "shop", "DetailType": "Sale", "Detail": "{}", "EventBusName": bus}] * 2
    events.put_events(Entries=entries)
    eventually(lambda: len(executions(served, target)) == 2)
    # the archive holds an event once it is written (AWS: within minutes; here: at once)
    replay = f"{bus}-again"
    started = events.start_replay(
        ReplayName=replay,
        EventSourceArn=archive["ArchiveArn"],
        EventStartTime=before,
        EventEndTime=datetime.now(UTC) + timedelta(seconds=1),
        Destination={"Arn": bus_arn},
    )
    assert started["State"] in {"STARTING", "RUNNING", "COMPLETED"}
    done = eventually(lambda: (d := events.describe_replay(ReplayName=replay))["State"] == "COMPLETED" and d)
    assert done["EventSourceArn"] == archive["ArchiveArn"]
    eventually(lambda: len(executions(served, target)) == 4)  # each event delivered again by the replay
