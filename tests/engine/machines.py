"""State machines and helpers the engine tests share."""

from __future__ import annotations

import json
from typing import Any

from stepdance.engine import Client, Engine

ROLE = "arn:aws:iam::123456789012:role/stepdance"


def task(resource: str, **fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": resource, **fields}


def chain(*states: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """A machine running ``states`` one after the other."""
    body: dict[str, Any] = {}
    for (name, state), following in zip(states, [*[s[0] for s in states[1:]], None], strict=True):
        body[name] = {**state, **({"Next": following} if following else {"End": True})}
    return {"StartAt": states[0][0], "States": body}


SAGA = chain(
    ("Charge", task("charge", ResultPath="$.payment")),
    ("Reserve", task("reserve", ResultPath="$.reservation")),
    ("Notify", task("notify", ResultPath=None)),
)


async def machine(client: Client, definition: dict[str, Any], name: str = "m") -> str:
    created = await client.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)
    return str(created["stateMachineArn"])


async def run(
    client: Client, engine: Engine, sm_arn: str, input: Any = None, name: str | None = None
) -> dict[str, Any]:
    """Start an execution, wait for its end, and describe it."""
    args: dict[str, Any] = {
        "stateMachineArn": sm_arn,
        "input": json.dumps(input if input is not None else {}),
    }
    if name:
        args["name"] = name
    started = await client.start_execution(**args)
    await engine.wait(started["executionArn"], seconds=20)
    return await client.describe_execution(executionArn=started["executionArn"])


async def history(client: Client, arn: str) -> list[dict[str, Any]]:
    return list((await client.get_execution_history(executionArn=arn, maxResults=1000))["events"])


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]
