"""Python handlers as task targets: sync and async, failures, retries, idempotency keys, Lambda shapes."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
from typing import Any

from stepdance.asl.protocol import InvokeTask
from stepdance.engine import Client, Engine, TaskContext, TaskFailure, idempotency_key
from stepdance.engine.handlers import Handlers
from stepdance.engine.invoker import Invoker
from tests.engine.machines import chain, history, machine, run, task, types


async def test_sync_handlers_run_off_the_loop_and_async_ones_on_it(engine: Engine, client: Client) -> None:
    seen: dict[str, Any] = {}

    def sync(payload: Any) -> str:
        seen["sync"] = threading.current_thread() is threading.main_thread()
        return "s"

    async def nonblocking(payload: Any) -> str:
        seen["async"] = threading.current_thread() is threading.main_thread()
        await asyncio.sleep(0)
        return "a"

    engine.register("sync", sync)
    engine.register("async", nonblocking)
    sm = await machine(
        client, chain(("S", task("sync", ResultPath="$.s")), ("A", task("async", ResultPath="$.a")))
    )
    described = await run(client, engine, sm)
    assert json.loads(described["output"]) == {"s": "s", "a": "a"}
    assert seen == {"sync": False, "async": True}


async def test_a_handler_gets_a_context_with_a_stable_idempotency_key(engine: Engine, client: Client) -> None:
    contexts: list[TaskContext] = []

    @engine.register("charge")
    def charge(payload: Any, context: TaskContext) -> dict[str, str]:
        contexts.append(context)
        return {"key": context.idempotency_key}

    sm = await machine(client, chain(("Charge", task("charge"))))
    described = await run(client, engine, sm)
    (context,) = contexts
    assert context.execution_arn == described["executionArn"]
    assert (context.state_name, context.resource, context.token) == ("Charge", "charge", None)
    assert context.idempotency_key == idempotency_key(described["executionArn"], context.task_id)
    assert json.loads(described["output"]) == {"key": context.idempotency_key}


async def test_a_task_failure_is_caught_by_its_error_name(engine: Engine, client: Client) -> None:
    def reserve(payload: Any) -> None:
        raise TaskFailure("OutOfStock", "none left")

    engine.register("reserve", reserve)
    engine.register("refund", lambda payload: "refunded")
    caught = {"ErrorEquals": ["OutOfStock"], "ResultPath": "$.error", "Next": "Refund"}
    definition = {
        "StartAt": "Reserve",
        "States": {
            "Reserve": task("reserve", Catch=[caught], End=True),
            "Refund": task("refund", ResultPath="$.refund", End=True),
        },
    }
    sm = await machine(client, definition)
    described = await run(client, engine, sm)
    output = json.loads(described["output"])
    assert output["error"] == {"Error": "OutOfStock", "Cause": "none left"}
    assert output["refund"] == "refunded"


async def test_a_resource_without_a_handler_fails_the_task(engine: Engine, client: Client) -> None:
    sm = await machine(client, chain(("Nobody", task("nobody"))))
    described = await run(client, engine, sm)
    assert (described["status"], described["error"]) == ("FAILED", "States.TaskFailed")
    assert "No handler registered for nobody" in described["cause"]


async def test_a_retry_waits_out_its_backoff_then_succeeds(engine: Engine, client: Client) -> None:
    attempts: list[str] = []

    def flaky(payload: Any, context: TaskContext) -> str:
        attempts.append(context.task_id)
        if len(attempts) < 2:
            raise TaskFailure("Busy")
        return "done"

    engine.register("flaky", flaky)
    retry = [{"ErrorEquals": ["Busy"], "IntervalSeconds": 1, "MaxAttempts": 3}]
    sm = await machine(client, chain(("Flaky", task("flaky", Retry=retry))))
    described = await run(client, engine, sm)
    assert (described["status"], described["output"]) == ("SUCCEEDED", '"done"')
    assert len(attempts) == 2 and attempts[0] != attempts[1]  # each attempt is a new task, a new key
    events = await history(client, described["executionArn"])
    assert types(events).count("TaskScheduled") == 2


async def test_lambda_functions_resolve_by_name_and_invoke_wraps_the_payload(
    engine: Engine, client: Client
) -> None:
    engine.register("charge", lambda payload: {"got": payload})
    arn = "arn:aws:lambda:us-east-1:123456789012:function:charge"
    invoke = {"FunctionName": arn, "Payload": {"amount.$": "$.amount"}}
    sm = await machine(
        client,
        chain(
            ("Direct", task(arn, ResultPath="$.direct")),
            (
                "Invoke",
                task(
                    "arn:aws:states:::lambda:invoke",
                    Parameters=invoke,
                    ResultSelector={"p.$": "$.Payload"},
                    ResultPath="$.invoked",
                ),
            ),
        ),
    )
    described = await run(client, engine, sm, {"amount": 3})
    output = json.loads(described["output"])
    assert output["direct"] == {"got": {"amount": 3}}
    assert output["invoked"] == {"p": {"got": {"amount": 3}}}


async def test_parallel_branches_and_map_items_run_their_tasks_concurrently(
    engine: Engine, client: Client
) -> None:
    both = asyncio.Event()
    arrived: list[int] = []

    async def meet(payload: int) -> int:
        arrived.append(payload)
        if len(arrived) == 3:
            both.set()
        await asyncio.wait_for(both.wait(), 5)  # only returns if all three run at the same time
        return payload * 10

    engine.register("meet", meet)
    item = {"StartAt": "Meet", "States": {"Meet": task("meet", End=True)}}
    sm = await machine(
        client, chain(("Each", {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": item}))
    )
    described = await run(client, engine, sm, {"items": [1, 2, 3]})
    assert json.loads(described["output"]) == [10, 20, 30]


async def test_a_handler_past_its_timeout_fails_the_task_and_is_cancelled(
    engine: Engine, client: Client
) -> None:
    cancelled = asyncio.Event()

    async def hang(payload: Any) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    engine.register("hang", hang)
    sm = await machine(client, chain(("Hang", task("hang", TimeoutSeconds=1))))
    described = await run(client, engine, sm)
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
    await asyncio.wait_for(cancelled.wait(), 5)
    assert "TaskTimedOut" in types(await history(client, described["executionArn"]))


async def test_an_invoker_stopped_before_its_async_handlers_start_leaves_no_coroutine_unawaited() -> None:
    handlers = Handlers()

    async def slow(_: Any) -> None:
        await asyncio.sleep(60)

    handlers.register("slow", slow)
    invoker = Invoker(handlers, 1, lambda *_: None)
    for i in range(5):
        invoker.start(
            f"arn-{i}", InvokeTask(task_id="t", kind="handler", resource="slow", payload={}, state_name="S")
        )
    tasks = invoker.stop()  # in the same tick: none of the handlers' tasks has started
    await asyncio.gather(*tasks, return_exceptions=True)
    gc.collect()  # a coroutine never awaited warns when collected; warnings are errors here
