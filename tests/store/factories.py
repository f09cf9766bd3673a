"""Small builders for store records and the changes a runtime would write."""

from __future__ import annotations

from typing import Any

from stepdance.store import Change, ExecutionRecord, StateMachineRecord, TaskRecord, TimerRecord

SM = "arn:aws:states:us-east-1:123456789012:stateMachine:saga"
OWNER = "worker-a"


def machine(
    name: str = "saga", revision: str = "r1", definition: str = '{"StartAt":"A"}'
) -> StateMachineRecord:
    return StateMachineRecord(
        arn=f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}",
        name=name,
        definition=definition,
        role_arn="arn:aws:iam::123456789012:role/r",
        creation_date=1000.0,
        revision_id=revision,
    )


def execution_arn(name: str) -> str:
    return f"arn:aws:states:us-east-1:123456789012:execution:saga:{name}"


def event(event_id: int, kind: str = "PassStateEntered", **details: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "previousEventId": event_id - 1,
        "type": kind,
        "timestamp": 1000.0 + event_id,
        **details,
    }


def create(
    name: str,
    *,
    start: float = 1000.0,
    owner: str | None = OWNER,
    status: str = "RUNNING",
    events: int = 1,
    lease_until: float = 9e9,
    **fields: Any,
) -> Change:
    record = ExecutionRecord(
        arn=execution_arn(name),
        state_machine_arn=SM,
        name=name,
        revision_id="r1",
        input='{"n":1}',
        start_date=start,
        owner=owner,
        lease_until=lease_until,
    )
    return Change(
        execution_arn=record.arn,
        version=0,
        owner=owner,
        create=record,
        events=[event(i) for i in range(1, events + 1)],
        snapshot={"step": 0},
        status=status,
        **fields,
    )


def step(name: str, version: int, *, first_event: int, owner: str | None = OWNER, **fields: Any) -> Change:
    events = fields.pop("events", [event(first_event)])
    return Change(
        execution_arn=execution_arn(name),
        version=version,
        owner=owner,
        events=events,
        snapshot=fields.pop("snapshot", {"step": version}),
        status=fields.pop("status", "RUNNING"),
        **fields,
    )


def task(
    name: str, task_id: str, *, kind: str = "handler", token: str | None = None, **fields: Any
) -> TaskRecord:
    return TaskRecord(
        execution_arn=execution_arn(name),
        task_id=task_id,
        kind=kind,
        resource=fields.pop("resource", "charge"),
        input=fields.pop("input", '{"amount":1}'),
        created=fields.pop("created", 1000.0),
        token=token,
        **fields,
    )


def timer(name: str, timer_id: str, due: float) -> TimerRecord:
    return TimerRecord(execution_arn(name), timer_id, due)
