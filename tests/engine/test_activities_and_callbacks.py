"""Activities (workers long-poll, heartbeat, answer) and .waitForTaskToken callbacks, by task token."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from stepdance.engine import Client, Engine, TaskContext
from stepdance.engine import errors as sfn
from tests.engine.machines import chain, history, machine, task, types


async def activity_machine(client: Client, **fields: Any) -> tuple[str, str]:
    activity = (await client.create_activity(name="pack"))["activityArn"]
    return activity, await machine(client, chain(("Pack", task(activity, **fields))))


async def test_a_worker_polls_an_activity_task_and_answers_it(engine: Engine, client: Client) -> None:
    activity, sm = await activity_machine(client, HeartbeatSeconds=30, TimeoutSeconds=60)
    started = await client.start_execution(stateMachineArn=sm, input='{"order": 7}')
    polled = await client.get_activity_task(activityArn=activity, workerName="packer-1")
    assert json.loads(polled["input"]) == {"order": 7}
    assert await client.send_task_heartbeat(taskToken=polled["taskToken"]) == {}
    assert await client.send_task_success(taskToken=polled["taskToken"], output='{"packed": true}') == {}
    record = await engine.wait(started["executionArn"], seconds=10)
    assert (record.status, record.output) == ("SUCCEEDED", '{"packed":true}')
    events = await history(client, started["executionArn"])
    assert types(events)[2:5] == ["ActivityScheduled", "ActivityStarted", "ActivitySucceeded"]
    assert events[3]["activityStartedEventDetails"] == {"workerName": "packer-1"}
    with pytest.raises(sfn.TaskTimedOut):
        await client.send_task_success(taskToken=polled["taskToken"], output="{}")
    with pytest.raises(sfn.InvalidToken):
        await client.send_task_success(taskToken="not-a-token", output="{}")


async def test_an_activity_failure_fails_the_task(engine: Engine, client: Client) -> None:
    activity, sm = await activity_machine(client)
    started = await client.start_execution(stateMachineArn=sm, input="{}")
    polled = await client.get_activity_task(activityArn=activity)
    await client.send_task_failure(taskToken=polled["taskToken"], error="Broken", cause="dropped it")
    record = await engine.wait(started["executionArn"], seconds=10)
    assert (record.status, record.error, record.cause) == ("FAILED", "Broken", "dropped it")


async def test_a_long_poll_returns_as_soon_as_a_task_is_scheduled(engine: Engine, client: Client) -> None:
    activity, sm = await activity_machine(client)
    client.activity_poll_seconds = 30.0
    poll = asyncio.create_task(client.get_activity_task(activityArn=activity))
    await asyncio.sleep(0.1)
    began = time.monotonic()
    await client.start_execution(stateMachineArn=sm, input='{"n": 1}')
    polled = await asyncio.wait_for(poll, 5)
    assert json.loads(polled["input"]) == {"n": 1}
    assert time.monotonic() - began < 2


async def test_a_long_poll_without_work_comes_back_empty(client: Client) -> None:
    activity = (await client.create_activity(name="idle"))["activityArn"]
    assert await client.get_activity_task(activityArn=activity) == {}
    with pytest.raises(sfn.ActivityDoesNotExist):
        await client.get_activity_task(activityArn=activity + "-missing")


async def test_a_worker_that_stops_heartbeating_times_the_task_out(engine: Engine, client: Client) -> None:
    activity, sm = await activity_machine(client, HeartbeatSeconds=1)
    started = await client.start_execution(stateMachineArn=sm, input="{}")
    polled = await client.get_activity_task(activityArn=activity)
    record = await engine.wait(started["executionArn"], seconds=10)
    assert (record.status, record.error) == ("FAILED", "States.HeartbeatTimeout")
    with pytest.raises(sfn.TaskTimedOut):
        await client.send_task_heartbeat(taskToken=polled["taskToken"])


async def test_a_callback_handler_gets_the_token_and_the_execution_waits_for_it(
    engine: Engine, client: Client
) -> None:
    handed: asyncio.Queue[tuple[Any, TaskContext]] = asyncio.Queue()

    @engine.register("arn:aws:states:::sqs:sendMessage")
    async def send(payload: Any, context: TaskContext) -> dict[str, str]:
        handed.put_nowait((payload, context))
        return {"MessageId": "m-1"}

    parameters = {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token", "order.$": "$.order"}}
    resource = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    sm = await machine(client, chain(("Ask", task(resource, Parameters=parameters))))
    started = await client.start_execution(stateMachineArn=sm, input='{"order": 3}')
    payload, context = await asyncio.wait_for(handed.get(), 10)
    assert payload["MessageBody"]["token"] == context.token
    assert payload["MessageBody"]["order"] == 3
    await client.send_task_success(taskToken=context.token or "", output='{"approved": true}')
    record = await engine.wait(started["executionArn"], seconds=10)
    assert (record.status, record.output) == ("SUCCEEDED", '{"approved":true}')


async def test_a_callback_failure_is_caught(engine: Engine, client: Client) -> None:
    tokens: asyncio.Queue[str] = asyncio.Queue()

    async def ask(payload: Any) -> None:
        tokens.put_nowait(payload["token"])

    engine.register("ask", ask)
    catch = [{"ErrorEquals": ["Rejected"], "ResultPath": "$.why", "Next": "Rejected"}]
    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": task(
                "ask.waitForTaskToken", Parameters={"token.$": "$$.Task.Token"}, Catch=catch, End=True
            ),
            "Rejected": {"Type": "Pass", "End": True},
        },
    }
    sm = await machine(client, definition)
    started = await client.start_execution(stateMachineArn=sm, input="{}")
    token = await asyncio.wait_for(tokens.get(), 10)
    await client.send_task_failure(taskToken=token, error="Rejected", cause="no budget")
    record = await engine.wait(started["executionArn"], seconds=10)
    assert record.status == "SUCCEEDED"
    assert json.loads(record.output or "")["why"] == {"Error": "Rejected", "Cause": "no budget"}


async def test_ending_the_polls_answers_a_waiting_long_poll_with_no_task(client: Client) -> None:
    activity, _ = await activity_machine(client)
    client.activity_poll_seconds = 60.0
    poll = asyncio.create_task(client.get_activity_task(activityArn=activity))
    await asyncio.sleep(0.1)  # the poll is waiting (nothing to observe: it holds no task)
    assert not poll.done()
    client.end_polls()  # what stepdance serve does on SIGTERM
    assert await asyncio.wait_for(poll, 5) == {}
    assert await client.get_activity_task(activityArn=activity) == {}  # and any poll after it
