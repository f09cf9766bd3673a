"""Running executions through the client, on every store: outcomes, history, listing, idempotency."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import pytest

from stepdance.engine import Client, Engine
from stepdance.engine import errors as sfn
from tests.engine.machines import SAGA, chain, history, machine, run, task, types


def saga_handlers(engine: Engine) -> None:
    engine.register("charge", lambda order: {"charged": order["amount"]})
    engine.register("reserve", lambda order: {"sku": order["sku"]})
    engine.register("notify", lambda order: None)


async def test_a_saga_succeeds_with_the_output_and_history_aws_gives(engine: Engine, client: Client) -> None:
    saga_handlers(engine)
    sm = await machine(client, SAGA)
    described = await run(client, engine, sm, {"amount": 5, "sku": "x"}, name="order-1")
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {
        "amount": 5,
        "sku": "x",
        "payment": {"charged": 5},
        "reservation": {"sku": "x"},
    }
    assert isinstance(described["startDate"], datetime) and described["stopDate"] >= described["startDate"]
    assert described["name"] == "order-1"
    assert described["executionArn"].endswith(":execution:m:order-1")
    events = await history(client, described["executionArn"])
    assert types(events)[:6] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
    ]
    assert types(events)[-1] == "ExecutionSucceeded"
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert all(isinstance(e["timestamp"], datetime) for e in events)


async def test_a_failing_handler_fails_the_execution_with_its_error(engine: Engine, client: Client) -> None:
    def charge(order: dict[str, int]) -> None:
        raise ValueError("card declined")

    engine.register("charge", charge)
    sm = await machine(client, chain(("Charge", task("charge"))))
    described = await run(client, engine, sm)
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "ValueError",
        "card declined",
    )
    assert described["redriveStatus"] == "REDRIVABLE"


async def test_starting_again_with_the_same_name_and_input_returns_the_same_execution(
    engine: Engine, client: Client
) -> None:
    engine.register("slow", _never_returns)
    sm = await machine(client, chain(("Slow", task("slow"))))
    first = await client.start_execution(stateMachineArn=sm, name="once", input='{"a":1}')
    again = await client.start_execution(stateMachineArn=sm, name="once", input='{"a":1}')
    assert again == first
    with pytest.raises(sfn.ExecutionAlreadyExists):
        await client.start_execution(stateMachineArn=sm, name="once", input='{"a":2}')
    listed = await client.list_executions(stateMachineArn=sm)
    assert len(listed["executions"]) == 1


async def _never_returns(payload: object) -> None:
    import asyncio

    await asyncio.Event().wait()


async def test_a_finished_execution_name_cannot_be_reused(engine: Engine, client: Client) -> None:
    sm = await machine(client, chain(("Done", {"Type": "Pass"})))
    await run(client, engine, sm, name="done")
    with pytest.raises(sfn.ExecutionAlreadyExists):
        await client.start_execution(stateMachineArn=sm, name="done", input="{}")


async def test_bad_requests_get_aws_errors(client: Client) -> None:
    sm = await machine(client, chain(("Done", {"Type": "Pass"})))
    with pytest.raises(sfn.InvalidExecutionInput):
        await client.start_execution(stateMachineArn=sm, input="{not json")
    with pytest.raises(sfn.InvalidName):
        await client.start_execution(stateMachineArn=sm, name="has space", input="{}")
    with pytest.raises(sfn.InvalidArn):
        await client.describe_execution(executionArn="arn:nope")
    with pytest.raises(sfn.InvalidArn):
        await client.describe_execution(executionArn=sm)
    missing = sm.replace(":stateMachine:m", ":execution:m:missing")
    with pytest.raises(sfn.ExecutionDoesNotExist) as raised:
        await client.describe_execution(executionArn=missing)
    assert raised.value.response["Error"] == {
        "Code": "ExecutionDoesNotExist",
        "Message": f"Execution Does Not Exist: '{missing}'",
    }
    with pytest.raises(sfn.StateMachineDoesNotExist):
        await client.start_execution(stateMachineArn=sm + "x", input="{}")


async def test_an_input_over_256_kib_is_refused(client: Client) -> None:
    sm = await machine(client, chain(("Done", {"Type": "Pass"})))
    with pytest.raises(sfn.ValidationException, match="262144"):
        await client.start_execution(stateMachineArn=sm, input=json.dumps({"x": "a" * 262_144}))


async def test_a_result_over_256_kib_fails_with_data_limit_exceeded(engine: Engine, client: Client) -> None:
    engine.register("big", lambda _: "a" * 262_145)
    sm = await machine(client, chain(("Big", task("big"))))
    described = await run(client, engine, sm)
    assert (described["status"], described["error"]) == ("FAILED", "States.DataLimitExceeded")


async def test_history_pages_forwards_and_in_reverse(engine: Engine, client: Client) -> None:
    saga_handlers(engine)
    sm = await machine(client, SAGA)
    arn = (await run(client, engine, sm, {"amount": 1, "sku": "s"}))["executionArn"]
    everything = [e["id"] for e in await history(client, arn)]
    pages, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {}
        page = await client.get_execution_history(executionArn=arn, maxResults=4, reverseOrder=True, **kwargs)
        pages.append([e["id"] for e in page["events"]])
        token = page.get("nextToken")
        if token is None:
            break
    assert [i for p in pages for i in p] == everything[::-1]
    assert all(len(p) == 4 for p in pages[:-1])
    with pytest.raises(sfn.InvalidToken):
        await client.get_execution_history(executionArn=arn, nextToken="bogus")


async def test_executions_list_newest_first_by_status_in_pages(engine: Engine, client: Client) -> None:
    def charge(order: dict[str, int]) -> dict[str, int]:
        if order["n"] % 3 == 0:
            raise RuntimeError("no")
        return order

    engine.register("charge", charge)
    sm = await machine(client, chain(("Charge", task("charge"))))
    for n in range(7):
        await run(client, engine, sm, {"n": n}, name=f"e{n}")
    names, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {}
        page = await client.list_executions(stateMachineArn=sm, maxResults=3, **kwargs)
        names += [e["name"] for e in page["executions"]]
        token = page.get("nextToken")
        if token is None:
            break
    assert names == [f"e{n}" for n in reversed(range(7))]
    failed = await client.list_executions(stateMachineArn=sm, statusFilter="FAILED")
    assert [e["name"] for e in failed["executions"]] == ["e6", "e3", "e0"]
    assert set(failed["executions"][0]) >= {
        "executionArn",
        "stateMachineArn",
        "name",
        "status",
        "startDate",
        "stopDate",
    }
    with pytest.raises(sfn.ValidationException):
        await client.list_executions(stateMachineArn=sm, maxResults=1001)


async def test_a_history_that_reaches_25000_events_fails_the_execution(
    engine: Engine, client: Client
) -> None:
    each = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    sm = await machine(
        client, chain(("Each", {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": each}))
    )
    described = await run(client, engine, sm, {"items": list(range(7000))})
    assert described["status"] == "FAILED"
    assert described["cause"] == "The execution reached the maximum number of history events (25000)."
    last = await client.get_execution_history(
        executionArn=described["executionArn"], maxResults=1, reverseOrder=True
    )
    assert last["events"][0]["id"] == 25_000


async def test_waiting_leaves_nothing_behind(engine: Engine, client: Client) -> None:
    saga_handlers(engine)
    passing = await machine(client, chain(("Only", {"Type": "Pass"})), name="pass")
    saga = await machine(client, SAGA)
    await run(client, engine, passing)  # ends inside StartExecution: the waiter reads the store
    started = await client.start_execution(stateMachineArn=saga, input=json.dumps({"amount": 1, "sku": "x"}))
    arn = started["executionArn"]
    first, second = await asyncio.gather(engine.wait(arn, seconds=20), engine.wait(arn, seconds=20))
    assert first.status == second.status == "SUCCEEDED"
    never = asyncio.Event()

    async def slow(_: object) -> None:
        await never.wait()

    engine.register("slow", slow)
    hanging = await machine(client, chain(("Slow", task("slow"))), name="slow")
    started = await client.start_execution(stateMachineArn=hanging)
    with pytest.raises(TimeoutError):
        await engine.wait(started["executionArn"], seconds=0.05)
    # Every waiter registered itself to be woken; none is left registered once they all returned.
    assert (engine._finished, engine._final) == ({}, {})
