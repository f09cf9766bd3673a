"""HTTP endpoints and state machines as targets: what they receive, which answers are retried, and that a
redelivered event starts no second execution."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from stepdance.bus import Bus, Client, names
from stepdance.bus.targets import DeliveryContext, execution_name
from stepdance.engine import Client as EngineClient
from stepdance.engine import Engine
from stepdance.settings import Settings
from stepdance.store import open_store
from tests.bus.core_fixtures import entry, eventually


class Endpoint:
    """A local HTTP server answering each POST with the next status of ``statuses`` (then 200)."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.requests: list[tuple[dict[str, str], bytes]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                endpoint.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(endpoint.statuses.pop(0) if endpoint.statuses else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    served = Endpoint()
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()


async def http_rule(events: Client, bus_name: str, url: str, **target: Any) -> None:
    await events.put_rule(Name="hook", EventBusName=bus_name, EventPattern=json.dumps({"source": ["shop"]}))
    await events.put_targets(Rule="hook", EventBusName=bus_name, Targets=[{"Id": "h", "Arn": url, **target}])


async def test_an_http_target_gets_the_event_posted_and_5xx_is_retried(
    events: Client, bus_name: str, endpoint: Endpoint
) -> None:
    endpoint.statuses = [503, 429]
    await http_rule(events, bus_name, endpoint.url, InputPath="$.detail")
    answer = await events.put_events(Entries=[entry(bus_name, {"order": "o-1"})])
    await eventually(lambda: len(endpoint.requests) == 3)
    headers, body = endpoint.requests[-1]
    assert json.loads(body) == {"order": "o-1"}
    assert headers["content-type"] == "application/json"
    assert headers["x-event-id"] == answer["Entries"][0]["EventId"]
    assert headers["correlation-id"] == answer["Entries"][0]["EventId"]
    assert headers["traceparent"].startswith("00-")
    assert (await events.list_dead_letters())["DeadLetters"] == []


async def test_an_http_4xx_is_not_retried(events: Client, bus_name: str, endpoint: Endpoint) -> None:
    endpoint.statuses = [400]
    await http_rule(events, bus_name, endpoint.url)
    await events.put_events(Entries=[entry(bus_name)])
    letters = await eventually(lambda: _letters(events))
    assert len(endpoint.requests) == 1
    assert letters[0]["ErrorCode"] == "HTTP400" and letters[0]["Attempts"] == 1


async def test_an_unreachable_endpoint_is_retried_then_dead_lettered(events: Client, bus_name: str) -> None:
    await http_rule(events, bus_name, "http://127.0.0.1:9/nothing", RetryPolicy={"MaximumRetryAttempts": 1})
    await events.put_events(Entries=[entry(bus_name)])
    letters = await eventually(lambda: _letters(events))
    assert letters[0]["ErrorCode"] == "ConnectionError" and letters[0]["Attempts"] == 2


async def _letters(events: Client) -> list[dict[str, Any]]:
    return list((await events.list_dead_letters())["DeadLetters"])


PASS = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})


@pytest.fixture
async def engine_client() -> AsyncIterator[EngineClient]:
    engine = Engine(open_store("memory://"), Settings(poll_seconds=0.05))
    await engine.start()
    yield EngineClient(engine)
    await engine.stop()


async def test_a_state_machine_target_starts_one_execution_per_event(
    bus: Bus, events: Client, bus_name: str, engine_client: EngineClient
) -> None:
    bus.engine_client = engine_client
    created = await engine_client.create_state_machine(
        name="saga", definition=PASS, roleArn="arn:aws:iam::1:role/r"
    )
    machine = created["stateMachineArn"]
    await events.put_rule(Name="start", EventBusName=bus_name, EventPattern=json.dumps({"source": ["shop"]}))
    target = {"Id": "sfn", "Arn": machine, "InputPath": "$.detail"}
    await events.put_targets(Rule="start", EventBusName=bus_name, Targets=[target])
    answer = await events.put_events(Entries=[entry(bus_name, {"order": "o-1"})])
    event_id = answer["Entries"][0]["EventId"]

    async def executions() -> list[dict[str, Any]]:
        return list((await engine_client.list_executions(stateMachineArn=machine))["executions"])

    [execution] = await eventually(executions)
    assert execution["name"].startswith(event_id)
    described = await engine_client.describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"]) == {"order": "o-1"}

    # the same event delivered again (a crash before the ack, a redrive) names the same execution
    definitions = await bus.fresh()
    _rule, found = definitions.target((bus_name, "start", "sfn")) or (None, None)
    assert found is not None
    event = {"id": event_id, "detail": {"order": "o-1"}}
    context = DeliveryContext(event, bus_name, "start", "sfn", attempt=2)
    await eventually(lambda: _finished(engine_client, execution["executionArn"]))
    await bus.invoke(found, '{"order": "o-1"}', context)
    await asyncio.sleep(0.1)
    assert len(await executions()) == 1
    assert execution_name(context) == execution["name"]
    replayed = DeliveryContext({**event, "replay-name": "r1"}, bus_name, "start", "sfn", attempt=1)
    assert execution_name(replayed) != execution["name"]  # a replay is meant to run it again


async def _finished(client: EngineClient, arn: str) -> bool:
    return (await client.describe_execution(executionArn=arn))["status"] != "RUNNING"


def test_state_machine_targets_are_served_only_with_an_engine(bus: Bus) -> None:
    from stepdance.bus.definitions import Target
    from stepdance.bus.retry import RetryPolicy
    from stepdance.bus.transform import TargetInput

    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:saga"
    target = Target("default", "r", "t", arn, TargetInput(), RetryPolicy(), {})
    assert not bus.can_serve(target)
    assert names.target_group("r", "t") == target.group
