"""State machines and activities through the client: create (idempotent), describe, update, delete, list."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from stepdance.engine import Client, Engine
from stepdance.engine import errors as sfn
from tests.engine.machines import ROLE, chain, machine, run, task

PASS = chain(("Done", {"Type": "Pass", "Result": 1}))


async def test_a_created_state_machine_describes_itself(client: Client) -> None:
    created = await client.create_state_machine(name="orders", definition=json.dumps(PASS), roleArn=ROLE)
    assert created["stateMachineArn"] == "arn:aws:states:us-east-1:123456789012:stateMachine:orders"
    described = await client.describe_state_machine(stateMachineArn=created["stateMachineArn"])
    assert (described["name"], described["status"], described["type"], described["roleArn"]) == (
        "orders",
        "ACTIVE",
        "STANDARD",
        ROLE,
    )
    assert json.loads(described["definition"]) == PASS
    assert isinstance(described["creationDate"], datetime)


async def test_creating_the_same_machine_again_is_idempotent_but_not_with_another_definition(
    client: Client,
) -> None:
    first = await client.create_state_machine(name="m", definition=json.dumps(PASS), roleArn=ROLE)
    again = await client.create_state_machine(name="m", definition=json.dumps(PASS), roleArn=ROLE)
    assert again == first
    with pytest.raises(sfn.StateMachineAlreadyExists):
        await client.create_state_machine(
            name="m", definition=json.dumps(chain(("Other", {"Type": "Pass"}))), roleArn=ROLE
        )


async def test_an_invalid_definition_is_refused_with_its_problems(client: Client) -> None:
    with pytest.raises(sfn.InvalidDefinition, match="Invalid State Machine Definition"):
        await client.create_state_machine(name="bad", definition='{"States": {}}', roleArn=ROLE)
    with pytest.raises(sfn.InvalidName):
        await client.create_state_machine(name="bad/name", definition=json.dumps(PASS), roleArn=ROLE)


async def test_an_update_applies_to_new_executions_only(engine: Engine, client: Client) -> None:
    engine.register("first", lambda _: "first")
    engine.register("second", lambda _: "second")
    sm = await machine(client, chain(("Work", task("first"))))
    before = await run(client, engine, sm)
    updated = await client.update_state_machine(
        stateMachineArn=sm, definition=json.dumps(chain(("Work", task("second"))))
    )
    assert isinstance(updated["updateDate"], datetime) and updated["revisionId"]
    after = await run(client, engine, sm)
    assert (before["output"], after["output"]) == ('"first"', '"second"')
    with pytest.raises(sfn.ValidationException):
        await client.update_state_machine(stateMachineArn=sm)


async def test_a_deleted_machine_is_gone_but_its_running_executions_finish(
    engine: Engine, client: Client
) -> None:
    sm = await machine(client, chain(("Wait", {"Type": "Wait", "Seconds": 1})))
    started = await client.start_execution(stateMachineArn=sm, input="{}")
    assert await client.delete_state_machine(stateMachineArn=sm) == {}
    with pytest.raises(sfn.StateMachineDoesNotExist):
        await client.describe_state_machine(stateMachineArn=sm)
    with pytest.raises(sfn.StateMachineDoesNotExist):
        await client.list_executions(stateMachineArn=sm)
    assert (await engine.wait(started["executionArn"], seconds=10)).status == "SUCCEEDED"


async def test_state_machines_list_in_pages(client: Client) -> None:
    for name in ("c", "a", "b"):
        await client.create_state_machine(name=name, definition=json.dumps(PASS), roleArn=ROLE)
    first = await client.list_state_machines(maxResults=2)
    rest = await client.list_state_machines(maxResults=2, nextToken=first["nextToken"])
    assert [m["name"] for m in first["stateMachines"] + rest["stateMachines"]] == ["a", "b", "c"]
    assert "nextToken" not in rest


async def test_activities_are_created_once_described_listed_and_deleted(client: Client) -> None:
    created = await client.create_activity(name="pack")
    assert await client.create_activity(name="pack") == created
    arn = created["activityArn"]
    assert arn == "arn:aws:states:us-east-1:123456789012:activity:pack"
    assert (await client.describe_activity(activityArn=arn))["name"] == "pack"
    assert [a["name"] for a in (await client.list_activities())["activities"]] == ["pack"]
    await client.delete_activity(activityArn=arn)
    with pytest.raises(sfn.ActivityDoesNotExist):
        await client.describe_activity(activityArn=arn)
