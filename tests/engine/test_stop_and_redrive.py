"""StopExecution aborts a running execution; RedriveExecution resumes a failed one from its failed state."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stepdance.engine import Client, Engine
from stepdance.engine import errors as sfn
from tests.engine.machines import chain, history, machine, run, task, types


async def test_a_stopped_execution_is_aborted_and_its_tokens_closed(engine: Engine, client: Client) -> None:
    activity = (await client.create_activity(name="slow"))["activityArn"]
    sm = await machine(client, chain(("Slow", task(activity))))
    started = await client.start_execution(stateMachineArn=sm, input="{}")
    polled = await client.get_activity_task(activityArn=activity)
    stopped = await client.stop_execution(
        executionArn=started["executionArn"], error="Cancelled", cause="by the user"
    )
    described = await client.describe_execution(executionArn=started["executionArn"])
    assert (described["status"], described["error"], described["cause"]) == (
        "ABORTED",
        "Cancelled",
        "by the user",
    )
    assert described["stopDate"] == stopped["stopDate"]
    assert types(await history(client, started["executionArn"]))[-1] == "ExecutionAborted"
    with pytest.raises(sfn.TaskTimedOut):
        await client.send_task_success(taskToken=polled["taskToken"], output="{}")
    again = await client.stop_execution(executionArn=started["executionArn"])
    assert again["stopDate"] == stopped["stopDate"]


async def test_a_failed_execution_is_redriven_from_the_state_that_failed(
    engine: Engine, client: Client
) -> None:
    calls: list[str] = []

    def first(payload: Any) -> str:
        calls.append("first")
        return "one"

    def second(payload: Any) -> str:
        calls.append("second")
        if calls.count("second") == 1:
            raise RuntimeError("down")
        return "two"

    engine.register("first", first)
    engine.register("second", second)
    sm = await machine(
        client,
        chain(("First", task("first", ResultPath="$.a")), ("Second", task("second", ResultPath="$.b"))),
    )
    failed = await run(client, engine, sm)
    assert failed["status"] == "FAILED"
    redriven = await client.redrive_execution(executionArn=failed["executionArn"])
    record = await engine.wait(failed["executionArn"], seconds=10)
    assert (record.status, json.loads(record.output or "")) == ("SUCCEEDED", {"a": "one", "b": "two"})
    assert calls == ["first", "second", "second"]
    described = await client.describe_execution(executionArn=failed["executionArn"])
    assert (described["redriveCount"], described["redriveDate"]) == (1, redriven["redriveDate"])
    assert "ExecutionRedriven" in types(await history(client, failed["executionArn"]))
    with pytest.raises(sfn.ExecutionNotRedrivable):
        await client.redrive_execution(executionArn=failed["executionArn"])


async def test_a_redrive_the_interpreter_cannot_resume_leaves_the_execution_as_it_ended(
    engine: Engine, client: Client
) -> None:
    sm = await machine(client, chain(("Pause", {"Type": "Wait", "Seconds": 1})))
    started = await client.start_execution(stateMachineArn=sm, input="{}")
    await client.stop_execution(executionArn=started["executionArn"])
    before = await client.describe_execution(executionArn=started["executionArn"])
    try:
        await client.redrive_execution(executionArn=started["executionArn"])
    except sfn.ExecutionNotRedrivable:
        assert await client.describe_execution(executionArn=started["executionArn"]) == before
    else:  # an interpreter that resumes aborted executions: then it must run to its end
        record = await engine.wait(started["executionArn"], seconds=10)
        assert (record.status, record.redrive_count) == ("SUCCEEDED", 1)
