"""Leases in one process: when a worker stops without handing its executions back, another takes them over
once the leases expire, re-arms their timers and re-invokes their tasks with the same idempotency keys."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from stepdance.engine import Client, Engine, TaskContext
from stepdance.settings import Settings
from stepdance.store import Change, Store
from tests.engine.machines import ROLE, chain, task

SETTINGS = Settings(lease_seconds=1.0, poll_seconds=0.05)


async def test_a_second_worker_finishes_what_a_dead_one_left(store: Store) -> None:
    definition = chain(
        ("Work", task("work", ResultPath="$.work")),
        ("Pause", {"Type": "Wait", "Seconds": 1}),
        ("Done", task("done")),
    )
    first_keys: list[str] = []
    second_keys: list[str] = []
    all_invoked = asyncio.Event()

    async def stuck(payload: Any, context: TaskContext) -> None:
        first_keys.append(context.idempotency_key)
        if len(first_keys) == 3:
            all_invoked.set()
        await asyncio.Event().wait()

    def work(payload: Any, context: TaskContext) -> str:
        second_keys.append(context.idempotency_key)
        return "worked"

    dead = Engine(store, SETTINGS, owner="dead")
    dead.register("work", stuck)
    await dead.start()
    client = Client(dead)
    sm = (await client.create_state_machine(name="m", definition=json.dumps(definition), roleArn=ROLE))[
        "stateMachineArn"
    ]
    arns = [(await client.start_execution(stateMachineArn=sm, input="{}"))["executionArn"] for _ in range(3)]
    await asyncio.wait_for(all_invoked.wait(), 10)
    await dead.stop(release_leases=False)

    async with Engine(store, SETTINGS, owner="alive") as alive:
        alive.register("work", work)
        alive.register("done", lambda payload: payload)
        records = [await alive.wait(arn, seconds=15) for arn in arns]
    assert [r.status for r in records] == ["SUCCEEDED"] * 3
    assert all(json.loads(r.output or "") == {"work": "worked"} for r in records)
    assert sorted(second_keys) == sorted(first_keys)


async def test_a_worker_hands_its_executions_back_when_it_stops(store: Store) -> None:
    definition = chain(("Pause", {"Type": "Wait", "Seconds": 1}))
    leaving = Engine(store, Settings(lease_seconds=60.0, poll_seconds=0.05), owner="leaving")
    await leaving.start()
    client = Client(leaving)
    sm = (await client.create_state_machine(name="m", definition=json.dumps(definition), roleArn=ROLE))[
        "stateMachineArn"
    ]
    arn = (await client.start_execution(stateMachineArn=sm, input="{}"))["executionArn"]
    await leaving.stop()
    async with Engine(store, SETTINGS, owner="staying") as staying:
        record = await staying.wait(arn, seconds=10)  # long before the 60 s lease would have expired
    assert (record.status, record.owner) == ("SUCCEEDED", "staying")


async def test_a_refused_change_reloads_the_execution_from_the_store(store: Store) -> None:
    async with Engine(store, SETTINGS, owner="me") as engine:
        client = Client(engine)
        activity = (await client.create_activity(name="pack"))["activityArn"]
        definition = chain(("Pack", task(activity)))
        sm = (await client.create_state_machine(name="m", definition=json.dumps(definition), roleArn=ROLE))[
            "stateMachineArn"
        ]
        arn = (await client.start_execution(stateMachineArn=sm, input="{}"))["executionArn"]
        polled = await client.get_activity_task(activityArn=activity, workerName="w")
        # Someone else moves the row on behind the actor's back: its next change is refused.
        record = store.get_execution(arn)
        assert store.commit([Change(arn, record.version, "me")]) == [None]
        await client.send_task_success(taskToken=polled["taskToken"], output='"packed"')
        final = await engine.wait(arn, seconds=10)
    assert (final.status, final.output) == ("SUCCEEDED", '"packed"')
